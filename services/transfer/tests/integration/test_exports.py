"""Exports of the 跨省转学查询 list under dual post (双岗, shared/dual_post.py): a second user of the
requester's office approves, the requester downloads once within 24 hours, every step is in the
audit log; and evidence downloads are audit-logged too.

The workbook's content (masking, heading) is proved in test_tracking.py."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from services.transfer.models import AuditEntry, TransferExportRequest
from services.transfer.tests.integration.cases import (
    DEST,
    ORIGIN,
    cancelled_case,
    unique_student_name,
    upload_evidence,
)
from services.transfer.tests.integration.conftest import HENAN_OTHER_SCHOOL
from services.transfer.tests.integration.support import Province
from services.transfer.tracking import CaseFilter
from shared.auth import Role
from shared.dual_post import DOWNLOAD_WINDOW

pytestmark = pytest.mark.integration

EXPORTS = "/api/v1/transfers/exports"
Headers = dict[str, str]


def county_user(henan: Province, county: str = DEST.county) -> tuple[str, Headers]:
    username = f"county-{uuid.uuid4().hex[:8]}"
    return username, henan.headers(Role.COUNTY, county, username)


async def ask(henan: Province, headers: Headers, **params: Any) -> dict[str, Any]:
    response = await henan.client.post(
        EXPORTS, params=params, json={"reason": "核对转学情况"}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def audit_of(henan: Province, export_id: str) -> list[tuple[str, str]]:
    """(action, who) of every entry about one export, oldest first."""
    async with henan.ctx.sessionmaker() as session:
        entries = await session.scalars(
            select(AuditEntry).where(AuditEntry.subject == f"export:{export_id}").order_by(AuditEntry.id)
        )
        return [(entry.action, entry.actor_name) for entry in entries]


async def test_an_export_approved_by_a_second_user_is_downloaded_once_by_its_requester(
    henan: Province,
) -> None:
    prefix = unique_student_name()
    await cancelled_case(henan, f"{prefix}甲")
    asker, asker_headers = county_user(henan)
    approver, approver_headers = county_user(henan)

    asked = await ask(henan, asker_headers, student_name=prefix)
    assert (asked["state"], asked["count_at_request"], asked["reason"]) == ("pending", 1, "核对转学情况")
    assert asked["filters"] == {"student_name": prefix}
    waiting = await henan.client.get(EXPORTS, params={"view": "to_approve"}, headers=approver_headers)
    assert asked["id"] in [e["id"] for e in waiting.json()]
    mine = await henan.client.get(EXPORTS, params={"view": "mine"}, headers=asker_headers)
    assert [e["id"] for e in mine.json()] == [asked["id"]]
    not_yet = await henan.client.get(f"{EXPORTS}/{asked['id']}/download", headers=asker_headers)
    assert not_yet.status_code == 409 and "pending" in not_yet.json()["detail"]

    approved = await henan.client.post(f"{EXPORTS}/{asked['id']}/approval", headers=approver_headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved" and approved.json()["download_until"] is not None
    again = await henan.client.post(f"{EXPORTS}/{asked['id']}/approval", headers=approver_headers)
    assert again.status_code == 409, again.text
    by_the_approver = await henan.client.get(f"{EXPORTS}/{asked['id']}/download", headers=approver_headers)
    assert by_the_approver.status_code == 403, by_the_approver.text

    first = await henan.client.get(f"{EXPORTS}/{asked['id']}/download", headers=asker_headers)
    assert first.status_code == 200, first.text
    sheet = load_workbook(io.BytesIO(first.content)).active
    assert sheet is not None
    assert [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)] == [f"{prefix}甲"]
    second = await henan.client.get(f"{EXPORTS}/{asked['id']}/download", headers=asker_headers)
    assert second.status_code == 409 and "downloaded" in second.json()["detail"]
    state = await henan.client.get(f"{EXPORTS}/{asked['id']}", headers=asker_headers)
    assert state.json()["state"] == "downloaded"

    assert await audit_of(henan, asked["id"]) == [
        ("export.requested", asker),
        ("export.approved", approver),
        ("export.downloaded", asker),
    ]


async def test_the_requester_cannot_approve_their_own_export(henan: Province) -> None:
    asker, asker_headers = county_user(henan)
    asked = await ask(henan, asker_headers)
    response = await henan.client.post(f"{EXPORTS}/{asked['id']}/approval", headers=asker_headers)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:xueji:problem:dual-post"
    assert "second user" in response.json()["detail"]
    mine = await henan.client.get(EXPORTS, params={"view": "to_approve"}, headers=asker_headers)
    assert asked["id"] not in [e["id"] for e in mine.json()]
    assert await audit_of(henan, asked["id"]) == [("export.requested", asker)]


@pytest.mark.parametrize(
    ("role", "org"),
    [
        (Role.COUNTY, HENAN_OTHER_SCHOOL.county),  # a neighbouring county
        (Role.CITY, DEST.city),  # the office above
        (Role.SCHOOL_REGISTRAR, DEST.school),  # a school under it
    ],
)
async def test_another_office_cannot_approve_or_see_the_export(henan: Province, role: Role, org: str) -> None:
    asker, asker_headers = county_user(henan)
    asked = await ask(henan, asker_headers)
    other = henan.headers(role, org, f"other-{uuid.uuid4().hex[:8]}")
    approval = await henan.client.post(f"{EXPORTS}/{asked['id']}/approval", headers=other)
    assert approval.status_code == 404, approval.text
    listed = await henan.client.get(EXPORTS, headers=other)
    assert asked["id"] not in [e["id"] for e in listed.json()]
    assert await audit_of(henan, asked["id"]) == [("export.requested", asker)]


async def test_an_approved_export_expires_after_the_download_window(henan: Province) -> None:
    _, asker_headers = county_user(henan)
    _, approver_headers = county_user(henan)
    asked = await ask(henan, asker_headers)
    approved = await henan.client.post(f"{EXPORTS}/{asked['id']}/approval", headers=approver_headers)
    assert approved.status_code == 200, approved.text
    async with henan.ctx.uow() as uow:
        # As if approved a moment more than the window ago.
        await uow.session.execute(
            update(TransferExportRequest)
            .where(TransferExportRequest.id == asked["id"])
            .values(approved_at=TransferExportRequest.approved_at - DOWNLOAD_WINDOW - timedelta(minutes=1))
        )
        await uow.commit()
    response = await henan.client.get(f"{EXPORTS}/{asked['id']}/download", headers=asker_headers)
    assert response.status_code == 409 and "expired" in response.json()["detail"]
    state = await henan.client.get(f"{EXPORTS}/{asked['id']}", headers=asker_headers)
    assert state.json()["state"] == "expired"
    async with henan.ctx.sessionmaker() as session:
        row = await session.get(TransferExportRequest, asked["id"])
        assert row is not None and row.downloaded_at is None


async def test_the_workbook_holds_only_the_requesters_jurisdiction(henan: Province) -> None:
    prefix = unique_student_name()
    await cancelled_case(henan, f"{prefix}甲")  # a Zhengzhou school's case, to Kaifeng
    registrar = f"registrar-{uuid.uuid4().hex[:8]}"
    asker_headers = henan.headers(Role.SCHOOL_REGISTRAR, HENAN_OTHER_SCHOOL.school, registrar)
    leader = henan.headers(Role.SCHOOL_LEADER, HENAN_OTHER_SCHOOL.school, f"leader-{uuid.uuid4().hex[:8]}")
    asked = await ask(henan, asker_headers, student_name=prefix)
    assert asked["count_at_request"] == 0
    approved = await henan.client.post(f"{EXPORTS}/{asked['id']}/approval", headers=leader)
    assert approved.status_code == 200, approved.text
    response = await henan.client.get(f"{EXPORTS}/{asked['id']}/download", headers=asker_headers)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert "共 0 条" in str(rows[0][0]) and rows[2:] == []


async def test_bad_requests_are_4xx_naming_the_field(henan: Province) -> None:
    _, headers = county_user(henan)
    no_reason = await henan.client.post(EXPORTS, json={}, headers=headers)
    assert no_reason.status_code == 422 and "reason" in str(no_reason.json()["errors"])
    unknown = await henan.client.post(EXPORTS, json={"reason": "核对", "everyone": True}, headers=headers)
    assert unknown.status_code == 422 and "everyone" in str(unknown.json()["errors"])
    missing = await henan.client.post(f"{EXPORTS}/{uuid.uuid4()}/approval", headers=headers)
    assert missing.status_code == 404, missing.text
    too_long = await henan.client.get(f"{EXPORTS}/{'x' * 41}", headers=headers)
    assert too_long.status_code == 422, too_long.text
    student = henan.headers(Role.STUDENT, DEST.school, "student")
    refused = await henan.client.post(EXPORTS, json={"reason": "核对"}, headers=student)
    assert refused.status_code == 403, refused.text


def test_a_stored_filter_reads_back_as_the_same_filter() -> None:
    wanted = CaseFilter.from_stored(
        {
            "origin_province": "41",
            "dest_province": "37",
            "kind": ["in_province"],
            "state": ["COMPLETED", "REJECTED"],
            "from": "2026-11-01",
            "to": "2026-11-30",
            "student_number": "G410102200901011234",
            "student_name": "张",
            "school": DEST.school,
        }
    )
    assert CaseFilter.from_stored(wanted.stored()) == wanted
    assert wanted.stored()["student_number"] == "G410102200901011234"  # unmasked, so it still selects
    assert CaseFilter.from_stored(CaseFilter().stored()) == CaseFilter()


# ---- evidence --------------------------------------------------------------------------------


async def test_an_evidence_download_is_audit_logged(henan: Province) -> None:
    username = f"registrar-{uuid.uuid4().hex[:8]}"
    headers = henan.headers(Role.SCHOOL_REGISTRAR, ORIGIN.school, username)
    upload = await upload_evidence(henan, headers, filename="申请书.pdf")
    evidence_id = upload["evidence_id"]
    response = await henan.client.get(f"/api/v1/transfers/evidence/{evidence_id}", headers=headers)
    assert response.status_code == 200 and response.content == b"%PDF-1.4 handwritten request"
    stranger = henan.headers(Role.SCHOOL_REGISTRAR, HENAN_OTHER_SCHOOL.school, f"x-{uuid.uuid4().hex[:8]}")
    hidden = await henan.client.get(f"/api/v1/transfers/evidence/{evidence_id}", headers=stranger)
    assert hidden.status_code == 404, hidden.text
    async with henan.ctx.sessionmaker() as session:
        entries = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.subject == f"evidence:{evidence_id}"))
        )
    [entry] = entries
    assert (entry.action, entry.actor_name, entry.actor_org) == (
        "evidence.downloaded",
        username,
        ORIGIN.school,
    )
    assert entry.detail["sha256"] == upload["sha256"]
