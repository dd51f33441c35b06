"""应核验名单 on the real servers: the statistics' eligible number has exactly this list behind it,
with each student's current result; and the completed list counts only eligible students, as
the statistics do."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from services.checkin.models import Leave
from services.checkin.tests.integration.conftest import Area, RunningCheckin, seed_round_scenario
from services.checkin.tests.integration.test_lists_api import ids, page
from shared.auth import Role
from shared.testing import unique_name


async def statistics_total(
    checkin: RunningCheckin, round_id: Any, headers: dict[str, str], **params: Any
) -> Any:
    response = await checkin.client.get(
        f"/api/v1/rounds/{round_id}/statistics", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_eligible_list__is_the_statistics_eligible_number_with_results(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    county = checkin.auth(Role.COUNTY, area.county)
    body = await page(checkin, scenario, "eligible", county)
    everyone = ("normal", "internship", "off_campus", "suspected_cheating", "pending", "none", "other_school")
    assert ids(body) == scenario.ids(*everyone)  # not part-time, on leave, suspended, grade 2023
    results = {item["name"]: item["result"] for item in body["items"]}
    assert results["00normal"] == "normal" and results["04pending"] is None and results["05none"] is None
    assert all(item["checked_in_at"] for item in body["items"] if item["result"])
    stats = await statistics_total(checkin, scenario.round.id, county, by="school")
    assert body["total"] == stats["total"]["eligible"] == len(everyone)
    for group in stats["groups"]:
        of_school = await page(checkin, scenario, "eligible", county, school_code=group["key"]["school_code"])
        assert of_school["total"] == group["eligible"], group


async def test_eligible_list__filters_and_jurisdiction_of_the_incomplete_list(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = await page(checkin, scenario, "eligible", checkin.auth(Role.SCHOOL_REGISTRAR, area.school))
    assert scenario.ids("other_school").isdisjoint(ids(school)) and school["total"] == 6
    counselor = checkin.auth(Role.COUNSELOR, area.school, account_id=scenario.counselor)
    assert ids(await page(checkin, scenario, "eligible", counselor)) == scenario.ids("normal", "none")
    by_major = await page(
        checkin, scenario, "eligible", checkin.auth(Role.SCHOOL_REGISTRAR, area.school), major_code="710201"
    )
    assert ids(by_major) == scenario.ids("internship", "suspected_cheating", "none")


async def test_eligible_list__bad_filters_are_422_naming_the_field(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    province = checkin.auth(Role.PROVINCE)
    base = f"/api/v1/rounds/{scenario.round.id}/eligible"
    for field, value in [("county_code", "4101"), ("study_form", "evening"), ("grade", "12")]:
        answer = await checkin.client.get(base, params={field: value}, headers=province)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["errors"][0]["field"] == f"query.{field}"
    unpaged = await checkin.client.get(base, params={"limit": 0}, headers=province)
    assert unpaged.status_code == 422 and unpaged.json()["errors"][0]["field"] == "query.limit"


async def test_leave_after_checking_in__in_neither_the_completed_list_nor_the_number(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    county = checkin.auth(Role.COUNTY, area.county)
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    async with checkin.ctx.sessionmaker() as session:
        session.add(
            Leave(
                student_id=scenario.students["normal"].student_id,
                school_code=area.school,
                term="2026-autumn",
                starts_on=today - timedelta(days=1),
                ends_on=today + timedelta(days=1),
                reason="病假",
                state="approved",
            )
        )
        await session.commit()
    completed = await page(checkin, scenario, "completed", county)
    assert ids(completed) == scenario.ids("internship", "off_campus", "suspected_cheating")
    normal = await page(checkin, scenario, "completed", county, result="normal")
    stats = (await statistics_total(checkin, scenario.round.id, county))["total"]
    assert normal["total"] == stats["normal"] == 0
    assert completed["total"] == stats["checked_in"] == 3
    assert (await page(checkin, scenario, "completed", county, result="completed"))["total"] == stats[
        "completed"
    ]
    eligible = await page(checkin, scenario, "eligible", county)
    assert scenario.ids("normal").isdisjoint(ids(eligible)) and eligible["total"] == stats["eligible"]


async def test_eligible_list__exported_under_dual_post_with_the_same_filter(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    asking = checkin.auth(Role.COUNTY, area.county, account_id=unique_name("county"))
    filters = {"school_code": area.school}
    body = {"kind": "eligible_list", "round_id": str(scenario.round.id), "filters": filters, "reason": "报送"}
    export = (await checkin.client.post("/api/v1/exports", json=body, headers=asking)).json()
    listed = await page(checkin, scenario, "eligible", asking, **filters)
    assert export["kind"] == "eligible_list" and export["count_at_request"] == listed["total"] == 6
    colleague = checkin.auth(Role.COUNTY, area.county, account_id=unique_name("county"))
    approval = await checkin.client.post(f"/api/v1/exports/{export['id']}/approval", headers=colleague)
    assert approval.status_code == 200, approval.text
    downloaded = await checkin.client.get(f"/api/v1/exports/{export['id']}/download", headers=asking)
    assert downloaded.status_code == 200, downloaded.text
    rows = list(load_workbook(io.BytesIO(downloaded.content)).active.iter_rows(values_only=True))
    assert "应核验名单" in str(rows[0][0])
    assert sorted(str(row[2]) for row in rows[2:]) == sorted(item["name"] for item in listed["items"])
    typo = await checkin.client.post(
        "/api/v1/exports", json={**body, "filters": {"result": "normal"}}, headers=asking
    )
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "filters.result"
