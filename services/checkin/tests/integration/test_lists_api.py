"""已完成名单 and 未完成名单 (seed 000) on the real servers: who is on which list, the result and
time filters, eligibility (leave, part-time, status, grade), jurisdiction, masking, paging."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.checkin.tests.integration.conftest import (
    Area,
    RoundScenario,
    RunningCheckin,
    seed_round_scenario,
)
from shared.auth import Role


async def page(
    checkin: RunningCheckin, scenario: RoundScenario, which: str, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await checkin.client.get(
        f"/api/v1/rounds/{scenario.round.id}/{which}", params={"limit": 200, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> set[str]:
    return {item["student_id"] for item in body["items"]}


async def test_completed_list__every_decided_result_with_its_time(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    body = await page(checkin, scenario, "completed", school)
    assert ids(body) == scenario.ids("normal", "internship", "off_campus", "suspected_cheating")
    assert body["total"] == 4
    results = {item["name"]: (item["result"], item["result_zh"]) for item in body["items"]}
    assert results["00normal"] == ("normal", "正常")
    assert results["01internship"] == ("internship", "正在实习")
    assert results["02off_campus"] == ("off_campus", "不在校区")
    assert results["03suspected_cheating"] == ("suspected_cheating", "疑似作弊")
    assert all(item["checked_in_at"] for item in body["items"])


async def test_completed_list__result_and_time_filters(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    off = await page(checkin, scenario, "completed", school, result="off_campus")
    assert ids(off) == scenario.ids("off_campus")
    now = datetime.now(UTC)
    early = await page(
        checkin, scenario, "completed", school, checked_in_to=(now - timedelta(minutes=30)).isoformat()
    )
    assert ids(early) == scenario.ids("normal")  # checked in 50 minutes ago, the rest later
    late = await page(
        checkin,
        scenario,
        "completed",
        school,
        checked_in_from=(now - timedelta(minutes=17)).isoformat(),
        checked_in_to=now.isoformat(),
    )
    assert ids(late) == scenario.ids("off_campus", "suspected_cheating")


async def test_incomplete_list__eligible_without_a_valid_check_in(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = await page(checkin, scenario, "incomplete", checkin.auth(Role.SCHOOL_REGISTRAR, area.school))
    # Off campus and suspected cheating may still be replaced: they are to chase, with their result.
    # Part-time (verification round), on leave, suspended and grade 2023 are not called at all.
    assert ids(school) == scenario.ids("off_campus", "suspected_cheating", "pending", "none")
    latest = {item["name"]: item["result"] for item in school["items"]}
    assert latest == {
        "02off_campus": "off_campus",
        "03suspected_cheating": "suspected_cheating",
        "04pending": None,
        "05none": None,
    }
    county = await page(checkin, scenario, "incomplete", checkin.auth(Role.COUNTY, area.county))
    assert ids(county) == scenario.ids("off_campus", "suspected_cheating", "pending", "none", "other_school")


async def test_incomplete_list__a_registration_round_calls_part_time_students(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area, kind="registration")
    school = await page(checkin, scenario, "incomplete", checkin.auth(Role.SCHOOL_REGISTRAR, area.school))
    assert scenario.ids("part_time") <= ids(school)
    assert not scenario.ids("on_leave", "suspended", "grade_2023") & ids(school)


async def test_lists__counselor_student_and_outsiders(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    counselor = checkin.auth(Role.COUNSELOR, area.school, account_id=scenario.counselor)
    assert ids(await page(checkin, scenario, "incomplete", counselor)) == scenario.ids("none")
    assert ids(await page(checkin, scenario, "completed", counselor)) == scenario.ids("normal")
    itself = checkin.as_student(scenario.students["none"])
    assert ids(await page(checkin, scenario, "incomplete", itself)) == scenario.ids("none")
    other_school = checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school)
    assert ids(await page(checkin, scenario, "incomplete", other_school)) == scenario.ids("other_school")
    other_county = checkin.auth(Role.COUNTY, "419999" if area.county != "419999" else "419998")
    assert (await page(checkin, scenario, "completed", other_county))["total"] == 0


async def test_lists__masked_filtered_and_paged(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    body = await page(checkin, scenario, "incomplete", school)
    for item in body["items"]:
        assert "*" in item["student_number_masked"] and "*" in item["id_number_masked"]
    first = await page(checkin, scenario, "incomplete", school, limit=3, offset=0)
    rest = await page(checkin, scenario, "incomplete", school, limit=3, offset=3)
    assert (first["total"], len(first["items"]), len(rest["items"])) == (4, 3, 1)
    assert ids(first) | ids(rest) == ids(body)
    by_major = await page(checkin, scenario, "incomplete", school, major_code="710201")
    assert ids(by_major) == scenario.ids("suspected_cheating", "none")  # the odd-numbered cases
    by_name = await page(checkin, scenario, "incomplete", school, name="05")
    assert ids(by_name) == scenario.ids("none")
    wildcard = await page(checkin, scenario, "incomplete", school, name="%")
    assert wildcard["total"] == 0  # a name is a prefix, not a pattern


async def test_lists__bad_input_is_a_clear_4xx(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    base = f"/api/v1/rounds/{scenario.round.id}"
    bogus = await checkin.client.get(f"{base}/completed", params={"result": "absent"}, headers=school)
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"] == "query.result"
    backwards = await checkin.client.get(
        f"{base}/completed",
        params={"checked_in_from": "2026-11-02T00:00:00+08:00", "checked_in_to": "2026-11-01T00:00:00+08:00"},
        headers=school,
    )
    assert backwards.status_code == 422 and "checked_in_to is before" in backwards.json()["detail"]
    bad_school = await checkin.client.get(f"{base}/incomplete", params={"school_code": "12"}, headers=school)
    assert bad_school.status_code == 422 and bad_school.json()["errors"][0]["field"] == "query.school_code"
    unknown = await checkin.client.get(f"/api/v1/rounds/{uuid.uuid4()}/incomplete", headers=school)
    assert unknown.status_code == 404
    anonymous = await checkin.client.get(f"{base}/incomplete")
    assert anonymous.status_code == 401


async def test_completed_list__result_completed_is_normal_and_internship(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    county = checkin.auth(Role.COUNTY, area.county)
    completed = await page(checkin, scenario, "completed", county, result="completed")
    # 已完成 of the statistics: off campus and suspected cheating are on the list, not completed.
    assert ids(completed) == scenario.ids("normal", "internship")
    statistics = await checkin.client.get(f"/api/v1/rounds/{scenario.round.id}/statistics", headers=county)
    assert completed["total"] == statistics.json()["total"]["completed"] == 2


def elsewhere(code: str) -> str:
    """A code of the same length that is not ``code`` (no student of the scenario is there)."""
    return code[:-1] + ("1" if code[-1] != "1" else "2")


async def test_lists__city_and_county_filters_select_a_bureau_group(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    province = checkin.auth(Role.PROVINCE)
    in_county = await page(checkin, scenario, "incomplete", province, county_code=area.county)
    assert ids(in_county) == scenario.ids(
        "off_campus", "suspected_cheating", "pending", "none", "other_school"
    )
    assert (await page(checkin, scenario, "incomplete", province, county_code=elsewhere(area.county)))[
        "total"
    ] == 0
    in_city = await page(checkin, scenario, "completed", province, city_code=area.city, result="completed")
    assert ids(in_city) == scenario.ids("normal", "internship")
    assert (await page(checkin, scenario, "completed", province, city_code=elsewhere(area.city)))[
        "total"
    ] == 0
    # The statistics take the same filters, so a county's row and its lists agree.
    statistics = await checkin.client.get(
        f"/api/v1/rounds/{scenario.round.id}/statistics",
        params={"county_code": elsewhere(area.county), "by": "county"},
        headers=province,
    )
    assert statistics.status_code == 200 and statistics.json()["groups"] == []


async def test_lists__a_bad_region_code_is_a_422_naming_it(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    province = checkin.auth(Role.PROVINCE)
    base = f"/api/v1/rounds/{scenario.round.id}"
    for path, field, value in [
        ("incomplete", "county_code", "4101"),
        ("completed", "city_code", "410101"),
        ("statistics", "county_code", "41010x"),
    ]:
        answer = await checkin.client.get(f"{base}/{path}", params={field: value}, headers=province)
        assert answer.status_code == 422, (path, field)
        assert answer.json()["errors"][0]["field"] == f"query.{field}"
