"""The rounds API: who may publish what, validation as problem details, who sees which round."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.checkin.tests.integration.conftest import (
    FUTURE,
    PROVINCE,
    Area,
    RunningCheckin,
    seed_area_student,
    seed_future_round,
)
from shared.auth import Role


def window(days: int = 0, hours: float = 8) -> dict[str, str]:
    start = FUTURE + timedelta(days=days)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}


def field_of(response: Any) -> str:
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json"), body
    return str(body["errors"][0]["field"])


async def test_registration_round__the_province_sets_the_terms_round_once(checkin: RunningCheckin) -> None:
    body = {
        "name": "2032年春季电子学籍注册",
        "year": 2032,
        "season": "spring",
        "starts_at": "2032-03-04T00:00:00+08:00",
        "ends_at": "2032-03-04T23:59:59+08:00",
        "grades": [2029, 2030, 2031],
    }
    created = await checkin.client.post(
        "/api/v1/rounds/registration", json=body, headers=checkin.auth(Role.PROVINCE)
    )
    assert created.status_code == 201, created.text
    row = created.json()
    assert (row["kind"], row["term"], row["state"]) == ("registration", "2032-spring", "scheduled")
    assert (row["scope_level"], row["scope_code"], row["grades"]) == (
        "province",
        PROVINCE,
        [2029, 2030, 2031],
    )
    assert (row["face_policy"], row["face_sample_rate"]) == ("every", 1.0)

    again = await checkin.client.post(
        "/api/v1/rounds/registration", json={**body, "name": "重复"}, headers=checkin.auth(Role.PROVINCE)
    )
    assert again.status_code == 409, again.text


async def test_registration_round__only_the_province_sets_it(checkin: RunningCheckin) -> None:
    body = {"name": "x", "year": 2031, "season": "spring", "grades": [2029], **window()}
    for role in (Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR, Role.STUDENT):
        response = await checkin.client.post(
            "/api/v1/rounds/registration", json=body, headers=checkin.auth(role)
        )
        assert response.status_code == 403, (role, response.text)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": FUTURE.isoformat(), "starts_at": (FUTURE + timedelta(hours=1)).isoformat()}, "ends_at"),
        ({"starts_at": "2020-01-01T08:00:00+08:00", "ends_at": "2020-01-02T08:00:00+08:00"}, "ends_at"),
        ({"grades": [2031]}, "grades"),  # a spring term's newest intake is the previous autumn's
        ({"grades": [2010]}, "grades"),
        ({"grades": [2029, 2029]}, "grades"),
        ({"grades": []}, "body.grades"),
        ({"season": "autumn"}, "starts_at"),  # 2031-03-02 is not in the 2031 autumn term
        ({"face_policy": "sampled"}, "face_sample_rate"),
        ({"face_policy": "every", "face_sample_rate": 0.5}, "face_sample_rate"),
        ({"face_policy": "sampled", "face_sample_rate": 1.5}, "body.face_sample_rate"),
        ({"name": ""}, "body.name"),
        ({"starts_at": "2031-03-02T09:00:00"}, "body.starts_at"),  # no time zone
    ],
)
async def test_registration_round__bad_fields_are_named(
    checkin: RunningCheckin, change: dict[str, Any], field: str
) -> None:
    body = {
        "name": "2031年春季电子学籍注册",
        "year": 2031,
        "season": "spring",
        "grades": [2029, 2030],
        **window(),
    }
    body.update(change)
    response = await checkin.client.post(
        "/api/v1/rounds/registration", json=body, headers=checkin.auth(Role.PROVINCE)
    )
    assert response.status_code == 422, response.text
    assert field_of(response) == field


async def verification(checkin: RunningCheckin, role: Role, org: str | None, **body: Any) -> Any:
    payload = {"name": "点名核验", **window(), **body}
    return await checkin.client.post("/api/v1/rounds", json=payload, headers=checkin.auth(role, org))


async def test_verification_round__each_level_publishes_for_its_own_jurisdiction(
    checkin: RunningCheckin, area: Area
) -> None:
    await seed_area_student(checkin, area)  # the school is known to the read model
    neighbour = f"{area.city}{(int(area.county[4:]) + 1) % 100:02d}"

    own_county = await verification(checkin, Role.COUNTY, area.county)
    assert own_county.status_code == 201, own_county.text
    assert (own_county.json()["scope_level"], own_county.json()["scope_code"]) == ("county", area.county)
    assert (await verification(checkin, Role.COUNTY, area.county, scope_code=neighbour)).status_code == 403
    assert (await verification(checkin, Role.COUNTY, area.county, scope_code=area.city)).status_code == 403

    city_for_county = await verification(checkin, Role.CITY, area.city, scope_code=area.county)
    assert city_for_county.status_code == 201, city_for_county.text
    assert (await verification(checkin, Role.CITY, "4199", scope_code=area.county)).status_code == 403

    county_for_school = await verification(
        checkin, Role.COUNTY, area.county, scope_code=area.school, grades=[2029]
    )
    assert county_for_school.status_code == 201, county_for_school.text
    assert county_for_school.json()["scope_level"] == "school"
    assert (await verification(checkin, Role.COUNTY, neighbour, scope_code=area.school)).status_code == 403

    school = await verification(checkin, Role.SCHOOL_REGISTRAR, area.school)
    assert school.status_code == 201, school.text
    assert (school.json()["scope_code"], school.json()["grades"]) == (area.school, [])
    other = await verification(checkin, Role.SCHOOL_REGISTRAR, area.school, scope_code=area.other_school)
    assert other.status_code == 403

    for role in (Role.COUNSELOR, Role.STUDENT, Role.SCHOOL_LEADER):
        assert (await verification(checkin, role, area.school)).status_code == 403

    province = await verification(checkin, Role.PROVINCE, None, face_policy="sampled", face_sample_rate=0.01)
    assert province.status_code == 201, province.text
    assert (province.json()["face_policy"], province.json()["face_sample_rate"]) == ("sampled", 0.01)


async def test_verification_round__bad_fields_are_named(checkin: RunningCheckin, area: Area) -> None:
    unknown_school = await verification(checkin, Role.PROVINCE, None, scope_code="4999999999")
    assert unknown_school.status_code == 422 and field_of(unknown_school) == "scope_code"
    across_terms = await verification(checkin, Role.COUNTY, area.county, **window(hours=24 * 200))
    assert across_terms.status_code == 422 and field_of(across_terms) == "ends_at"
    bad_code = await verification(checkin, Role.COUNTY, area.county, scope_code="41010")
    assert bad_code.status_code == 422 and field_of(bad_code) == "body.scope_code"
    unknown_field = await verification(checkin, Role.COUNTY, area.county, colour="red")
    assert unknown_field.status_code == 422


async def test_list_rounds__a_student_sees_the_rounds_that_call_them_with_their_standing(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area, grade=2024)
    part_time = await seed_area_student(checkin, area, grade=2024, study_form="part_time")
    county_round = await seed_future_round(checkin, area)
    school_round = await seed_future_round(checkin, area, scope_level="school", grades=[])
    other_school = await seed_future_round(
        checkin, area, scope_level="school", scope_code=area.other_school, school_code=area.other_school
    )
    other_grade = await seed_future_round(checkin, area, grades=[2025])

    response = await checkin.client.get(
        "/api/v1/rounds", params={"term": "2031-spring"}, headers=checkin.as_student(student)
    )
    assert response.status_code == 200, response.text
    seen = {row["id"]: row for row in response.json()}
    assert {str(county_round.id), str(school_round.id)} <= set(seen)
    assert str(other_school.id) not in seen and str(other_grade.id) not in seen
    mine = seen[str(county_round.id)]["mine"]
    assert (mine["eligibility"], mine["result"], mine["missed"]) == ("eligible", None, False)

    theirs = await checkin.client.get(
        f"/api/v1/rounds/{county_round.id}", headers=checkin.as_student(part_time)
    )
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["mine"]["eligibility"] == "not_full_time"
    assert theirs.json()["mine"]["eligibility_text"] == "非全日制学生只参加每年两次学籍注册"

    hidden = await checkin.client.get(
        f"/api/v1/rounds/{other_school.id}", headers=checkin.as_student(student)
    )
    assert hidden.status_code == 404


async def test_list_rounds__bureaus_and_schools_see_rounds_above_and_inside_them(
    checkin: RunningCheckin, area: Area
) -> None:
    await seed_area_student(checkin, area)
    county_round = await seed_future_round(checkin, area)
    school_round = await seed_future_round(checkin, area, scope_level="school")
    elsewhere = await seed_future_round(
        checkin, area, scope_code="419999", county_code="419999", city_code="4199"
    )

    async def ids(role: Role, org: str | None) -> set[str]:
        response = await checkin.client.get(
            "/api/v1/rounds", params={"term": "2031-spring", "limit": 500}, headers=checkin.auth(role, org)
        )
        assert response.status_code == 200, response.text
        assert all("mine" not in row or row["mine"] is None for row in response.json())
        return {row["id"] for row in response.json()}

    mine = {str(county_round.id), str(school_round.id)}
    assert mine <= await ids(Role.COUNTY, area.county)
    assert str(elsewhere.id) not in await ids(Role.COUNTY, area.county)
    assert mine <= await ids(Role.CITY, area.city)
    assert mine | {str(elsewhere.id)} <= await ids(Role.PROVINCE, None)
    school_sees = await ids(Role.SCHOOL_REGISTRAR, area.school)
    assert mine <= school_sees and str(elsewhere.id) not in school_sees
    assert str(school_round.id) not in await ids(Role.SCHOOL_REGISTRAR, area.other_school)

    missing = await checkin.client.get(f"/api/v1/rounds/{uuid.uuid4()}", headers=checkin.auth(Role.PROVINCE))
    assert missing.status_code == 404
    unauthenticated = await checkin.client.get("/api/v1/rounds")
    assert unauthenticated.status_code == 401
