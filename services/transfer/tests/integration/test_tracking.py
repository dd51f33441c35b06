"""Tracking transfers (issue 7 point 6): a case and its timeline are read by everyone involved
and the offices above them, on both sides and in both provinces, ended cases included; the
跨省转学查询 list filters and pages; its xlsx export (under dual post) is masked, capped and
audit-logged; monthly counts per province pair, kind and outcome stay inside the caller's
jurisdiction.

Cases are made through the API and moved by the events enrollment would publish."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.transfer.api import exports
from services.transfer.models import AuditEntry, TransferCase
from services.transfer.tests.integration.cases import (
    DEST,
    ORIGIN,
    Who,
    act,
    apply_from_other_province,
    cancelled_case,
    checked_case,
    completed_case,
    expired_case,
    new_student_number,
    read_case,
    rejected_case,
    student_summary,
    unique_student_name,
    visible_case,
    wait_for_case,
)
from services.transfer.tests.integration.conftest import (
    HENAN_OTHER_SCHOOL,
    HENAN_SCHOOL,
    SHANDONG_SCHOOL,
)
from services.transfer.tests.integration.support import Province, shovel
from services.transfer.tracking import EXPORT_HEADER, Month, day_bounds, month_span
from shared.auth import Role
from shared.china_time import CHINA, today_in_china
from shared.events.common import Lineage
from shared.events.enrollment import (
    DestinationChecked,
    OriginChecked,
    StudentTransferredIn,
)

pytestmark = pytest.mark.integration


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


async def listed(henan: Province, who: Who, **params: Any) -> dict[str, Any]:
    response = await henan.client.get("/api/v1/transfers", params=params, headers=henan.headers(*who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- reading a case ---------------------------------------------------------------------------


async def test_a_case_and_its_timeline_are_read_by_both_sides_and_the_offices_above(henan: Province) -> None:
    transfer_id = await completed_case(henan, unique_student_name())
    reference: list[Any] | None = None
    for who in everyone_involved(ORIGIN, DEST):
        case = await visible_case(henan, transfer_id, who)
        assert case is not None, who
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
    case = await read_case(henan, transfer_id)
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
        assert await visible_case(henan, transfer_id, who) is None, who


@pytest.mark.parametrize(
    ("end", "state", "last_action"),
    [
        (rejected_case, "REJECTED", "reject"),
        (cancelled_case, "CANCELLED", "cancel"),
        (expired_case, "EXPIRED", "expire"),
    ],
    ids=["rejected", "cancelled", "expired"],
)
async def test_an_ended_case_stays_readable_by_everyone_involved(
    henan: Province, end: Any, state: str, last_action: str
) -> None:
    transfer_id = await end(henan, unique_student_name())
    for who in everyone_involved(ORIGIN, DEST):
        case = await visible_case(henan, transfer_id, who)
        assert case is not None, who
        assert (case["state"], case["timeline"][-1]["action"]) == (state, last_action), who
    for who in UNRELATED:
        assert await visible_case(henan, transfer_id, who) is None, who


# ---- the list ---------------------------------------------------------------------------------


async def test_the_list_filters_pages_and_keeps_ended_cases(henan: Province) -> None:
    prefix = unique_student_name()
    done = await completed_case(henan, f"{prefix}甲")
    refused = await rejected_case(henan, f"{prefix}乙")
    withdrawn = await cancelled_case(henan, f"{prefix}丙")
    open_id, _ = await checked_case(henan, f"{prefix}丁", destination=HENAN_OTHER_SCHOOL)
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
    today = today_in_china()
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
    prefix = unique_student_name()
    done = await completed_case(henan, f"{prefix}甲")
    await rejected_case(henan, f"{prefix}乙")
    async with henan.ctx.sessionmaker() as session:
        full_number = await session.scalar(select(TransferCase.student_number).where(TransferCase.id == done))
    assert full_number is not None
    username = f"county-{uuid.uuid4().hex[:6]}"
    requester = henan.headers(Role.COUNTY, DEST.county, username)
    approver = henan.headers(Role.COUNTY, DEST.county, f"county-{uuid.uuid4().hex[:6]}")

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
    prefix = unique_student_name()
    await cancelled_case(henan, f"{prefix}甲")
    await cancelled_case(henan, f"{prefix}乙")
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

    await completed_case(henan, unique_student_name())
    await rejected_case(henan, unique_student_name())
    await cancelled_case(henan, unique_student_name())
    await expired_case(henan, unique_student_name())
    await checked_case(henan, unique_student_name())
    # A cross-province case here, Henan receiving from Shandong, withdrawn by its applicant.
    applied = await apply_from_other_province(
        henan,
        "37",
        student_number=new_student_number("G41010220"),
        student_name=unique_student_name(),
        applicant=(Role.SCHOOL_REGISTRAR, DEST.school),
    )
    await act(henan, applied["id"], "cancel", (Role.SCHOOL_REGISTRAR, DEST.school))

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


async def test_a_cross_province_case_is_read_in_both_provinces_by_both_sides(
    henan: Province, shandong: Province
) -> None:
    async with shovel(henan, shandong), shovel(shandong, henan):
        dest_registrar: Who = (Role.SCHOOL_REGISTRAR, HENAN_SCHOOL.school)
        number = new_student_number("G41010220")
        applied = await apply_from_other_province(
            henan, "37", student_number=number, applicant=dest_registrar
        )
        transfer_id: str = applied["id"]
        await henan.publish(
            DestinationChecked(transfer_id=transfer_id, ok=True, school_type="secondary_vocational")
        )
        await wait_for_case(shandong, transfer_id, (Role.PROVINCE, "37"), state="UNDER_REVIEW")
        student = student_summary(
            number,
            SHANDONG_SCHOOL,
            school_name="济南市第一职业中等专业学校",
            name="李四",
            sex="F",
            id_number_masked="4101**********1234",
        )
        await shandong.publish(
            OriginChecked(
                transfer_id=transfer_id, ok=True, student=student, school_type="secondary_vocational"
            )
        )
        case = await wait_for_case(henan, transfer_id, dest_registrar, origin_checked=True, dest_checked=True)
        for who in [(Role.SCHOOL_LEADER, HENAN_SCHOOL.school), (Role.COUNTY, HENAN_SCHOOL.county)]:
            case = await act(henan, transfer_id, "approve", who)
        for who in [(Role.SCHOOL_LEADER, SHANDONG_SCHOOL.school), (Role.COUNTY, SHANDONG_SCHOOL.county)]:
            await wait_for_case(
                shandong,
                transfer_id,
                who,
                pending_level=f"origin_{'school' if who[0] is Role.SCHOOL_LEADER else 'county'}",
            )
            case = await act(shandong, transfer_id, "approve", who)
        assert case["state"] == "RECORDS_MOVING"
        moved = student.model_copy(update={"lineage": HENAN_SCHOOL})
        await henan.publish(StudentTransferredIn(student=moved, transfer_id=transfer_id, from_province="37"))
        await wait_for_case(henan, transfer_id, dest_registrar, state="COMPLETED")
        await wait_for_case(shandong, transfer_id, (Role.PROVINCE, "37"), state="COMPLETED")

        timelines = set()
        for province, side in ((henan, HENAN_SCHOOL), (shandong, SHANDONG_SCHOOL)):
            for who in everyone_involved(side, side):
                body = await visible_case(province, transfer_id, who)
                assert body is not None, (province.code, who)
                timelines.add(
                    tuple((s["step_id"], s["action"], s["actor_province"]) for s in body["timeline"])
                )
            for who in [(Role.COUNTY, side.county[:4] + "99"), (Role.CITY, side.city[:2] + "99")]:
                assert await visible_case(province, transfer_id, who) is None, (province.code, who)
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
