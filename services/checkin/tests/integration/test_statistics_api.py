"""学籍注册统计 on the real servers: counts per school / class / major / grade / county computed in
SQL agree with the lists and with the eligibility rule; the counselor's view of the current
rounds; the xlsx export is audit-logged."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.checkin.domain.eligibility import Candidate, RoundScope, eligibility
from services.checkin.models import StudentView
from services.checkin.models.exports import AuditEntry
from services.checkin.round_lists import eligible_for
from services.checkin.tests.integration.conftest import Area, RunningCheckin, seed_round_scenario
from shared.auth import Role
from shared.testing import unique_name

SCHOOL_A = {
    "eligible": 6,  # normal, internship, off_campus, suspected_cheating, pending, none
    "checked_in": 4,
    "completed": 2,
    "normal": 1,
    "internship": 1,
    "off_campus": 1,
    "suspected_cheating": 1,
    "incomplete": 4,
    "completion_rate": 0.3333,
}


async def stats(
    checkin: RunningCheckin, round_id: Any, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await checkin.client.get(
        f"/api/v1/rounds/{round_id}/statistics", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def measures(group: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in group.items() if key != "key"}


async def test_statistics__per_school_for_the_county(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    body = await stats(checkin, scenario.round.id, checkin.auth(Role.COUNTY, area.county), by="school")
    groups = {group["key"]["school_code"]: measures(group) for group in body["groups"]}
    assert groups[area.school] == SCHOOL_A
    assert groups[area.other_school] == {
        **dict.fromkeys(SCHOOL_A, 0),
        "eligible": 1,
        "incomplete": 1,
        "completion_rate": 0.0,
    }
    assert body["total"]["eligible"] == 7 and body["total"]["completed"] == 2


async def test_statistics__per_class_major_grade_and_county(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    school = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    by_class = await stats(checkin, scenario.round.id, school, by="class")
    assert [(g["key"]["class_id"], g["eligible"]) for g in by_class["groups"]] == [
        (f"class-{area.school}-2024-1", 6)
    ]
    by_major = await stats(checkin, scenario.round.id, school, by="major")
    majors = {g["key"]["major_code"]: (g["eligible"], g["completed"]) for g in by_major["groups"]}
    # Even-numbered cases (normal, off_campus, pending) 660101, odd ones 710201.
    assert majors == {"660101": (3, 1), "710201": (3, 1)}
    by_grade = await stats(checkin, scenario.round.id, school, by="grade")
    assert [(g["key"]["grade"], g["eligible"]) for g in by_grade["groups"]] == [(2024, 6)]
    province = await stats(checkin, scenario.round.id, checkin.auth(Role.PROVINCE), by="county")
    assert {g["key"]["county_code"]: g["eligible"] for g in province["groups"]}[area.county] == 7
    city = await stats(checkin, scenario.round.id, checkin.auth(Role.CITY, area.city), by="city")
    assert [(g["key"]["city_code"], g["eligible"]) for g in city["groups"]] == [(area.city, 7)]


async def test_statistics__agree_with_the_lists(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    county = checkin.auth(Role.COUNTY, area.county)
    total = (await stats(checkin, scenario.round.id, county))["total"]
    incomplete = await checkin.client.get(f"/api/v1/rounds/{scenario.round.id}/incomplete", headers=county)
    completed = await checkin.client.get(f"/api/v1/rounds/{scenario.round.id}/completed", headers=county)
    assert total["incomplete"] == incomplete.json()["total"]
    assert total["checked_in"] == completed.json()["total"]


async def test_eligible_for__says_what_the_eligibility_rule_says(checkin: RunningCheckin, area: Area) -> None:
    """The SQL form and the domain rule, on the same students (one with leave on the round)."""
    scenario = await seed_round_scenario(checkin, area)
    on_leave = scenario.students["on_leave"].student_id
    async with checkin.ctx.sessionmaker() as session:
        in_sql = set(
            await session.scalars(
                select(StudentView.student_id).where(
                    eligible_for(scenario.round), StudentView.county_code == area.county
                )
            )
        )
        rows = list(await session.scalars(select(StudentView).where(StudentView.county_code == area.county)))
    in_rule = {
        row.student_id
        for row in rows
        if eligibility(RoundScope.of(scenario.round), Candidate.of(row), row.student_id == on_leave).eligible
    }
    assert in_sql == in_rule
    assert len(in_sql) == 7


async def test_statistics__a_counselor_sees_their_students_in_the_current_rounds(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    closed = await seed_round_scenario(checkin, area, state="closed")
    counselor = checkin.auth(Role.COUNSELOR, area.school, account_id=scenario.counselor)
    response = await checkin.client.get("/api/v1/progress/current-rounds", headers=counselor)
    assert response.status_code == 200, response.text
    rounds = {item["round_id"]: item for item in response.json()}
    assert str(closed.round.id) not in rounds
    mine = rounds[str(scenario.round.id)]
    assert (mine["eligible"], mine["completed"], mine["normal"], mine["incomplete"]) == (2, 1, 1, 1)
    student = await checkin.client.get(
        "/api/v1/progress/current-rounds", headers=checkin.as_student(scenario.students["none"])
    )
    assert student.status_code == 403


async def test_statistics__bad_grouping_is_refused(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    response = await checkin.client.get(
        f"/api/v1/rounds/{scenario.round.id}/statistics",
        params={"by": "dormitory"},
        headers=checkin.auth(Role.COUNTY, area.county),
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "query.by"


async def test_statistics_workbook__counts_and_an_audit_entry(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    county = checkin.principal(Role.COUNTY, area.county)
    headers = {"Authorization": f"Bearer {checkin.issuer.issue(county)}"}
    response = await checkin.client.get(
        f"/api/v1/rounds/{scenario.round.id}/statistics.xlsx", params={"by": "school"}, headers=headers
    )
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert scenario.round.name in str(rows[0][0])
    assert rows[1][:4] == ("学校代码", "学校", "应核验人数", "已核验人数")
    by_school = {row[0]: row for row in rows[2:]}
    assert by_school[area.school][2:5] == (6, 4, 2)
    assert by_school["合计"][2] == 7
    async with checkin.ctx.sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.actor_id == county.account_id))
        assert entry is not None
        assert (entry.action, entry.subject) == ("statistics.exported", f"round:{scenario.round.id}")
        assert entry.detail["by"] == "school" and len(entry.entry_hash) == 64
    student = await checkin.client.get(
        f"/api/v1/rounds/{scenario.round.id}/statistics.xlsx",
        headers=checkin.as_student(scenario.students["none"]),
    )
    assert student.status_code == 403


async def test_audit_entry__is_append_only_and_chained(checkin: RunningCheckin, area: Area) -> None:
    scenario = await seed_round_scenario(checkin, area)
    headers = checkin.auth(Role.COUNTY, area.county)
    for _ in range(2):
        response = await checkin.client.get(
            f"/api/v1/rounds/{scenario.round.id}/statistics.xlsx", headers=headers
        )
        assert response.status_code == 200
    async with checkin.ctx.sessionmaker() as session:
        last_two = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(2)))
        assert last_two[0].prev_hash == last_two[1].entry_hash
        for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
            try:
                await session.execute(text(statement))
            except DBAPIError as exc:
                assert "append-only" in str(exc)
                await session.rollback()
            else:
                raise AssertionError(f"{statement} went through")


async def test_statistics_workbook__takes_the_county_filter_and_logs_it(
    checkin: RunningCheckin, area: Area
) -> None:
    scenario = await seed_round_scenario(checkin, area)
    province = checkin.principal(Role.PROVINCE, account_id=unique_name("province"))
    headers = {"Authorization": f"Bearer {checkin.issuer.issue(province)}"}
    url = f"/api/v1/rounds/{scenario.round.id}/statistics.xlsx"
    own = await checkin.client.get(url, params={"by": "county", "county_code": area.county}, headers=headers)
    assert own.status_code == 200, own.text
    rows = list(load_workbook(io.BytesIO(own.content)).active.iter_rows(values_only=True))
    assert f"county_code={area.county}" in str(rows[0][0])  # the heading names the filter
    assert [row[:2] for row in rows[2:]] == [(area.county, 7), ("合计", 7)]
    other = area.county[:-1] + ("1" if area.county[-1] != "1" else "2")
    none = await checkin.client.get(url, params={"by": "county", "county_code": other}, headers=headers)
    rows = list(load_workbook(io.BytesIO(none.content)).active.iter_rows(values_only=True))
    assert [row[:2] for row in rows[2:]] == [("合计", 0)]
    async with checkin.ctx.sessionmaker() as session:
        logged = list(
            await session.scalars(
                select(AuditEntry.detail)
                .where(AuditEntry.actor_id == province.account_id)
                .order_by(AuditEntry.id)
            )
        )
    assert [entry["filters"] for entry in logged] == [{"county_code": area.county}, {"county_code": other}]
