"""Leave (请假/销假) on the real servers: who may ask, decide and end; overlaps; the 15-day rule
per term with its SuspensionProposed event once per term, written with the approval."""

from __future__ import annotations

import asyncio
from typing import Any

from services.checkin.tests.integration.conftest import (
    Area,
    RunningCheckin,
    assign_counselor,
    seed_area_student,
)
from shared.auth import Role
from shared.events.common import StudentSummary
from shared.testing import unique_name

SUSPENSION = "checkin.student.suspension_proposed"


async def ask(checkin: RunningCheckin, student: StudentSummary, first: str, last: str, **extra: Any) -> Any:
    body = {"starts_on": first, "ends_on": last, "reason": "家中有事", **extra}
    return await checkin.client.post("/api/v1/leaves", json=body, headers=checkin.as_student(student))


async def granted(
    checkin: RunningCheckin, area: Area, student: StudentSummary, first: str, last: str
) -> dict[str, Any]:
    asked = await ask(checkin, student, first, last)
    assert asked.status_code == 201, asked.text
    decided = await checkin.client.post(
        f"/api/v1/leaves/{asked.json()['id']}/decision",
        json={"decision": "approve", "opinion": "同意"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    assert decided.status_code == 200, decided.text
    result: dict[str, Any] = decided.json()
    return result


async def proposals_for(checkin: RunningCheckin, student: StudentSummary) -> list[dict[str, Any]]:
    return [e.data for e in await checkin.outbox(SUSPENSION) if e.data["student_id"] == student.student_id]


async def test_request_leave__the_students_counselor_approves(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    counselor = unique_name("counselor")
    await assign_counselor(checkin, student, counselor)
    asked = await ask(checkin, student, "2026-10-08", "2026-10-10")
    assert asked.status_code == 201, asked.text
    leave = asked.json()
    assert (leave["state"], leave["term"], leave["days"]) == ("requested", "2026-autumn", 3)

    decided = await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/decision",
        json={"decision": "approve", "opinion": "注意安全"},
        headers=checkin.auth(Role.COUNSELOR, area.school, account_id=counselor),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "approved"
    assert decided.json()["decided_by"] == counselor
    assert decided.json()["opinion"] == "注意安全"


async def test_decide_leave__another_counselor_or_school_does_not_see_it(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    await assign_counselor(checkin, student, unique_name("counselor"))
    leave = (await ask(checkin, student, "2026-10-08", "2026-10-09")).json()
    for headers in (
        checkin.auth(Role.COUNSELOR, area.school, account_id=unique_name("someone-else")),
        checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school),
    ):
        refused = await checkin.client.post(
            f"/api/v1/leaves/{leave['id']}/decision", json={"decision": "approve"}, headers=headers
        )
        assert refused.status_code == 404, refused.text
    # A student does not approve their own leave; a bureau does not decide leave.
    for headers in (checkin.as_student(student), checkin.auth(Role.COUNTY, area.county)):
        refused = await checkin.client.post(
            f"/api/v1/leaves/{leave['id']}/decision", json={"decision": "approve"}, headers=headers
        )
        assert refused.status_code == 403, refused.text


async def test_request_leave__bad_input_names_the_field(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    backwards = await ask(checkin, student, "2026-10-10", "2026-10-08")
    assert backwards.status_code == 422
    assert "ends_on is before starts_on" in backwards.json()["detail"]
    too_long = await ask(checkin, student, "2026-09-01", "2027-06-30")
    assert too_long.status_code == 422
    assert "at most 180 days" in too_long.json()["detail"]
    no_reason = await checkin.client.post(
        "/api/v1/leaves",
        json={"starts_on": "2026-10-01", "ends_on": "2026-10-02"},
        headers=checkin.as_student(student),
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "body.reason"
    leave = (await ask(checkin, student, "2026-10-08", "2026-10-09")).json()
    silent_no = await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/decision",
        json={"decision": "reject"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    assert silent_no.status_code == 422
    assert "opinion" in silent_no.json()["detail"]
    staff = await checkin.client.post(
        "/api/v1/leaves",
        json={"starts_on": "2026-10-01", "ends_on": "2026-10-02", "reason": "x" * 3},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    assert staff.status_code == 403
    suspended = await seed_area_student(checkin, area, status="suspended")
    refused = await ask(checkin, suspended, "2026-10-01", "2026-10-02")
    assert refused.status_code == 409 and "suspended" in refused.json()["detail"]


async def test_request_leave__overlapping_leave_is_refused_a_rejected_one_is_not(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    first = (await ask(checkin, student, "2026-11-02", "2026-11-06")).json()
    overlapping = await ask(checkin, student, "2026-11-06", "2026-11-08")
    assert overlapping.status_code == 409
    assert first["id"] in overlapping.json()["detail"]
    adjacent = await ask(checkin, student, "2026-11-07", "2026-11-08")
    assert adjacent.status_code == 201, adjacent.text
    rejected = await checkin.client.post(
        f"/api/v1/leaves/{first['id']}/decision",
        json={"decision": "reject", "opinion": "期中考试期间不批假"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    assert rejected.json()["state"] == "rejected"
    again = await ask(checkin, student, "2026-11-03", "2026-11-04")
    assert again.status_code == 201, again.text
    twice = await checkin.client.post(
        f"/api/v1/leaves/{first['id']}/decision",
        json={"decision": "approve"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    assert twice.status_code == 409
    assert "rejected cannot be approved" in twice.json()["detail"]


async def test_end_leave__early_end_shortens_it_and_is_checked(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    leave = (await ask(checkin, student, "2026-10-12", "2026-10-20")).json()
    not_yet = await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/end",
        json={"ended_on": "2026-10-14"},
        headers=checkin.as_student(student),
    )
    assert not_yet.status_code == 409  # a request is not ended before it is approved
    leave = await granted(checkin, area, student, "2026-10-21", "2026-10-30")
    outside = await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/end",
        json={"ended_on": "2026-10-31"},
        headers=checkin.as_student(student),
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "ended_on"
    ended = await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/end",
        json={"ended_on": "2026-10-23"},
        headers=checkin.as_student(student),
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["state"], ended.json()["days"], ended.json()["ended_on"]) == (
        "ended",
        3,
        "2026-10-23",
    )
    assert ended.json()["ended_by"]
    other = await seed_area_student(checkin, area)
    foreign = await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/end",
        json={"ended_on": "2026-10-23"},
        headers=checkin.as_student(other),
    )
    assert foreign.status_code == 404  # another student's leave is not theirs to see


async def test_leave_limit__sixteen_days_in_a_term_proposes_suspension_once(
    checkin: RunningCheckin, area: Area
) -> None:
    student = await seed_area_student(checkin, area)
    await granted(checkin, area, student, "2026-09-07", "2026-09-16")  # 10 days
    await granted(checkin, area, student, "2026-10-12", "2026-10-16")  # 15: at the limit, not over
    assert await proposals_for(checkin, student) == []
    await granted(checkin, area, student, "2026-11-02", "2026-11-02")  # 16
    [proposed] = await proposals_for(checkin, student)
    assert proposed == {
        "student_id": student.student_id,
        "school_code": area.school,
        "term": "2026-autumn",
        "leave_days": 16,
    }
    await granted(checkin, area, student, "2026-12-01", "2026-12-03")  # 19: still one proposal per term
    assert len(await proposals_for(checkin, student)) == 1
    days = await checkin.client.get(
        f"/api/v1/students/{student.student_id}/leave-days",
        params={"term": "2026-autumn"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    assert days.json() == {
        "student_id": student.student_id,
        "term": "2026-autumn",
        "granted_days": 19,
        "limit_days": 15,
        "suspension_proposed": True,
    }


async def test_leave_limit__early_end_and_rejection_do_not_count(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    leave = await granted(checkin, area, student, "2026-09-01", "2026-09-12")  # 12 days asked
    await checkin.client.post(
        f"/api/v1/leaves/{leave['id']}/end",
        json={"ended_on": "2026-09-03"},
        headers=checkin.as_student(student),
    )  # 3 taken
    rejected = (await ask(checkin, student, "2026-10-01", "2026-10-20")).json()
    await checkin.client.post(
        f"/api/v1/leaves/{rejected['id']}/decision",
        json={"decision": "reject", "opinion": "不符合规定"},
        headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
    )
    await granted(checkin, area, student, "2026-11-01", "2026-11-12")  # 3 + 12 = 15
    assert await proposals_for(checkin, student) == []


async def test_leave_limit__days_are_counted_in_their_own_term(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    # 22 Jan – 9 Feb 2027: 10 days of 2026-autumn, 9 of 2027-spring; 19 in all, 15 in neither.
    await granted(checkin, area, student, "2027-01-22", "2027-02-09")
    assert await proposals_for(checkin, student) == []
    # Six more days in February: spring now has 15 — still not over; one more day is.
    await granted(checkin, area, student, "2027-02-16", "2027-02-21")
    assert await proposals_for(checkin, student) == []
    await granted(checkin, area, student, "2027-03-01", "2027-03-01")
    [proposed] = await proposals_for(checkin, student)
    assert (proposed["term"], proposed["leave_days"]) == ("2027-spring", 16)


async def test_leave_limit__concurrent_approvals_see_each_other(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    a = (await ask(checkin, student, "2026-09-01", "2026-09-08")).json()
    b = (await ask(checkin, student, "2026-10-01", "2026-10-08")).json()
    decisions = await asyncio.gather(
        *(
            checkin.client.post(
                f"/api/v1/leaves/{leave['id']}/decision",
                json={"decision": "approve"},
                headers=checkin.auth(Role.SCHOOL_REGISTRAR, area.school),
            )
            for leave in (a, b)
        )
    )
    assert [d.status_code for d in decisions] == [200, 200]
    [proposed] = await proposals_for(checkin, student)
    assert proposed["leave_days"] == 16


async def test_list_leaves__jurisdiction(checkin: RunningCheckin, area: Area) -> None:
    student = await seed_area_student(checkin, area)
    other = await seed_area_student(checkin, area, school=area.other_school)
    mine = (await ask(checkin, student, "2026-12-07", "2026-12-08")).json()
    theirs = (await ask(checkin, other, "2026-12-07", "2026-12-08")).json()

    async def ids(headers: dict[str, str]) -> set[str]:
        page = await checkin.client.get("/api/v1/leaves", params={"limit": 200}, headers=headers)
        assert page.status_code == 200, page.text
        return {item["id"] for item in page.json()["items"]}

    assert {mine["id"], theirs["id"]} <= await ids(checkin.auth(Role.COUNTY, area.county))
    school = await ids(checkin.auth(Role.SCHOOL_REGISTRAR, area.school))
    assert mine["id"] in school and theirs["id"] not in school
    assert await ids(checkin.as_student(student)) == {mine["id"]}
    outside = await ids(checkin.auth(Role.COUNTY, "419999"))
    assert not {mine["id"], theirs["id"]} & outside
