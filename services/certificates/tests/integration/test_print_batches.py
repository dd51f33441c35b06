"""Print batches end to end on the real database (issue 8 "3. Printing"): asked over HTTP, rendered
by the background worker in its process pool, read back with poppler (pdfinfo, pdftotext) and
openpyxl as a printer's operator or a school would.

Certificates are inserted as issuing leaves them (a face, a number, a QR URL), so these tests are
about printing, not issuing. Every test runs its own worker and waits for its own batches; the
service's own worker, if the process started one, is paused for the module.
"""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.certificates.batches.files import PRINTER_FILE, batch_directory
from services.certificates.batches.worker import PrintWorker, print_worker_of
from services.certificates.models import (
    AuditEntry,
    PrintBatch,
    PrintBatchItem,
)
from services.certificates.tests.integration.approved_lists import approved_list, issued_certificate
from services.certificates.tests.integration.conftest import (
    PROVINCE,
    Area,
    RunningCertificates,
    id_photo_jpeg,
)
from shared.auth import Role
from shared.testing import eventually

pytestmark = pytest.mark.integration

YEAR = 2027
NAMES = ["王𬌗", "李䶮", "张三", "赵𠮷", "陈丽", "刘强", "周敏", "吴昊", "郑𬀩"]
MM = 72 / 25.4


@dataclass(frozen=True)
class Issued:
    id: str
    number: str
    name: str
    student_id: str


@pytest.fixture(scope="module", autouse=True)
async def service_worker_paused(certificates: RunningCertificates) -> AsyncIterator[None]:
    """The service's own worker (startup.py) would take these tests' chunks; each test runs one
    it controls instead."""
    worker = print_worker_of(certificates.ctx)
    if worker is not None:
        await worker.stop()
    yield
    if worker is not None:
        worker.start()


@asynccontextmanager
async def running_worker(
    certificates: RunningCertificates, *, chunk_size: int = 3
) -> AsyncIterator[PrintWorker]:
    worker = PrintWorker(certificates.ctx, chunk_size=chunk_size, processes=2, interval=0.2)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


async def issue(
    certificates: RunningCertificates,
    area: Area,
    count: int,
    *,
    school: str | None = None,
    class_id: str = "c1",
) -> list[Issued]:
    """``count`` valid certificates of ``YEAR`` at the school, as issuing leaves them."""
    issued = []
    school_code = school or area.school
    for position in range(count):
        student = await certificates.seed_student(
            lineage=area.lineage(school_code), name=NAMES[position % len(NAMES)], class_id=class_id
        )
        certificates.peers.photos[student.student_id] = id_photo_jpeg(position)
        # Not a real number: the tests find these in the printed text by their own pattern.
        number = f"{YEAR}-{school_code}-{uuid.uuid4().hex[:10].upper()}"
        row = await issued_certificate(certificates, student, number=number, year=YEAR)
        issued.append(Issued(row.id, number, student.name, student.student_id))
    return issued


async def ask(certificates: RunningCertificates, headers: dict[str, str], **body: Any) -> Any:
    values = {"graduating_year": YEAR, "purpose": "issue"} | body
    response = await certificates.client.post("/api/v1/print-batches", json=values, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def finished(
    certificates: RunningCertificates, batch_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await certificates.client.get(f"/api/v1/print-batches/{batch_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["state"] in ("done", "failed") else None

    return await eventually(probe, within=120)


def pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def photos(pdf: bytes, tmp_path: Path) -> int:
    """JPEG images in the file (pdfimages -list, column ``enc``): the ID photos, embedded as they
    are; the QR symbol, if raster, is not a JPEG."""
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in listing.stdout.splitlines()[2:]]  # two header lines
    return sum(1 for row in rows if len(row) > 8 and row[8] == "jpeg")


def text_of(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


async def audit_entries(certificates: RunningCertificates, subject: str) -> list[AuditEntry]:
    async with certificates.ctx.sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.subject == subject)))


async def drain(certificates: RunningCertificates) -> None:
    """Render whatever earlier tests left queued, so a test counting chunks sees only its own."""
    async with running_worker(certificates):

        async def nothing_left() -> bool:
            async with certificates.ctx.sessionmaker() as session:
                left = await session.scalar(
                    select(func.count())
                    .select_from(PrintBatch)
                    .where(PrintBatch.state.in_(["queued", "running"]))
                )
            return left == 0

        await eventually(nothing_left, within=120)


# --- a school's batch -----------------------------------------------------------------------------


async def test_print_batch__a_school_batch_gives_a_file_per_student_and_the_printers_file(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    mine = await issue(certificates, area, 7)
    await issue(certificates, area, 2, school=area.other_school)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)

    asked = await ask(certificates, registrar, scope=area.school)
    early = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}/printer.pdf", headers=registrar
    )
    async with running_worker(certificates):
        batch = await finished(certificates, asked["id"], registrar)

    assert early.status_code == 409
    assert (batch["state"], batch["total"], batch["done"], batch["percent"]) == ("done", 7, 7, 100)
    assert batch["draft"] is False
    printer = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}/printer.pdf", headers=registrar
    )
    assert printer.status_code == 200, printer.text
    assert pages(printer.content, tmp_path) == 7
    assert photos(printer.content, tmp_path) == 7  # photo mode id_photo: each student's photo
    printed = text_of(printer.content, tmp_path)
    assert "草稿" not in printed
    # Print order is class then name; every certificate of the school once, none of the other's.
    assert sorted(i.number for i in mine) == sorted(
        re.findall(rf"{YEAR}-{area.school}-[0-9A-F]{{10}}", printed)
    )
    for one in mine:
        response = await certificates.client.get(
            f"/api/v1/print-batches/{asked['id']}/files/{one.number}.pdf", headers=registrar
        )
        assert response.status_code == 200, response.text
        assert pages(response.content, tmp_path) == 1
        assert one.number in text_of(response.content, tmp_path)
    entries = await audit_entries(certificates, asked["id"])
    assert [e.action for e in entries].count("print_batch.downloaded") == 1 + len(mine)
    assert not (batch_directory(certificates.settings.certificate_output_dir, asked["id"]) / "parts").exists()


async def test_print_batch__a_file_not_of_the_batch_is_not_served(
    certificates: RunningCertificates, area: Area
) -> None:
    await issue(certificates, area, 1)
    (stranger,) = await issue(certificates, area, 1, school=area.other_school)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    asked = await ask(certificates, registrar, scope=area.school)
    async with running_worker(certificates):
        await finished(certificates, asked["id"], registrar)

    base = f"/api/v1/print-batches/{asked['id']}/files"
    not_in_batch = await certificates.client.get(f"{base}/{stranger.number}.pdf", headers=registrar)
    traversal = await certificates.client.get(f"{base}/..%2F..%2Fprinter.pdf", headers=registrar)

    assert not_in_batch.status_code == 404
    assert traversal.status_code in (404, 422)


# --- resuming ---------------------------------------------------------------------------------------


async def test_print_batch__resumes_at_the_first_unrendered_chunk_after_a_stop(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    await drain(certificates)
    await issue(certificates, area, 8)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    asked = await ask(certificates, registrar, scope=area.school)
    directory = batch_directory(certificates.settings.certificate_output_dir, asked["id"])

    first = PrintWorker(certificates.ctx, chunk_size=3, processes=1)
    try:
        assert await first.render_next_chunk()
    finally:
        await first.stop()  # as a crash would: nothing joined, the batch left running
    halfway = await finished_or_state(certificates, asked["id"], registrar)
    first_files = {p.name: p.stat().st_mtime_ns for p in directory.glob("*.pdf")}

    async with running_worker(certificates):
        batch = await finished(certificates, asked["id"], registrar)

    assert (halfway["state"], halfway["done"], halfway["percent"]) == ("running", 3, 37)
    assert len(first_files) == 3
    assert batch["state"] == "done" and batch["done"] == 8
    # The first chunk was not rendered again; every item was rendered once.
    assert {name: (directory / name).stat().st_mtime_ns for name in first_files} == first_files
    assert len(list(directory.glob("*.pdf"))) == 8 + 1
    assert pages((directory / PRINTER_FILE).read_bytes(), tmp_path) == 8
    async with certificates.ctx.sessionmaker() as session:
        unrendered = await session.scalar(
            select(func.count())
            .select_from(PrintBatchItem)
            .where(PrintBatchItem.batch_id == asked["id"], PrintBatchItem.rendered_at.is_(None))
        )
    assert unrendered == 0


async def finished_or_state(certificates: RunningCertificates, batch_id: str, headers: dict[str, str]) -> Any:
    response = await certificates.client.get(f"/api/v1/print-batches/{batch_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_print_batch__a_chunk_locked_by_another_process_is_skipped(
    certificates: RunningCertificates, area: Area
) -> None:
    await drain(certificates)
    await issue(certificates, area, 6)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    asked = await ask(certificates, registrar, scope=area.school)
    worker = PrintWorker(certificates.ctx, chunk_size=3, processes=1)
    try:
        async with certificates.ctx.sessionmaker() as other_process:
            # Another process is rendering the first chunk: its rows are locked.
            await other_process.execute(
                select(PrintBatchItem)
                .where(PrintBatchItem.batch_id == asked["id"], PrintBatchItem.seq < 3)
                .with_for_update()
            )
            assert await worker.render_next_chunk()
            await other_process.rollback()
    finally:
        await worker.stop()
    async with certificates.ctx.sessionmaker() as session:
        rendered = set(
            await session.scalars(
                select(PrintBatchItem.seq).where(
                    PrintBatchItem.batch_id == asked["id"], PrintBatchItem.rendered_at.is_not(None)
                )
            )
        )
    assert rendered == {3, 4, 5}
    await drain(certificates)


# --- reprints, bureaus, jurisdiction ----------------------------------------------------------------


async def test_print_batch__a_reprint_needs_a_reason_and_is_audited(
    certificates: RunningCertificates, area: Area
) -> None:
    issued = await issue(certificates, area, 3)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    body = {
        "scope": area.school,
        "graduating_year": YEAR,
        "purpose": "reprint",
        "certificate_ids": [issued[1].id],
    }

    without = await certificates.client.post("/api/v1/print-batches", json=body, headers=registrar)
    blank = await certificates.client.post(
        "/api/v1/print-batches", json=body | {"reason": "  "}, headers=registrar
    )
    asked = await ask(certificates, registrar, **body | {"reason": "打印机卡纸，原证书损坏"})
    async with running_worker(certificates):
        batch = await finished(certificates, asked["id"], registrar)

    assert without.status_code == 422 and without.json()["errors"][0]["field"] == "reason"
    assert blank.status_code == 422
    assert batch["total"] == 1 and batch["state"] == "done" and batch["reason"] == "打印机卡纸，原证书损坏"
    (entry,) = [
        e for e in await audit_entries(certificates, asked["id"]) if e.action == "certificate.reprinted"
    ]
    assert entry.detail["reason"] == "打印机卡纸，原证书损坏"
    assert entry.detail["numbers"] == [issued[1].number]


async def test_print_batch__a_reprint_of_a_certificate_outside_the_scope_is_refused(
    certificates: RunningCertificates, area: Area
) -> None:
    (stranger,) = await issue(certificates, area, 1, school=area.other_school)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    body = {
        "scope": area.school,
        "graduating_year": YEAR,
        "purpose": "reprint",
        "reason": "补打",
        "certificate_ids": [stranger.id],
    }

    response = await certificates.client.post("/api/v1/print-batches", json=body, headers=registrar)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "certificate_ids"


async def test_print_batch__a_bureau_batch_covers_only_its_schools(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    ours = await issue(certificates, area, 2) + await issue(certificates, area, 1, school=area.other_school)
    elsewhere = Area(city="4199", county="419901", school="4199010001", other_school="4199010002")
    theirs = await issue(certificates, elsewhere, 2)
    county = certificates.auth(Role.COUNTY, area.county)

    asked = await ask(certificates, county, scope=area.county)
    outside = await certificates.client.post(
        "/api/v1/print-batches",
        json={"scope": elsewhere.county, "graduating_year": YEAR, "purpose": "issue"},
        headers=county,
    )
    async with running_worker(certificates):
        batch = await finished(certificates, asked["id"], county)
    printer = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}/printer.pdf", headers=county
    )
    printed = text_of(printer.content, tmp_path)

    assert batch["total"] == 3 and batch["state"] == "done"
    assert pages(printer.content, tmp_path) == 3
    assert all(one.number in printed for one in ours)
    assert not any(one.number in printed for one in theirs)
    assert outside.status_code == 422  # nothing of that county is in this bureau's jurisdiction


async def test_print_batch__another_school_cannot_see_or_download_a_batch(
    certificates: RunningCertificates, area: Area
) -> None:
    (one,) = await issue(certificates, area, 1)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    other = certificates.auth(Role.SCHOOL_REGISTRAR, area.other_school)
    asked = await ask(certificates, registrar, scope=area.school)
    async with running_worker(certificates):
        await finished(certificates, asked["id"], registrar)

    seen = await certificates.client.get(f"/api/v1/print-batches/{asked['id']}", headers=other)
    printer = await certificates.client.get(f"/api/v1/print-batches/{asked['id']}/printer.pdf", headers=other)
    file = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}/files/{one.number}.pdf", headers=other
    )
    listed = await certificates.client.get("/api/v1/print-batches", headers=other)
    own_list = await certificates.client.get("/api/v1/print-batches", headers=registrar)
    counselor = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}", headers=certificates.auth(Role.COUNSELOR, area.school)
    )
    asked_for_other = await certificates.client.post(
        "/api/v1/print-batches",
        json={"scope": area.other_school, "graduating_year": YEAR, "purpose": "issue"},
        headers=registrar,
    )

    assert (seen.status_code, printer.status_code, file.status_code) == (404, 404, 404)
    assert asked["id"] not in {b["id"] for b in listed.json()}
    assert asked["id"] in {b["id"] for b in own_list.json()}
    assert counselor.status_code == 403
    assert asked_for_other.status_code == 422


# --- print settings ---------------------------------------------------------------------------------


def name_x(pdf: bytes, tmp_path: Path, name: str) -> float:
    """The left edge, in points, of the first word holding ``name`` (pdftotext -bbox)."""
    html = text_of(pdf, tmp_path, "-bbox")
    match = re.search(rf'<word xMin="([0-9.]+)"[^>]*>[^<]*{re.escape(name)}', html)
    assert match, html[:2000]
    return float(match.group(1))


async def test_print_settings__the_offset_moves_the_print_and_is_bounded(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    (one,) = await issue(certificates, area, 1)
    province = certificates.auth(Role.PROVINCE, PROVINCE)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    settings = {"offset_x_mm": 0.0, "offset_y_mm": 0.0, "photo_mode": "empty_frame"}

    too_far = await certificates.client.put(
        "/api/v1/print-settings", json=settings | {"offset_x_mm": 20.5}, headers=province
    )
    as_boolean = await certificates.client.put(
        "/api/v1/print-settings", json=settings | {"offset_y_mm": True}, headers=province
    )
    by_county = await certificates.client.put(
        "/api/v1/print-settings", json=settings, headers=certificates.auth(Role.COUNTY, area.county)
    )
    try:
        assert (
            await certificates.client.put("/api/v1/print-settings", json=settings, headers=province)
        ).is_success
        plain = await ask(certificates, registrar, scope=area.school)
        moved_settings = settings | {"offset_x_mm": 15.0, "offset_y_mm": -4.0}
        assert (
            await certificates.client.put("/api/v1/print-settings", json=moved_settings, headers=province)
        ).is_success
        moved = await ask(certificates, registrar, scope=area.school)
        read_back = await certificates.client.get("/api/v1/print-settings", headers=registrar)
        async with running_worker(certificates):
            await finished(certificates, plain["id"], registrar)
            await finished(certificates, moved["id"], registrar)
    finally:
        await certificates.client.put(
            "/api/v1/print-settings",
            json={"offset_x_mm": 0.0, "offset_y_mm": 0.0, "photo_mode": "id_photo"},
            headers=province,
        )
    first = await certificates.client.get(
        f"/api/v1/print-batches/{plain['id']}/printer.pdf", headers=registrar
    )
    second = await certificates.client.get(
        f"/api/v1/print-batches/{moved['id']}/printer.pdf", headers=registrar
    )

    assert (too_far.status_code, as_boolean.status_code, by_county.status_code) == (422, 422, 403)
    assert read_back.json()["offset_x_mm"] == 15.0 and read_back.json()["photo_mode"] == "empty_frame"
    assert (moved["offset_x_mm"], moved["photo_mode"]) == (15.0, "empty_frame")
    assert photos(second.content, tmp_path) == 0  # empty frame: the school pastes the photo
    shift = name_x(second.content, tmp_path, one.name) - name_x(first.content, tmp_path, one.name)
    assert shift == pytest.approx(15 * MM, abs=0.5)


# --- drafts -----------------------------------------------------------------------------------------


async def test_print_batch__a_draft_of_a_list_not_yet_issued_prints_the_watermark_and_no_number(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    student = await certificates.seed_graduand(lineage=area.lineage(), name="孙𬀩")
    await approved_list(certificates, area, [student], year=YEAR)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)

    asked = await ask(certificates, registrar, scope=area.school, purpose="draft")
    async with running_worker(certificates):
        batch = await finished(certificates, asked["id"], registrar)
    printer = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}/printer.pdf", headers=registrar
    )
    own = await certificates.client.get(
        f"/api/v1/print-batches/{asked['id']}/files/draft-00000.pdf", headers=registrar
    )

    assert batch["state"] == "done", batch
    assert batch["draft"] is True
    printed = text_of(printer.content, tmp_path)
    assert "草稿" in printed and "孙𬀩" in printed and "未编号" in printed
    assert own.status_code == 200 and pages(own.content, tmp_path) == 1


async def test_print_batch__a_draft_with_a_name_the_fonts_cannot_print_fails_naming_the_student(
    certificates: RunningCertificates, area: Area
) -> None:
    printable = await certificates.seed_graduand(lineage=area.lineage(), name="孙𬀩")
    unprintable = await certificates.seed_graduand(lineage=area.lineage(), name="张三")
    # Enrollment's record (what the draft prints) holds a character Noto CJK lacks.
    certificates.facts_for(unprintable, name="张𪚥")
    await approved_list(certificates, area, [printable, unprintable], year=YEAR)
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)

    asked = await ask(certificates, registrar, scope=area.school, purpose="draft")
    async with running_worker(certificates):
        batch = await finished(certificates, asked["id"], registrar)

    assert batch["state"] == "failed", batch
    assert unprintable.student_id in batch["error"] and "U+2A6A5" in batch["error"]
    assert printable.student_id not in batch["error"]


# --- graduate lists (art. 18) -------------------------------------------------------------------------


async def test_graduate_list__pdf_and_xlsx_hold_the_schools_graduates(
    certificates: RunningCertificates, area: Area, tmp_path: Path
) -> None:
    graduates = await issue(certificates, area, 4)
    (stranger,) = await issue(certificates, area, 1, school=area.other_school)
    leader = certificates.auth(Role.SCHOOL_LEADER, area.school)
    base = f"/api/v1/graduate-lists/{area.school}/{YEAR}"

    pdf = await certificates.client.get(f"{base}.pdf", headers=leader)
    xlsx = await certificates.client.get(f"{base}.xlsx", headers=leader)
    by_county = await certificates.client.get(
        f"{base}.xlsx", headers=certificates.auth(Role.COUNTY, area.county)
    )
    by_other_school = await certificates.client.get(
        f"{base}.pdf", headers=certificates.auth(Role.SCHOOL_REGISTRAR, area.other_school)
    )
    bad_year = await certificates.client.get(f"/api/v1/graduate-lists/{area.school}/20x7.pdf", headers=leader)
    far_year = await certificates.client.get(
        f"/api/v1/graduate-lists/{area.school}/1899.xlsx", headers=leader
    )

    assert pdf.status_code == 200, pdf.text
    listed = text_of(pdf.content, tmp_path)
    assert all(g.number in listed for g in graduates) and stranger.number not in listed
    assert "41010220090501123X" not in listed  # the ID number is printed masked
    assert xlsx.status_code == 200 and by_county.status_code == 200
    cells = [
        [str(c) for c in row if c is not None]
        for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)
    ]
    numbers = {cell for row in cells for cell in row}
    assert {g.number for g in graduates} <= numbers and stranger.number not in numbers
    assert sum(1 for row in cells if any(g.number in row for g in graduates)) == 4
    assert by_other_school.status_code == 404
    assert bad_year.status_code == 422 and far_year.status_code == 422
    entries = await audit_entries(certificates, f"{area.school}/{YEAR}")
    assert sorted(e.detail["format"] for e in entries) == ["pdf", "xlsx", "xlsx"]
