"""A certificate checked as a person would, through the service (issue 8): a school's list is
submitted, reviewed and issued over HTTP, printed by the service's own print worker, and the
student's file is read back with the tools a printer's operator or a verifier has — pdffonts,
pdftotext, pdftoppm to an image and zbarimg to read its QR — and the scanned text is verified on
the public endpoint and offline with the province's keys. After a rollback the same paper answers
voided. Nothing is written into the tables by hand: only the read models enrollment's events
would leave (the harness's ``seed_graduand``).

The electronic certificate is not made here: this harness has no signing certificate
(test_issuing.py runs its own process with the demo CA for that).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.certificates.domain.certificate_number import format_grouped
from services.certificates.keys import trusted_payload_keys
from services.certificates.signing.qr_payload import open_sealed
from services.certificates.tests.integration.conftest import PROVINCE, Area, RunningCertificates
from shared.auth import Role
from shared.events.common import StudentSummary
from shared.testing import eventually

pytestmark = pytest.mark.integration

YEAR = 2027  # the 2024 intake, three years
ISSUE_DAY = date(YEAR, 6, 11)  # the first day certificates of the year may be issued
RARE_NAME = "王𬌗"  # 𬌗 is outside the BMP: a font or a text layer that drops it shows here
OTHER_NAME = "李䶮"


@pytest.fixture
def issue_day(certificates: RunningCertificates) -> Iterator[date]:
    """The service's issuing clock pinned to 11 June; whatever was there before comes back."""
    missing = object()
    before = certificates.ctx.extras.get("today", missing)
    certificates.ctx.extras["today"] = lambda: ISSUE_DAY
    yield ISSUE_DAY
    if before is missing:
        certificates.ctx.extras.pop("today", None)
    else:
        certificates.ctx.extras["today"] = before


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


# --- the service's HTTP API, step by step ----------------------------------------------------------


async def post(certificates: RunningCertificates, path: str, body: Any, headers: dict[str, str]) -> Any:
    response = await certificates.client.post(path, json=body, headers=headers)
    assert response.is_success, f"{path}: {response.status_code} {response.text}"
    return response.json()


async def get(certificates: RunningCertificates, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = await certificates.client.get(path, params=params, headers=headers)
    assert response.is_success, f"{path}: {response.status_code} {response.text}"
    return response


def decider(certificates: RunningCertificates, area: Area, level: str) -> dict[str, str]:
    """Who approves a list at a level of the province's chain, for this area's school."""
    role, org = {
        "school": (Role.SCHOOL_LEADER, area.school),
        "county": (Role.COUNTY, area.county),
        "city": (Role.CITY, area.city),
        "province": (Role.PROVINCE, PROVINCE),
    }[level]
    return certificates.auth(role, org)


async def graduate(
    certificates: RunningCertificates, area: Area, students: list[StudentSummary]
) -> dict[str, str]:
    """Submitted by the registrar, approved along the chain, issued by the province: the
    certificate number of each student."""
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    entries = [{"student_id": s.student_id, "outcome": "graduated"} for s in students]
    listed = await post(
        certificates, "/api/v1/graduation-lists", {"graduating_year": YEAR, "entries": entries}, registrar
    )
    # The default chain is the school leader then the county; a province may configure another,
    # so the list's own levels say who decides.
    assert listed["levels"][0] == "school"
    for level in listed["levels"]:
        decided = await post(
            certificates,
            f"/api/v1/graduation-lists/{listed['id']}/decision",
            {"decision": "approve", "opinion": "同意"},
            decider(certificates, area, level),
        )
    assert decided["state"] == "approved"
    issued = await post(
        certificates,
        f"/api/v1/graduation-lists/{listed['id']}/issue",
        None,
        certificates.auth(Role.PROVINCE, PROVINCE),
    )
    assert issued["issued_on"] == ISSUE_DAY.isoformat()
    return {item["student_id"]: item["number"] for item in issued["certificates"]}


async def printed_batch(certificates: RunningCertificates, area: Area) -> str:
    """The school's print batch of the year, rendered by the service's own worker: its id."""
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    asked = await post(
        certificates,
        "/api/v1/print-batches",
        {"scope": area.school, "graduating_year": YEAR, "purpose": "issue"},
        registrar,
    )

    async def finished() -> dict[str, Any] | None:
        response = await get(certificates, f"/api/v1/print-batches/{asked['id']}", registrar)
        batch: dict[str, Any] = response.json()
        return batch if batch["state"] in ("done", "failed") else None

    batch = await eventually(finished, within=180)
    assert (batch["state"], batch["percent"], batch["draft"]) == ("done", 100, False), batch
    batch_id: str = asked["id"]
    return batch_id


async def download(certificates: RunningCertificates, area: Area, path: str) -> bytes:
    response = await get(certificates, path, certificates.auth(Role.SCHOOL_REGISTRAR, area.school))
    assert response.headers["content-type"] == "application/pdf"
    content: bytes = response.content
    return content


async def verify_qr(certificates: RunningCertificates, scanned: str) -> dict[str, Any]:
    """Anonymous, as anyone with a phone: the text the QR holds."""
    answer: dict[str, Any] = await post(
        certificates, "/api/v1/public/qr-verifications", {"payload": scanned}, {}
    )
    return answer


async def verify_number(certificates: RunningCertificates, number: str, name: str) -> dict[str, Any]:
    """Anonymous, as an employer typing what the paper says."""
    answer: dict[str, Any] = await post(
        certificates, "/api/v1/public/verifications", {"number": number, "name": name}, {}
    )
    return answer


# --- reading the paper ------------------------------------------------------------------------------


def saved(content: bytes, to: Path) -> Path:
    to.write_bytes(content)
    return to


def fonts_of(pdf: Path) -> list[tuple[str, str, str]]:
    """(name, emb, sub) of each font ``pdffonts`` lists; the type column may be several words, so
    emb and sub are counted from the end (emb sub uni object ID)."""
    rows = run("pdffonts", str(pdf)).splitlines()[2:]  # two header lines
    return [(row.split()[0], row.split()[-5], row.split()[-4]) for row in rows]


def scanned_qr(pdf: Path, workdir: Path) -> str:
    """The page as a 200 dpi image, its QR read back by zbarimg: what a phone would read."""
    run("pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(workdir / "page"))
    return run("zbarimg", "--raw", "-q", str(workdir / "page.png")).rstrip("\n")


def page_count(pdf: Path) -> int:
    found = re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.MULTILINE)
    assert found
    return int(found[1])


# --- the scenario -------------------------------------------------------------------------------------


async def test_certificate_as_read__printed_scanned_and_verified_then_voided_by_a_rollback(
    certificates: RunningCertificates, area: Area, issue_day: date, tmp_path: Path
) -> None:
    rare = await certificates.seed_graduand(lineage=area.lineage(), name=RARE_NAME)
    other = await certificates.seed_graduand(lineage=area.lineage(), name=OTHER_NAME)
    numbers = await graduate(certificates, area, [rare, other])
    number = numbers[rare.student_id]

    batch_id = await printed_batch(certificates, area)
    own = saved(
        await download(certificates, area, f"/api/v1/print-batches/{batch_id}/files/{number}.pdf"),
        tmp_path / "own.pdf",
    )
    printer = saved(
        await download(certificates, area, f"/api/v1/print-batches/{batch_id}/printer.pdf"),
        tmp_path / "printer.pdf",
    )
    registrar = certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    (record,) = (await get(certificates, "/api/v1/certificates", registrar, number=number)).json()["items"]

    # The printer's file: both graduates, one page each.
    printer_text = "".join(run("pdftotext", str(printer), "-").split())
    assert page_count(printer) == 2
    assert RARE_NAME in printer_text and OTHER_NAME in printer_text

    # The student's own page: every font embedded and subset (a print shop has no 𬌗 glyph).
    fonts = fonts_of(own)
    assert fonts, "no fonts listed"
    assert all((emb, sub) == ("yes", "yes") for _, emb, sub in fonts), fonts
    # The text layer holds the rare name and the number as printed: in its groups, for a person.
    text = run("pdftotext", str(own), "-")
    assert page_count(own) == 1
    assert RARE_NAME in "".join(text.split())
    assert format_grouped(number) in text
    assert OTHER_NAME not in text

    # The QR as a phone reads it off the page: the certificate's sealed URL, valid online and
    # offline under the province's keys.
    scanned = scanned_qr(own, tmp_path)
    assert scanned == record["qr_url"]
    printed = await verify_qr(certificates, scanned)
    assert (printed["state"], printed["changed_since_printed"]) == ("valid", False), printed
    assert printed["certificate"]["name"] == RARE_NAME
    assert printed["certificate"]["number"] == number
    claims = open_sealed(scanned, trusted_payload_keys(certificates.settings))
    assert (claims.number, claims.name, claims.issued_on) == (number, RARE_NAME, ISSUE_DAY)
    typed = await verify_number(certificates, format_grouped(number), RARE_NAME)
    assert typed["state"] == "valid", typed

    # The county rolls the graduation back: the paper in the graduate's hands now answers voided.
    rolled_back = await post(
        certificates,
        f"/api/v1/graduations/{rare.student_id}/rollback",
        {"reason": "毕业信息录入错误"},
        certificates.auth(Role.COUNTY, area.county),
    )
    assert (rolled_back["certificate_number"], rolled_back["certificate_status"]) == (number, "voided")

    after = await verify_qr(certificates, scanned)
    assert (after["state"], after["changed_since_printed"]) == ("voided", True), after
    assert "作废" in after["message_zh"]
    typed_after = await verify_number(certificates, format_grouped(number), RARE_NAME)
    assert typed_after["state"] == "voided", typed_after
    # The sealed claims still open (the paper is genuine); only the register says it is void.
    assert open_sealed(scanned, trusted_payload_keys(certificates.settings)).number == number
    # The other graduate's certificate is untouched.
    untouched = await verify_number(certificates, numbers[other.student_id], OTHER_NAME)
    assert untouched["state"] == "valid", untouched
