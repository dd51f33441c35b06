"""Appeals (申诉): the student's goes to the school, the school's to the county bureau; an
accepted appeal excuses the misses and withdraws the prompt (MissPromptWithdrawn), a rejected
one changes nothing, and nobody else decides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.checkin.models import MissPrompt, Round
from services.checkin.tests.integration.conftest import (
    Area,
    RunningCheckin,
    assign_counselor,
    close_round,
    events_about,
    misses_of,
    seed_area_student,
    seed_future_round,
)
from shared.auth import Role
from shared.events.common import StudentSummary
from shared.idnumber import mask_student_number


async def prompted(
    checkin: RunningCheckin, area: Area, **student_fields: Any
) -> tuple[StudentSummary, list[Round], dict[str, Any]]:
    """A student who missed two rounds in a row, and the prompt it raised."""
    student = await seed_area_student(checkin, area, **student_fields)
    rounds = [
        await seed_future_round(checkin, area, starts_at=datetime(2031, 4, day, 1, tzinfo=UTC))
        for day in (1, 2)
    ]
    for row in rounds:
        await close_round(checkin, row)
    response = await checkin.client.get(
        "/api/v1/miss-prompts", params={"student_id": student.student_id}, headers=checkin.as_student(student)
    )
    assert response.status_code == 200, response.text
    (prompt,) = response.json()["items"]
    return student, rounds, prompt


async def appeal(checkin: RunningCheckin, headers: dict[str, str], **body: Any) -> Any:
    return await checkin.client.post(
        "/api/v1/appeals", json={"reason": "当天在医院就诊，有病历", **body}, headers=headers
    )


async def decide(checkin: RunningCheckin, appeal_id: str, headers: dict[str, str], decision: str) -> Any:
    return await checkin.client.post(
        f"/api/v1/appeals/{appeal_id}/decision",
        json={"decision": decision, "opinion": "已核实"},
        headers=headers,
    )


async def queue(checkin: RunningCheckin, headers: dict[str, str]) -> set[str]:
    response = await checkin.client.get(
        "/api/v1/appeals", params={"queue": "true", "limit": 500}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["items"]}


async def test_appeal__a_students_appeal_accepted_by_the_school_restores(
    checkin: RunningCheckin, area: Area
) -> None:
    student, rounds, prompt = await prompted(checkin, area)
    lodged = await appeal(checkin, checkin.as_student(student), prompt_id=prompt["id"])
    assert lodged.status_code == 201, lodged.text
    body = lodged.json()
    assert (body["appellant"], body["state"], body["county_code"]) == ("student", "pending", area.county)
    assert body["round_ids"] == [str(r.id) for r in rounds]

    registrar = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    assert body["id"] in await queue(checkin, registrar)
    assert body["id"] not in await queue(checkin, checkin.auth(Role.COUNTY, area.county))
    assert body["id"] not in await queue(checkin, checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school))
    # The same misses cannot be under two appeals at once.
    assert (await appeal(checkin, checkin.as_student(student), prompt_id=prompt["id"])).status_code == 409

    accepted = await decide(checkin, body["id"], checkin.auth(Role.SCHOOL_LEADER, area.school), "accept")
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["state"], accepted.json()["opinion"]) == ("accepted", "已核实")
    assert accepted.json()["withdrawn_prompt_ids"] == [prompt["id"]]
    for row in rounds:
        assert (await misses_of(checkin, row))[student.student_id] is True  # excused
    async with checkin.ctx.sessionmaker() as session:
        state = await session.scalar(select(MissPrompt.state).where(MissPrompt.id == prompt["id"]))
    assert state == "withdrawn"
    withdrawn = await events_about(checkin, "checkin.misses.prompt_withdrawn", "prompt_id", prompt["id"])
    assert len(withdrawn) == 1
    assert withdrawn[0]["appeal_id"] == body["id"]
    assert withdrawn[0]["excused_round_ids"] == [str(r.id) for r in rounds]
    assert body["id"] not in await queue(checkin, registrar)

    # Decided once: a second decision is refused and emits nothing.
    again = await decide(checkin, body["id"], registrar, "reject")
    assert again.status_code == 409, again.text
    assert len(await events_about(checkin, "checkin.misses.prompt_withdrawn", "prompt_id", prompt["id"])) == 1

    # The excused misses do not count towards a later rule: one more miss prompts nothing…
    third = await seed_future_round(checkin, area, starts_at=datetime(2031, 4, 3, 1, tzinfo=UTC))
    await close_round(checkin, third)
    response = await checkin.client.get(
        "/api/v1/miss-prompts", params={"student_id": student.student_id, "state": "open"}, headers=registrar
    )
    assert response.json() == {"total": 0, "items": []}
    # …a fourth (two new ones in a row) does, about the new misses only.
    fourth = await seed_future_round(checkin, area, starts_at=datetime(2031, 4, 4, 1, tzinfo=UTC))
    await close_round(checkin, fourth)
    response = await checkin.client.get(
        "/api/v1/miss-prompts", params={"student_id": student.student_id, "state": "open"}, headers=registrar
    )
    assert [(p["rule"], p["round_ids"]) for p in response.json()["items"]] == [
        ("two_consecutive", [str(third.id), str(fourth.id)])
    ]


async def test_appeal__rejected_changes_nothing(checkin: RunningCheckin, area: Area) -> None:
    student, rounds, prompt = await prompted(checkin, area)
    lodged = await appeal(checkin, checkin.as_student(student), round_ids=[str(rounds[1].id)])
    assert lodged.status_code == 201, lodged.text
    rejected = await decide(
        checkin, lodged.json()["id"], checkin.auth(Role.SCHOOL_REGISTRAR, area.school), "reject"
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["withdrawn_prompt_ids"]) == ("rejected", [])
    for row in rounds:
        assert (await misses_of(checkin, row))[student.student_id] is False
    async with checkin.ctx.sessionmaker() as session:
        assert await session.scalar(select(MissPrompt.state).where(MissPrompt.id == prompt["id"])) == "open"
    assert await events_about(checkin, "checkin.misses.prompt_withdrawn", "prompt_id", prompt["id"]) == []


async def test_appeal__the_schools_appeal_goes_to_its_county_bureau(
    checkin: RunningCheckin, area: Area
) -> None:
    student, _, prompt = await prompted(checkin, area)
    registrar = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    lodged = await appeal(checkin, registrar, student_id=student.student_id, prompt_id=prompt["id"])
    assert lodged.status_code == 201, lodged.text
    appeal_id = lodged.json()["id"]
    assert lodged.json()["appellant"] == "school"

    county = checkin.auth(Role.COUNTY, area.county)
    assert appeal_id in await queue(checkin, county)
    assert appeal_id not in await queue(checkin, registrar)
    # Wrong levels: the school itself, the province and city above the county, another county.
    for headers in (
        registrar,
        checkin.auth(Role.SCHOOL_LEADER, area.school),
        checkin.auth(Role.PROVINCE),
        checkin.auth(Role.CITY, area.city),
    ):
        assert (await decide(checkin, appeal_id, headers, "accept")).status_code == 403
    assert (
        await decide(checkin, appeal_id, checkin.auth(Role.COUNTY, "419999"), "accept")
    ).status_code == 404
    assert (await decide(checkin, appeal_id, checkin.as_student(student), "accept")).status_code == 403

    accepted = await decide(checkin, appeal_id, county, "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["withdrawn_prompt_ids"] == [prompt["id"]]
    assert len(await events_about(checkin, "checkin.misses.prompt_withdrawn", "appeal_id", appeal_id)) == 1


async def test_appeal__a_student_cannot_decide_their_own_appeal_nor_the_county_a_students(
    checkin: RunningCheckin, area: Area
) -> None:
    student, _, prompt = await prompted(checkin, area)
    lodged = await appeal(checkin, checkin.as_student(student), prompt_id=prompt["id"])
    appeal_id = lodged.json()["id"]
    # The student's own counselor sees the appeal but does not decide it.
    counselor_id = "counselor-" + student.student_id[:8]
    await assign_counselor(checkin, student, counselor_id)
    counselor = checkin.auth(Role.COUNSELOR, area.school, account_id=counselor_id)
    assert (await decide(checkin, appeal_id, checkin.as_student(student), "accept")).status_code == 403
    assert (
        await decide(checkin, appeal_id, checkin.auth(Role.COUNTY, area.county), "accept")
    ).status_code == 403
    assert (await decide(checkin, appeal_id, counselor, "accept")).status_code == 403
    other_school = checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school)
    assert (await decide(checkin, appeal_id, other_school, "accept")).status_code == 404


async def test_appeal__bad_requests_are_named(checkin: RunningCheckin, area: Area) -> None:
    student, rounds, prompt = await prompted(checkin, area)
    other = await seed_area_student(checkin, area)
    came = await seed_future_round(checkin, area, starts_at=datetime(2031, 4, 9, 1, tzinfo=UTC))

    not_missed = await appeal(checkin, checkin.as_student(other), round_ids=[str(rounds[0].id)])
    assert not_missed.status_code == 422 and not_missed.json()["errors"][0]["field"] == "round_ids"
    neither = await appeal(checkin, checkin.as_student(student))
    assert neither.status_code == 422 and neither.json()["errors"][0]["field"] == "prompt_id"
    both = await appeal(
        checkin, checkin.as_student(student), prompt_id=prompt["id"], round_ids=[str(came.id)]
    )
    assert both.status_code == 422
    for_someone_else = await appeal(
        checkin, checkin.as_student(other), student_id=student.student_id, prompt_id=prompt["id"]
    )
    assert for_someone_else.status_code == 403
    someone_elses_prompt = await appeal(checkin, checkin.as_student(other), prompt_id=prompt["id"])
    assert someone_elses_prompt.status_code == 404
    no_student = await appeal(
        checkin, checkin.auth(Role.SCHOOL_REGISTRAR, area.school), prompt_id=prompt["id"]
    )
    assert no_student.status_code == 422 and no_student.json()["errors"][0]["field"] == "student_id"
    other_school = await appeal(
        checkin,
        checkin.auth(Role.SCHOOL_REGISTRAR, area.other_school),
        student_id=student.student_id,
        prompt_id=prompt["id"],
    )
    assert other_school.status_code == 404
    bureau = await appeal(
        checkin, checkin.auth(Role.COUNTY, area.county), student_id=student.student_id, prompt_id=prompt["id"]
    )
    assert bureau.status_code == 403
    empty_reason = await appeal(checkin, checkin.as_student(student), prompt_id=prompt["id"], reason="")
    assert empty_reason.status_code == 422 and empty_reason.json()["errors"][0]["field"] == "body.reason"


async def test_appeal__lists_name_the_student_and_the_rounds_newest_first_and_filter(
    checkin: RunningCheckin, area: Area
) -> None:
    """A registrar acts on a row as it reads: whose misses (name, masked number), which rounds by
    name, the rule in words; the newest first, narrowed by the student filters the lists share."""
    student, rounds, prompt = await prompted(checkin, area, name="申诉列表测试")
    assert prompt["student_name"] == student.name
    assert prompt["student_number_masked"] == mask_student_number(student.student_number)
    assert "*" in prompt["student_number_masked"]
    assert [r["name"] for r in prompt["rounds"]] == [r.name for r in rounds]
    assert prompt["rule_text"] == "本学期连续 2 次未按时完成学籍核验"
    first = await appeal(checkin, checkin.as_student(student), round_ids=[str(rounds[0].id)])
    second = await appeal(checkin, checkin.as_student(student), round_ids=[str(rounds[1].id)])
    assert first.status_code == second.status_code == 201, second.text
    assert second.json()["student_name"] == student.name
    assert [r["id"] for r in second.json()["rounds"]] == [str(rounds[1].id)]

    registrar = checkin.auth(Role.SCHOOL_REGISTRAR, area.school)
    listed = await checkin.client.get(
        "/api/v1/appeals", params={"student_id": student.student_id}, headers=registrar
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 2
    assert [a["id"] for a in listed.json()["items"]] == [second.json()["id"], first.json()["id"]]
    second_page: dict[str, str | int] = {"student_id": student.student_id, "limit": 1, "offset": 1}
    paged = await checkin.client.get("/api/v1/appeals", params=second_page, headers=registrar)
    assert (paged.json()["total"], [a["id"] for a in paged.json()["items"]]) == (2, [first.json()["id"]])

    county = checkin.auth(Role.COUNTY, area.county)
    for path in ("/api/v1/appeals", "/api/v1/miss-prompts"):
        mine = await checkin.client.get(path, params={"school_code": area.school}, headers=county)
        others = await checkin.client.get(path, params={"school_code": area.other_school}, headers=county)
        assert student.student_id in {row["student_id"] for row in mine.json()["items"]}, path
        assert student.student_id not in {row["student_id"] for row in others.json()["items"]}, path
        named = await checkin.client.get(path, params={"name": student.name}, headers=county)
        assert {row["student_id"] for row in named.json()["items"]} == {student.student_id}, path
    bad = await checkin.client.get("/api/v1/miss-prompts", params={"school_code": "41"}, headers=county)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.school_code"
