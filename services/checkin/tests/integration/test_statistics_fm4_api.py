"""FM4 学籍空挂 per school on the real servers: full-time in-school students called to a round in
the last three months without a valid check-in in them; the SQL says what domain/fm4.py says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.checkin.domain.fm4 import PresenceRecord, is_hollow_record
from services.checkin.tests.integration.conftest import (
    Area,
    RunningCheckin,
    record_check_in,
    record_miss,
    seed_area_student,
)
from shared.auth import Role
from shared.events.common import StudentSummary

CHINA = ZoneInfo("Asia/Shanghai")


async def test_fm4__per_school_and_the_students_it_counts(checkin: RunningCheckin, area: Area) -> None:
    now = datetime.now(UTC)
    scope = {
        "scope_level": "county",
        "scope_code": area.county,
        "county_code": area.county,
        "state": "closed",
    }
    recent = await checkin.seed_round(
        starts_at=now - timedelta(days=31), ends_at=now - timedelta(days=30), **scope
    )
    old = await checkin.seed_round(
        starts_at=now - timedelta(days=151), ends_at=now - timedelta(days=150), **scope
    )
    later = await checkin.seed_round(
        starts_at=now - timedelta(days=15), ends_at=now - timedelta(days=14), **scope
    )

    async def student(name: str, **overrides: Any) -> StudentSummary:
        return await seed_area_student(checkin, area, name=name, **overrides)

    missed_only = await student("missed_only")
    came_later = await student("came_later")
    missed_long_ago = await student("missed_long_ago")
    excused = await student("excused")
    part_time = await student("part_time", study_form="part_time")
    only_off_campus = await student("only_off_campus")
    elsewhere = await seed_area_student(checkin, area, school=area.other_school, name="elsewhere")
    for s in (missed_only, came_later, part_time, only_off_campus, elsewhere):
        await record_miss(checkin, recent, s)
    await record_miss(checkin, old, missed_long_ago)
    await record_miss(checkin, recent, excused, excused=True)
    await record_check_in(
        checkin, later.id, came_later, "normal", received_at=now - timedelta(days=14, hours=1)
    )
    await record_check_in(
        checkin, later.id, only_off_campus, "off_campus", received_at=now - timedelta(days=14, hours=1)
    )

    county = checkin.auth(Role.COUNTY, area.county)
    response = await checkin.client.get("/api/v1/fm4", headers=county)
    assert response.status_code == 200, response.text
    report = response.json()
    schools = {row["school_code"]: row for row in report["schools"]}
    assert {code: (row["full_time_in_school"], row["hollow"]) for code, row in schools.items()} == {
        area.school: (5, 2),
        area.other_school: (1, 1),
    }
    assert schools[area.school]["share"] == 0.4

    listed = await checkin.client.get(
        "/api/v1/fm4/students", params={"school_code": area.school}, headers=county
    )
    names = {item["name"] for item in listed.json()["items"]}
    assert names == {"missed_only", "only_off_campus"}
    assert all("*" in item["id_number_masked"] for item in listed.json()["items"])

    # The domain rule on the same facts.
    def day(moment: datetime) -> date:
        return moment.astimezone(CHINA).date()

    today = now.astimezone(CHINA).date()
    facts = {
        "missed_only": (None, day(recent.ends_at)),
        "came_later": (day(now - timedelta(days=14)), day(recent.ends_at)),
        "missed_long_ago": (None, day(old.ends_at)),
        "excused": (None, None),
        "only_off_campus": (None, day(recent.ends_at)),
    }
    by_rule = {
        name
        for name, (came, missed) in facts.items()
        if is_hollow_record(PresenceRecord("in_school", "full_time", came, missed), today)
    }
    assert by_rule == names

    school = await checkin.client.get("/api/v1/fm4", headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school))
    assert [row["school_code"] for row in school.json()["schools"]] == [area.school]
    # As of four months ago the recent round lay ahead; the window held the old round's miss.
    earlier = await checkin.client.get(
        "/api/v1/fm4", params={"as_of": str(today - timedelta(days=120))}, headers=county
    )
    assert {row["school_code"]: row["hollow"] for row in earlier.json()["schools"]}[area.school] == 1


async def test_fm4__bad_input_and_roles(checkin: RunningCheckin, area: Area) -> None:
    county = checkin.auth(Role.COUNTY, area.county)
    future = (datetime.now(CHINA).date() + timedelta(days=2)).isoformat()
    response = await checkin.client.get("/api/v1/fm4", params={"as_of": future}, headers=county)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "as_of"
    bad = await checkin.client.get("/api/v1/fm4", params={"school_code": "abc"}, headers=county)
    assert bad.status_code == 422
    counselor = await checkin.client.get("/api/v1/fm4", headers=checkin.auth(Role.COUNSELOR, area.school))
    assert counselor.status_code == 403
