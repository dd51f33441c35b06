"""xlsx exports of a round's lists under dual post (双岗) on the real servers: a second user of
the same school approves, the requester downloads once; every step is in the audit log."""

from __future__ import annotations

import io
import uuid
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from services.checkin.models.exports import AuditEntry
from services.checkin.tests.integration.conftest import Area, RunningCheckin, seed_round_scenario
from shared.auth import Role
from shared.testing import unique_name


def bearer(checkin: RunningCheckin, role: Role, org: str, account_id: str) -> dict[str, str]:
    return checkin.auth(role, org, account_id=account_id)


async def test_list_export__dual_post_then_one_download(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    requester, approver = unique_name("registrar"), unique_name("leader")
    asking = bearer(checkin, Role.SCHOOL_REGISTRAR, area.school, requester)
    body = {
        "kind": "completed_list",
        "round_id": str(scenario.round.id),
        "filters": {"result": "normal"},
        "reason": "报送教育局",
    }
    requested = await checkin.client.post("/api/v1/exports", json=body, headers=asking)
    assert requested.status_code == 201, requested.text
    export = requested.json()
    assert (export["state"], export["count_at_request"]) == ("pending", 1)

    not_yet = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=asking)
    assert not_yet.status_code == 409
    own = await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=asking)
    assert own.status_code == 403 and own.json()["type"] == "urn:xueji:problem:dual-post"
    for outsider in (
        bearer(checkin, Role.SCHOOL_REGISTRAR, area.other_school, unique_name("r")),
        bearer(checkin, Role.COUNTY, area.county, unique_name("c")),
    ):
        refused = await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=outsider)
        assert refused.status_code == 404
    approving = bearer(checkin, Role.SCHOOL_LEADER, area.school, approver)
    approved = await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=approving)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["approved_by"]) == ("approved", approver)
    seen = await checkin.client.get(f"/api/v1/exports/{export['id']}", headers=asking)
    assert (seen.json()["state"], seen.json()["download_until"] is not None) == ("approved", True)
    listed = await checkin.client.get("/api/v1/exports", headers=approving)
    assert export["id"] in {item["id"] for item in listed.json()}

    by_approver = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=approving)
    assert by_approver.status_code == 403
    downloaded = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=asking)
    assert downloaded.status_code == 200, downloaded.text
    rows = list(load_workbook(io.BytesIO(downloaded.content)).active.iter_rows(values_only=True))
    assert "已完成名单" in str(rows[0][0]) and "共 1 条" in str(rows[0][0])
    assert rows[1][:4] == ("序号", "学籍号", "姓名", "身份证号")
    [student_row] = rows[2:]
    assert student_row[2] == "00normal" and student_row[10] == "正常"
    assert "*" in str(student_row[1]) and "*" in str(student_row[3])  # masked in the file as on screen
    again = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=asking)
    assert again.status_code == 409

    async with checkin.ctx.sessionmaker() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject == f"export:{export['id']}")
                .order_by(AuditEntry.id)
            )
        )
    assert [(e.action, e.actor_id) for e in entries] == [
        ("export.requested", requester),
        ("export.approved", approver),
        ("export.downloaded", requester),
    ]
    assert entries[0].detail["reason"] == "报送教育局" and entries[2].detail["count"] == 1


async def test_list_export__the_incomplete_list_of_a_county(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    requester = unique_name("county")
    asking = bearer(checkin, Role.COUNTY, area.county, requester)
    body = {"kind": "incomplete_list", "round_id": str(scenario.round.id), "reason": "督促未完成学生"}
    export = (await checkin.client.post("/api/v1/exports", json=body, headers=asking)).json()
    assert export["count_at_request"] == 5
    school = bearer(checkin, Role.SCHOOL_REGISTRAR, area.school, unique_name("r"))
    # A bureau's export is approved by the bureau, not by one of its schools.
    assert (
        await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=school)
    ).status_code == 404
    colleague = bearer(checkin, Role.COUNTY, area.county, unique_name("county"))
    assert (
        await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=colleague)
    ).status_code == 200
    downloaded = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=asking)
    rows = list(load_workbook(io.BytesIO(downloaded.content)).active.iter_rows(values_only=True))
    assert sorted(str(row[2]) for row in rows[2:]) == [
        "02off_campus",
        "03suspected_cheating",
        "04pending",
        "05none",
        "99other",
    ]
    assert {row[-1] for row in rows[2:]} == {"不在校区", "疑似作弊", "未核验"}


async def test_list_export__bad_requests(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    asking = bearer(checkin, Role.SCHOOL_REGISTRAR, area.school, unique_name("r"))
    base: dict[str, Any] = {"kind": "completed_list", "round_id": str(scenario.round.id), "reason": "报送"}
    typo = await checkin.client.post(
        "/api/v1/exports", json={**base, "filters": {"resutl": "normal"}}, headers=asking
    )
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "filters.resutl"
    wrong_filter = await checkin.client.post(
        "/api/v1/exports",
        json={**base, "kind": "incomplete_list", "filters": {"result": "normal"}},
        headers=asking,
    )
    assert wrong_filter.status_code == 422  # the incomplete list has no result filter
    no_reason = await checkin.client.post("/api/v1/exports", json={**base, "reason": ""}, headers=asking)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "body.reason"
    unknown_round = await checkin.client.post(
        "/api/v1/exports", json={**base, "round_id": str(uuid.uuid4())}, headers=asking
    )
    assert unknown_round.status_code == 404
    counselor = await checkin.client.post(
        "/api/v1/exports", json=base, headers=checkin.auth(Role.COUNSELOR, area.school)
    )
    assert counselor.status_code == 403
    student = await checkin.client.post(
        "/api/v1/exports", json=base, headers=checkin.as_student(scenario.students["none"])
    )
    assert student.status_code == 403


async def test_list_export__carries_the_region_and_completed_filters(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    requester = unique_name("province")
    asking = bearer(checkin, Role.PROVINCE, "41", requester)
    body = {
        "kind": "completed_list",
        "round_id": str(scenario.round.id),
        "filters": {"county_code": area.county, "result": "completed"},
        "reason": "已完成名单报送",
    }
    requested = await checkin.client.post("/api/v1/exports", json=body, headers=asking)
    assert requested.status_code == 201, requested.text
    export = requested.json()
    assert export["count_at_request"] == 2  # normal + internship, as the list shows
    colleague = bearer(checkin, Role.PROVINCE, "41", unique_name("province"))
    approved = await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=colleague)
    assert approved.status_code == 200, approved.text
    downloaded = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=asking)
    rows = list(load_workbook(io.BytesIO(downloaded.content)).active.iter_rows(values_only=True))
    assert sorted(str(row[2]) for row in rows[2:]) == ["00normal", "01internship"]
    bad = await checkin.client.post(
        "/api/v1/exports",
        json={**body, "kind": "incomplete_list", "filters": {"city_code": "41"}},
        headers=asking,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "filters.city_code"
