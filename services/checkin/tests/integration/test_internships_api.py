"""Internship placements (实习备案) on the real servers: the school files them for one student or
a list, corrects and withdraws them, inside its own jurisdiction; one placement at a time."""

from __future__ import annotations

from typing import Any

from services.checkin.tests.integration.conftest import Area, RunningCheckin, seed_area_student
from shared.auth import Role

PLACEMENT = {
    "company": "郑州宇通客车股份有限公司",
    "address": "郑州市管城回族区宇通路6号",
    "position": "装配技术员",
    "starts_on": "2026-09-01",
    "ends_on": "2026-12-31",
}


async def file(checkin: RunningCheckin, area: Area, student_ids: list[str], **changes: Any) -> Any:
    return await checkin.client.post(
        "/api/v1/internships",
        json={**PLACEMENT, "student_ids": student_ids, **changes},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )


async def test_file_placements__for_a_list_of_students(checkin: RunningCheckin, area: Area) -> None:
    students = [await seed_area_student(checkin, area, name=f"学生{i}") for i in range(3)]
    filed = await file(checkin, area, [s.student_id for s in students])
    assert filed.status_code == 201, filed.text
    rows = filed.json()
    assert sorted(r["student_name"] for r in rows) == ["学生0", "学生1", "学生2"]
    assert {(r["company"], r["position"], r["school_code"]) for r in rows} == {
        (PLACEMENT["company"], "装配技术员", area.school)
    }
    listed = await checkin.client.get(
        "/api/v1/internships",
        params={"active_on": "2026-10-01", "student_id": students[0].student_id},
        headers=checkin.auth(Role.COUNTY, area.county),
    )
    assert listed.json()["total"] == 1
    before = await checkin.client.get(
        "/api/v1/internships",
        params={"active_on": "2026-08-31", "student_id": students[0].student_id},
        headers=checkin.auth(Role.COUNTY, area.county),
    )
    assert before.json()["total"] == 0


async def test_file_placements__only_students_of_the_school(checkin: RunningCheckin, area: Area) -> None:
    mine = await seed_area_student(checkin, area)
    theirs = await seed_area_student(checkin, area, school=area.other_school)
    refused = await file(checkin, area, [mine.student_id, theirs.student_id])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "student_ids.1"
    listed = await checkin.client.get(
        "/api/v1/internships", params={"student_id": mine.student_id}, headers=checkin.as_student(mine)
    )
    assert listed.json()["total"] == 0  # nothing half-filed
    counselor = await checkin.client.post(
        "/api/v1/internships",
        json={**PLACEMENT, "student_ids": [mine.student_id]},
        headers=checkin.auth(Role.COUNSELOR, area.school),
    )
    assert counselor.status_code == 403


async def test_file_placements__bad_input_names_the_field(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    backwards = await file(checkin, area, [student.student_id], ends_on="2026-08-01")
    assert backwards.status_code == 422 and "ends_on is before starts_on" in backwards.json()["detail"]
    half_point = await file(checkin, area, [student.student_id], latitude=34.7)
    assert half_point.status_code == 422 and "latitude and longitude" in half_point.json()["detail"]
    nobody = await file(checkin, area, [])
    assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "body.student_ids"


async def test_file_placements__one_placement_at_a_time(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    assert (await file(checkin, area, [student.student_id])).status_code == 201
    clash = await file(checkin, area, [student.student_id], starts_on="2026-12-31", ends_on="2027-01-31")
    assert clash.status_code == 409 and PLACEMENT["company"] in clash.json()["detail"]
    after = await file(checkin, area, [student.student_id], starts_on="2027-01-01", ends_on="2027-01-31")
    assert after.status_code == 201, after.text


async def test_change_and_withdraw_placement(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    [placement] = (await file(checkin, area, [student.student_id])).json()
    registrar = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    changed = await checkin.client.patch(
        f"/api/v1/internships/{placement['id']}",
        json={"ends_on": "2026-11-30", "company": "宇通重工"},
        headers=registrar,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["ends_on"], changed.json()["company"], changed.json()["address"]) == (
        "2026-11-30",
        "宇通重工",
        PLACEMENT["address"],
    )
    backwards = await checkin.client.patch(
        f"/api/v1/internships/{placement['id']}", json={"starts_on": "2026-12-15"}, headers=registrar
    )
    assert backwards.status_code == 422 and "ends_on is before starts_on" in backwards.json()["detail"]
    foreign = await checkin.client.delete(
        f"/api/v1/internships/{placement['id']}",
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school),
    )
    assert foreign.status_code == 404
    withdrawn = await checkin.client.delete(f"/api/v1/internships/{placement['id']}", headers=registrar)
    assert withdrawn.status_code == 204
    gone = await checkin.client.get(
        "/api/v1/internships", params={"student_id": student.student_id}, headers=registrar
    )
    assert gone.json()["total"] == 0
