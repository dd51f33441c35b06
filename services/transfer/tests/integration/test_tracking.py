"""Tracking transfers (issue 7 point 6): a case and its timeline are read by everyone involved
and the offices above them, on both sides and in both provinces, ended cases included; the
跨省转学查询 list filters and pages; its xlsx export (under dual post) is masked, capped and
audit-logged; monthly counts per province pair, kind and outcome stay inside the caller's
jurisdiction.

Cases are made through the API and moved by the events enrollment would publish."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.transfer.api import exports
from services.transfer.audit import AuditEntry
from services.transfer.domain.case_copy import StepInput, decide, system_actor
from services.transfer.domain.transfer_process import Expire
from services.transfer.models import TransferCase
from services.transfer.steps import load, store
from services.transfer.tests.integration.conftest import (
    HENAN_KAIFENG_SCHOOL,
    HENAN_OTHER_SCHOOL,
    HENAN_SCHOOL,
    SHANDONG_SCHOOL,
)
from services.transfer.tests.integration.support import Province, ProvinceKeys, running_province, shovel
from services.transfer.tracking import CHINA, EXPORT_HEADER, Month, day_bounds, month_span
from shared.auth import Principal, Role
from shared.events.common import Lineage, StudentSummary
from shared.events.enrollment import (
    DestinationChecked,
    OriginChecked,
    StudentMovedWithinProvince,
    StudentTransferredIn,
)
from shared.testing import eventually

pytestmark = pytest.mark.integration

Who = tuple[Role, str]
ORIGIN = HENAN_SCHOOL  # Zhengzhou
DEST = HENAN_KAIFENG_SCHOOL  # Kaifeng: another city, so the chain goes up to the province
ORIGIN_REGISTRAR: Who = (Role.SCHOOL_REGISTRAR, ORIGIN.school)


def everyone_involved(origin: Lineage, dest: Lineage) -> list[Who]:
    """Each side's school (registrar and leader) and every bureau above it."""
    readers: list[Who] = []
    for side in (origin, dest):
        readers += [
            (Role.SCHOOL_REGISTRAR, side.school),
            (Role.SCHOOL_LEADER, side.school),
            (Role.COUNTY, side.county),
            (Role.CITY, side.city),
            (Role.PROVINCE, side.province),
        ]
    return list(dict.fromkeys(readers))


UNRELATED: list[Who] = [
    (Role.SCHOOL_REGISTRAR, HENAN_OTHER_SCHOOL.school),
    (Role.COUNTY, HENAN_OTHER_SCHOOL.county),
    (Role.CITY, "4103"),
    (Role.PROVINCE, "37"),
]


def new_number() -> str:
    return f"G41010220{uuid.uuid4().int % 10**9:09d}X"


def summary(number: str, name: str, lineage: Lineage, school_name: str) -> StudentSummary:
    return StudentSummary(
        student_id=f"stu-{uuid.uuid4().hex[:12]}",
        student_number=number,
        name=name,
        sex="F",
        birth_date=None,
        id_number_masked="4101**********1234",
        lineage=lineage,
        school_name=school_name,
        class_id=None,
        grade=2025,
        major_code="710201",
        study_length=3.0,
        study_form="full_time",
        status="in_school",
    )


async def get_case(province: Province, transfer_id: str, who: Who) -> tuple[int, dict[str, Any]]:
    response = await province.client.get(f"/api/v1/transfers/{transfer_id}", headers=province.headers(*who))
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def until(province: Province, transfer_id: str, who: Who, **expected: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        status, case = await get_case(province, transfer_id, who)
        if status != 200 or any(case[key] != value for key, value in expected.items()):
            return None
        return case

    return await eventually(probe)


async def act(henan: Province, transfer_id: str, verb: str, who: Who, **body: str) -> dict[str, Any]:
    response = await henan.client.post(
        f"/api/v1/transfers/{transfer_id}/{verb}", json=body or None, headers=henan.headers(*who)
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def apply_and_check(henan: Province, name: str, *, dest: Lineage = DEST) -> tuple[str, StudentSummary]:
    """The origin school applies to move its student inside Henan; both checks pass."""
    upload = await henan.client.post(
        "/api/v1/transfers/evidence",
        params={"filename": "申请书.pdf"},
        content=b"%PDF-1.4 handwritten request",
        headers={**henan.headers(*ORIGIN_REGISTRAR), "Content-Type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    number = new_number()
    response = await henan.client.post(
        "/api/v1/transfers",
        json={
            "kind": "in_province",
            "student_number": number,
            "student_name": name,
            "destination_school": dest.school,
            "grade": 2025,
            "reason": "随父母工作调动",
            "evidence_ids": [upload.json()["evidence_id"]],
        },
        headers=henan.headers(*ORIGIN_REGISTRAR),
    )
    assert response.status_code == 201, response.text
    transfer_id: str = response.json()["id"]
    student = summary(number, name, ORIGIN, "郑州市信息技术中等职业学校")
    await henan.publish(
        DestinationChecked(transfer_id=transfer_id, ok=True, school_type="secondary_vocational")
    )
    await henan.publish(
        OriginChecked(transfer_id=transfer_id, ok=True, student=student, school_type="secondary_vocational")
    )
    await until(henan, transfer_id, ORIGIN_REGISTRAR, origin_checked=True, dest_checked=True)
    return transfer_id, student


def reviewer(case: dict[str, Any]) -> Who:
    side, rank = case["pending_level"].split("_", 1)
    prefix = "origin" if side == "origin" else "dest"
    if rank == "school":
        return (Role.SCHOOL_LEADER, case[f"{prefix}_school"])
    if rank == "province":
        return (Role.PROVINCE, case[f"{prefix}_province"])
    return (Role(rank), case[f"{prefix}_{rank}"])


async def approve_all(henan: Province, transfer_id: str) -> dict[str, Any]:
    _, case = await get_case(henan, transfer_id, ORIGIN_REGISTRAR)
    while case["state"] == "UNDER_REVIEW":
        case = await act(henan, transfer_id, "approve", reviewer(case), opinion="同意")
    return case


async def completed(henan: Province, name: str) -> str:
    transfer_id, student = await apply_and_check(henan, name)
    assert (await approve_all(henan, transfer_id))["state"] == "RECORDS_MOVING"
    moved = student.model_copy(update={"lineage": DEST, "school_name": "开封市文化艺术职业学校"})
    await henan.publish(
        StudentMovedWithinProvince(student=moved, transfer_id=transfer_id, from_lineage=ORIGIN)
    )
    await until(henan, transfer_id, ORIGIN_REGISTRAR, state="COMPLETED")
    return transfer_id


async def rejected(henan: Province, name: str) -> str:
    transfer_id, _ = await apply_and_check(henan, name)
    await act(henan, transfer_id, "approve", (Role.SCHOOL_LEADER, ORIGIN.school))
    await act(henan, transfer_id, "reject", (Role.SCHOOL_LEADER, DEST.school), opinion="班额已满")
    return transfer_id


async def cancelled(henan: Province, name: str) -> str:
    transfer_id, _ = await apply_and_check(henan, name)
    await act(henan, transfer_id, "cancel", ORIGIN_REGISTRAR, opinion="学生改变主意")
    return transfer_id


async def expired(henan: Province, name: str) -> str:
    """The pending level let its deadline pass: the system's expire step, as the sweeper takes it."""
    transfer_id, _ = await apply_and_check(henan, name)
    async with henan.ctx.uow() as uow:
        case = await uow.session.get(TransferCase, transfer_id, with_for_update=True)
        assert case is not None
        before = await load(uow.session, case, henan.code)
        step = StepInput(
            step_id=f"{transfer_id}/expire",
            actor=system_actor(henan.code),
            at=datetime.now(UTC).isoformat(),
            opinion="逾期未审核",
        )
        await store(uow, case, before, decide(before, Expire(), step))
        await uow.commit()
    return transfer_id


def unique_name() -> str:
    return f"测{uuid.uuid4().hex[:8]}"


async def listed(henan: Province, who: Who, **params: Any) -> dict[str, Any]:
    response = await henan.client.get("/api/v1/transfers", params=params, headers=henan.headers(*who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- reading a case ---------------------------------------------------------------------------


async def test_a_case_and_its_timeline_are_read_by_both_sides_and_the_offices_above(henan: Province) -> None:
    transfer_id = await completed(henan, unique_name())
    reference: list[Any] | None = None
    for who in everyone_involved(ORIGIN, DEST):
        status, case = await get_case(henan, transfer_id, who)
        assert status == 200, (who, case)
        assert case["state"] == "COMPLETED"
        lines = [
            (s["action"], s["level"], s["actor_role"], s["actor_org"], s["opinion"]) for s in case["timeline"]
        ]
        reference = reference or lines
        assert lines == reference, who
    assert reference is not None
    assert [line[:2] for line in reference] == [
        ("apply", None),
        ("approve", "origin_school"),
        ("approve", "dest_school"),
        ("approve", "origin_county"),
        ("approve", "dest_county"),
        ("approve", "origin_city"),
        ("approve", "dest_city"),
        ("approve", "origin_province"),
        ("records_moved", None),
    ]
    # Who, in which role and organisation, with which opinion and evidence, when.
    _, case = await get_case(henan, transfer_id, (Role.PROVINCE, "41"))
    apply_line, dest_county = case["timeline"][0], case["timeline"][4]
    assert (apply_line["actor_role"], apply_line["actor_org"]) == ("school_registrar", ORIGIN.school)
    assert [e["filename"] for e in apply_line["evidence"]] == ["申请书.pdf"]
    assert (dest_county["actor_role"], dest_county["actor_org"], dest_county["opinion"]) == (
        "county",
        DEST.county,
        "同意",
    )
    assert all(step["at"] for step in case["timeline"])
    for who in UNRELATED:
        status, _ = await get_case(henan, transfer_id, who)
        assert status == 404, who


@pytest.mark.parametrize(
    ("end", "state", "last_action"),
    [(rejected, "REJECTED", "reject"), (cancelled, "CANCELLED", "cancel"), (expired, "EXPIRED", "expire")],
    ids=["rejected", "cancelled", "expired"],
)
async def test_an_ended_case_stays_readable_by_everyone_involved(
    henan: Province, end: Any, state: str, last_action: str
) -> None:
    transfer_id = await end(henan, unique_name())
    for who in everyone_involved(ORIGIN, DEST):
        status, case = await get_case(henan, transfer_id, who)
        assert status == 200, (who, case)
        assert (case["state"], case["timeline"][-1]["action"]) == (state, last_action), who
    for who in UNRELATED:
        assert (await get_case(henan, transfer_id, who))[0] == 404, who


# ---- the list ---------------------------------------------------------------------------------


async def test_the_list_filters_pages_and_keeps_ended_cases(henan: Province) -> None:
    prefix = unique_name()
    done = await completed(henan, f"{prefix}甲")
    refused = await rejected(henan, f"{prefix}乙")
    withdrawn = await cancelled(henan, f"{prefix}丙")
    open_id, _ = await apply_and_check(henan, f"{prefix}丁", dest=HENAN_OTHER_SCHOOL)
    province: Who = (Role.PROVINCE, "41")

    everything = await listed(henan, province, student_name=prefix)
    assert everything["total"] == 4
    assert [c["id"] for c in everything["items"]] == [open_id, withdrawn, refused, done]  # newest first
    assert all(
        c["student_number"].startswith("G4101") and "*" in c["student_number"] for c in everything["items"]
    )

    ended = await listed(henan, province, student_name=prefix, state=["REJECTED", "CANCELLED"])
    assert {c["id"] for c in ended["items"]} == {refused, withdrawn}
    page = await listed(henan, province, student_name=prefix, limit=2, offset=2)
    assert (page["total"], [c["id"] for c in page["items"]]) == (4, [refused, done])
    # Either side's school: the Kaifeng school sees three, not the case bound elsewhere.
    at_dest = await listed(henan, province, student_name=prefix, school=DEST.school)
    assert at_dest["total"] == 3
    at_other = await listed(henan, province, student_name=prefix, school=HENAN_OTHER_SCHOOL.school)
    assert [c["id"] for c in at_other["items"]] == [open_id]
    assert (await listed(henan, (Role.COUNTY, DEST.county), student_name=prefix))["total"] == 3
    assert (await listed(henan, (Role.COUNTY, HENAN_OTHER_SCHOOL.county), student_name=prefix))["total"] == 1

    async with henan.ctx.sessionmaker() as session:
        full_number = await session.scalar(select(TransferCase.student_number).where(TransferCase.id == done))
    exact = await listed(henan, province, student_number=full_number)
    assert [c["id"] for c in exact["items"]] == [done]
    assert (await listed(henan, province, student_name=f"{prefix}甲"))["total"] == 1
    assert (await listed(henan, province, student_name=prefix, kind="cross_province"))["total"] == 0
    assert (await listed(henan, province, student_name=prefix, origin_province="41", dest_province="41"))[
        "total"
    ] == 4
    today = datetime.now(CHINA).date()
    assert (await listed(henan, province, student_name=prefix, **{"from": str(today - timedelta(days=1))}))[
        "total"
    ] == 4
    assert (await listed(henan, province, student_name=prefix, **{"to": str(today - timedelta(days=1))}))[
        "total"
    ] == 0
    # A name's start is matched literally: % and _ are not wildcards.
    assert (await listed(henan, province, student_name="测%"))["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-02", "to": "2026-11-01"}, "from"),
        ({"state": "LOST"}, "state"),
        ({"kind": "teleport"}, "kind"),
        ({"origin_province": "4"}, "origin_province"),
        ({"school": "abc"}, "school"),
        ({"from": "yesterday"}, "from"),
    ],
)
async def test_a_bad_filter_is_a_422_naming_the_field(
    henan: Province, params: dict[str, str], field: str
) -> None:
    headers = henan.headers(Role.PROVINCE, "41")
    listing = await henan.client.get("/api/v1/transfers", params=params, headers=headers)
    asking = await henan.client.post(
        "/api/v1/transfers/exports", params=params, json={"reason": "核对"}, headers=headers
    )
    for response in (listing, asking):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert any(field in error["field"] for error in response.json()["errors"]), response.json()


# ---- the export (under dual post: api/exports.py, test_exports.py) ----------------------------


async def exports_by(henan: Province, username: str) -> list[AuditEntry]:
    async with henan.ctx.sessionmaker() as session:
        return list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.actor_name == username).order_by(AuditEntry.id)
            )
        )


def signed_in(henan: Province, role: Role, org: str, username: str) -> dict[str, str]:
    """One account across requests (``Province.headers`` makes a fresh account each call)."""
    principal = Principal(
        account_id=f"acct-{uuid.uuid4().hex[:10]}", username=username, role=role, org=org, province=henan.code
    )
    return {"Authorization": f"Bearer {henan.issuer.issue(principal)}"}


async def export_through_dual_post(
    henan: Province, params: dict[str, Any], requester: dict[str, str], approver: dict[str, str]
) -> bytes:
    """Ask, have the second user approve, download: the workbook."""
    asked = await henan.client.post(
        "/api/v1/transfers/exports", params=params, json={"reason": "核对转学情况"}, headers=requester
    )
    assert asked.status_code == 201, asked.text
    export_id = asked.json()["id"]
    approved = await henan.client.post(f"/api/v1/transfers/exports/{export_id}/approval", headers=approver)
    assert approved.status_code == 200, approved.text
    downloaded = await henan.client.get(f"/api/v1/transfers/exports/{export_id}/download", headers=requester)
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.headers["content-type"].startswith("application/vnd.openxmlformats")
    return downloaded.content


async def test_the_export_is_masked_states_its_filter_and_is_audit_logged(henan: Province) -> None:
    prefix = unique_name()
    done = await completed(henan, f"{prefix}甲")
    await rejected(henan, f"{prefix}乙")
    async with henan.ctx.sessionmaker() as session:
        full_number = await session.scalar(select(TransferCase.student_number).where(TransferCase.id == done))
    assert full_number is not None
    username = f"county-{uuid.uuid4().hex[:6]}"
    requester = signed_in(henan, Role.COUNTY, DEST.county, username)
    approver = signed_in(henan, Role.COUNTY, DEST.county, f"county-{uuid.uuid4().hex[:6]}")

    content = await export_through_dual_post(
        henan, {"student_name": prefix, "state": "COMPLETED"}, requester, approver
    )
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    heading = rows[0][0]
    assert isinstance(heading, str)
    assert f"姓名以“{prefix}”开头" in heading and "状态=调档完毕" in heading and "共 1 条" in heading
    assert tuple(rows[1]) == EXPORT_HEADER
    [row] = rows[2:]
    masked = "G4101**********" + full_number[-4:]
    assert row[:11] == [
        1,
        masked,
        f"{prefix}甲",
        "女",
        "4101**********1234",
        "河南",
        "开封市文化艺术职业学校",
        "河南",
        "郑州市信息技术中等职业学校",
        "省内转学",
        "调档完毕",
    ]
    assert not any(full_number[1:] in str(cell) for r in rows for cell in r)

    asked, downloaded = await exports_by(henan, username)
    assert (asked.action, downloaded.action) == ("export.requested", "export.downloaded")
    assert (downloaded.actor_role, downloaded.actor_org) == ("county", DEST.county)
    assert downloaded.detail["filter"] == {"student_name": prefix, "state": ["COMPLETED"]}
    assert downloaded.detail["rows"] == 1

    # By number: the heading and the log name it masked, never whole; the stored filter still
    # selects the student at download.
    content = await export_through_dual_post(henan, {"student_number": full_number}, requester, approver)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    cells = [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row]
    assert f"全国学籍号={masked}" in cells[0] and "共 1 条" in cells[0]
    assert not any(full_number[1:] in cell for cell in cells)
    logged = (await exports_by(henan, username))[-1]
    assert (logged.detail["filter"], logged.detail["rows"]) == ({"student_number": masked}, 1)


async def test_an_export_over_the_cap_is_refused_and_not_logged(
    henan: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = unique_name()
    await cancelled(henan, f"{prefix}甲")
    await cancelled(henan, f"{prefix}乙")
    monkeypatch.setattr(exports.transfer_exports, "max_rows", 1)
    username = f"province-{uuid.uuid4().hex[:6]}"
    response = await henan.client.post(
        "/api/v1/transfers/exports",
        params={"student_name": prefix},
        json={"reason": "核对"},
        headers=henan.headers(Role.PROVINCE, "41", username=username),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "filters"
    assert "2" in response.json()["detail"]
    assert await exports_by(henan, username) == []


async def test_the_direct_export_points_to_dual_post(henan: Province) -> None:
    response = await henan.client.get(
        "/api/v1/transfers/export.xlsx", headers=henan.headers(Role.PROVINCE, "41")
    )
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:xueji:problem:dual-post"
    assert "/api/v1/transfers/exports" in response.json()["detail"]


async def test_the_audit_log_refuses_changes(henan: Province) -> None:
    asked = await henan.client.post(
        "/api/v1/transfers/exports", json={"reason": "核对"}, headers=henan.headers(Role.PROVINCE, "41")
    )
    assert asked.status_code == 201, asked.text
    for statement in (
        "UPDATE transfer_audit SET subject = 'x'",
        "DELETE FROM transfer_audit",
        "TRUNCATE transfer_audit",
    ):
        async with henan.ctx.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="transfer_audit keeps every entry"):
                await session.execute(text(statement))
    async with henan.ctx.sessionmaker() as session:
        assert await session.scalar(select(AuditEntry.id).limit(1)) is not None


# ---- monthly counts ---------------------------------------------------------------------------


async def monthly(
    henan: Province, who: Who, first: str, last: str
) -> dict[tuple[str, str, str, str], dict[str, int]]:
    response = await henan.client.get(
        "/api/v1/transfers/monthly", params={"from": first, "to": last}, headers=henan.headers(*who)
    )
    assert response.status_code == 200, response.text
    return {
        (r["month"], r["origin_province"], r["dest_province"], r["kind"]): {
            k: r[k] for k in ("applied", "completed", "rejected", "cancelled", "expired")
        }
        for r in response.json()["rows"]
    }


def months_around_now() -> tuple[str, str]:
    now = datetime.now(CHINA)
    return (now - timedelta(days=40)).strftime("%Y-%m"), (now + timedelta(days=40)).strftime("%Y-%m")


def totals(
    counts: dict[tuple[str, str, str, str], dict[str, int]], pair: tuple[str, str, str]
) -> dict[str, int]:
    summed = dict.fromkeys(("applied", "completed", "rejected", "cancelled", "expired"), 0)
    for (_, *key), values in counts.items():
        if tuple(key) == pair:
            for outcome, n in values.items():
                summed[outcome] += n
    return summed


async def test_monthly_counts_per_province_pair_kind_and_outcome(henan: Province) -> None:
    first, last = months_around_now()
    province: Who = (Role.PROVINCE, "41")
    before = await monthly(henan, province, first, last)

    await completed(henan, unique_name())
    await rejected(henan, unique_name())
    await cancelled(henan, unique_name())
    await expired(henan, unique_name())
    await apply_and_check(henan, unique_name())
    # A cross-province case here, Henan receiving from Shandong, withdrawn by its applicant.
    applied = await henan.client.post(
        "/api/v1/transfers",
        json={
            "kind": "cross_province",
            "student_number": new_number(),
            "student_name": unique_name(),
            "origin_province": "37",
            "grade": 2025,
            "reason": "随父母工作调动",
        },
        headers=henan.headers(Role.SCHOOL_REGISTRAR, DEST.school),
    )
    assert applied.status_code == 201, applied.text
    await act(henan, applied.json()["id"], "cancel", (Role.SCHOOL_REGISTRAR, DEST.school))

    after = await monthly(henan, province, first, last)
    in_henan = ("41", "41", "in_province")
    gained = {k: totals(after, in_henan)[k] - totals(before, in_henan)[k] for k in totals(after, in_henan)}
    assert gained == {"applied": 5, "completed": 1, "rejected": 1, "cancelled": 1, "expired": 1}
    across = ("37", "41", "cross_province")
    assert {k: totals(after, across)[k] - totals(before, across)[k] for k in gained} == {
        "applied": 1,
        "completed": 0,
        "rejected": 0,
        "cancelled": 1,
        "expired": 0,
    }
    # Jurisdiction: a county none of these cases touches sees none of them.
    assert await monthly(henan, (Role.COUNTY, "410105"), first, last) == {}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13", "to": "2026-12"}, "from"),
        ({"from": "2026-11", "to": "2026-10"}, "to"),
        ({"from": "2000-01", "to": "2026-12"}, "to"),
        ({"from": "2026/11", "to": "2026-12"}, "from"),
        ({"to": "2026-12"}, "from"),
    ],
)
async def test_monthly_bad_months_are_422(henan: Province, params: dict[str, str], field: str) -> None:
    response = await henan.client.get(
        "/api/v1/transfers/monthly", params=params, headers=henan.headers(Role.PROVINCE, "41")
    )
    assert response.status_code == 422, response.text
    assert any(field in error["field"] for error in response.json()["errors"]), response.json()


# ---- both provinces ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def shandong(
    henan_keys: ProvinceKeys, shandong_keys: ProvinceKeys, key_dir: Path
) -> AsyncIterator[Province]:
    async with running_province(shandong_keys, [henan_keys], key_dir) as province:
        yield province


async def test_a_cross_province_case_is_read_in_both_provinces_by_both_sides(
    henan: Province, shandong: Province
) -> None:
    async with shovel(henan, shandong), shovel(shandong, henan):
        dest_registrar: Who = (Role.SCHOOL_REGISTRAR, HENAN_SCHOOL.school)
        number = new_number()
        response = await henan.client.post(
            "/api/v1/transfers",
            json={
                "kind": "cross_province",
                "student_number": number,
                "student_name": "李四",
                "origin_province": "37",
                "grade": 2025,
                "reason": "随父母工作调动",
            },
            headers=henan.headers(*dest_registrar),
        )
        assert response.status_code == 201, response.text
        transfer_id: str = response.json()["id"]
        await henan.publish(
            DestinationChecked(transfer_id=transfer_id, ok=True, school_type="secondary_vocational")
        )
        await until(shandong, transfer_id, (Role.PROVINCE, "37"), state="UNDER_REVIEW")
        student = summary(number, "李四", SHANDONG_SCHOOL, "济南市第一职业中等专业学校")
        await shandong.publish(
            OriginChecked(
                transfer_id=transfer_id, ok=True, student=student, school_type="secondary_vocational"
            )
        )
        case = await until(henan, transfer_id, dest_registrar, origin_checked=True, dest_checked=True)
        for who in [(Role.SCHOOL_LEADER, HENAN_SCHOOL.school), (Role.COUNTY, HENAN_SCHOOL.county)]:
            case = await act(henan, transfer_id, "approve", who)
        for who in [(Role.SCHOOL_LEADER, SHANDONG_SCHOOL.school), (Role.COUNTY, SHANDONG_SCHOOL.county)]:
            await until(
                shandong,
                transfer_id,
                who,
                pending_level=f"origin_{'school' if who[0] is Role.SCHOOL_LEADER else 'county'}",
            )
            case = await act(shandong, transfer_id, "approve", who)
        assert case["state"] == "RECORDS_MOVING"
        moved = student.model_copy(update={"lineage": HENAN_SCHOOL})
        await henan.publish(StudentTransferredIn(student=moved, transfer_id=transfer_id, from_province="37"))
        await until(henan, transfer_id, dest_registrar, state="COMPLETED")
        await until(shandong, transfer_id, (Role.PROVINCE, "37"), state="COMPLETED")

        timelines = set()
        for province, side in ((henan, HENAN_SCHOOL), (shandong, SHANDONG_SCHOOL)):
            for who in everyone_involved(side, side):
                status, body = await get_case(province, transfer_id, who)
                assert status == 200, (province.code, who, body)
                timelines.add(
                    tuple((s["step_id"], s["action"], s["actor_province"]) for s in body["timeline"])
                )
            for who in [(Role.COUNTY, side.county[:4] + "99"), (Role.CITY, side.city[:2] + "99")]:
                assert (await get_case(province, transfer_id, who))[0] == 404, (province.code, who)
        [one_timeline] = timelines
        assert [(action, where) for _, action, where in one_timeline] == [
            ("apply", "41"),
            ("approve", "41"),
            ("approve", "41"),
            ("approve", "37"),
            ("approve", "37"),
            ("records_moved", "41"),
        ]
        # Each province lists its copy.
        for province in (henan, shandong):
            found = await listed(province, (Role.PROVINCE, province.code), student_number=number)
            assert [c["state"] for c in found["items"]] == ["COMPLETED"]


# ---- China's days and months (pure) -----------------------------------------------------------


def test_days_and_months_are_counted_in_china_time() -> None:
    start, end = day_bounds(date(2026, 11, 30), date(2026, 12, 31))
    assert (start, end) == (
        datetime(2026, 11, 29, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert month_span(Month.parse("2026-11", "from"), Month.parse("2026-12", "to")) == (
        datetime(2026, 10, 31, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert str(Month(2026, 12).next()) == "2027-01"
