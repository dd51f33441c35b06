"""Pending actions (待办) opened by check-in's reports, on the real broker and database: the
registrar's prompt after missed rounds (due in 5 working days), answered by a status change,
withdrawn by an accepted appeal (which reverts the change), proposed suspensions, jurisdiction,
overdue flags, and idempotent handling of repeated reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from uuid6 import uuid7

from services.enrollment.models import Student, StudentHistory
from services.enrollment.models.workflow import ReviewItem
from services.enrollment.pending_actions import flag_overdue_actions
from services.enrollment.tests.integration.conftest import SCHOOL, Province, envelope_of
from services.enrollment.tests.integration.test_workflow_api import _decide, _evidence, pinned_today
from shared.auth import Role
from shared.events.checkin import MissPromptWithdrawn, MissThresholdReached, SuspensionProposed

TERM = "2026-autumn"


async def _missed(p: Province, student_id: str, prompt_id: str | None = None) -> str:
    prompt_id = prompt_id or str(uuid7())
    envelope = await p.publish_local(
        MissThresholdReached(
            prompt_id=prompt_id,
            student_id=student_id,
            school_code=SCHOOL[p.code],
            term=TERM,
            rule="two_consecutive",
            missed_round_ids=["r1", "r2"],
        )
    )
    await p.applied(envelope)
    return prompt_id


async def _appeal_accepted(p: Province, student_id: str, prompt_id: str) -> None:
    envelope = await p.publish_local(
        MissPromptWithdrawn(
            prompt_id=prompt_id,
            student_id=student_id,
            school_code=SCHOOL[p.code],
            appeal_id="appeal-" + prompt_id[:8],
            excused_round_ids=["r1", "r2"],
            decided_on=date(2026, 11, 27),
        )
    )
    await p.applied(envelope)


async def _actions(
    p: Province, student_id: str, role: Role = Role.SCHOOL_REGISTRAR, **query: str
) -> list[Any]:
    params = {"student_id": student_id, "state": "", **query}
    url = "/api/v1/pending-actions?" + "&".join(f"{k}={v}" for k, v in params.items() if v)
    response = await p.client.get(url, headers=p.auth(role))
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def _all_actions(p: Province, student_id: str, role: Role = Role.SCHOOL_REGISTRAR) -> list[Any]:
    found = []
    for state in ("open", "resolved", "withdrawn"):
        found += await _actions(p, student_id, role, state=state)
    return found


async def _change(p: Province, student_id: str, **body: Any) -> Any:
    return await p.client.post(
        f"/api/v1/students/{student_id}/status-changes",
        json={"reason": "连续两次未参加核验", "evidence_ids": [await _evidence(p)], **body},
        headers=p.auth(Role.SCHOOL_REGISTRAR),
    )


async def _record(p: Province, student_id: str) -> dict[str, Any]:
    response = await p.client.get(f"/api/v1/students/{student_id}", headers=p.auth(Role.SCHOOL_REGISTRAR))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_missed_rounds__the_registrar_gets_one_action_due_in_five_working_days(p37: Province) -> None:
    student = await p37.register()
    prompt = await _missed(p37, student["id"])
    await _missed(p37, student["id"], prompt)  # the same prompt reported again: still one action
    [action] = await _actions(p37, student["id"])
    calendar = p37.ctx.extras["calendar"]
    assert action["kind"] == "miss_threshold" and action["state"] == "open"
    assert (
        action["due_on"]
        == calendar.add_workdays(date.fromisoformat(action["opened_on"]), 5).due_on.isoformat()
    )
    assert "连续2次未参加核验" in action["title"] and action["detail"]["missed_round_ids"] == ["r1", "r2"]
    assert action["overdue"] is False and action["student_number_masked"] != student["student_number"]

    # Jurisdiction: the school and the bureaus above it; not another school, not the other province.
    assert [a["id"] for a in await _actions(p37, student["id"], Role.COUNTY)] == [action["id"]]
    assert [a["id"] for a in await _actions(p37, student["id"], Role.PROVINCE)] == [action["id"]]
    # A bureau narrows to a school or county inside its area (the console's tree).
    lineage = action["lineage"]
    for narrowed, expected in (
        ({"school_code": lineage["school"]}, [action["id"]]),
        ({"county_code": lineage["county"]}, [action["id"]]),
        ({"school_code": "3737010099"}, []),
        ({"city_code": "3799"}, []),
    ):
        found = await _actions(p37, student["id"], Role.PROVINCE, **narrowed)
        assert [a["id"] for a in found] == expected, narrowed
    other_school = await p37.client.get(
        f"/api/v1/pending-actions?student_id={student['id']}",
        headers=p37.auth(Role.SCHOOL_REGISTRAR, "3737010099"),
    )
    assert other_school.json()["items"] == []
    assert (
        await p37.client.get(
            f"/api/v1/pending-actions/{action['id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR, "3737010099")
        )
    ).status_code == 404
    assert (
        await p37.client.get("/api/v1/pending-actions", headers=p37.auth(Role.COUNSELOR))
    ).status_code == 403
    assert (await p37.client.get("/api/v1/pending-actions")).status_code == 401


async def test_answered_by_a_suspension__resolved_when_it_is_approved(p37: Province) -> None:
    student = await p37.register()
    await _missed(p37, student["id"])
    [action] = await _actions(p37, student["id"])
    wrong = await _change(p37, student["id"], type="repeat_year", pending_action_id=action["id"])
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "type"
    unknown = await _change(p37, student["id"], type="suspend", pending_action_id="no-such-action")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "pending_action_id"

    started = await _change(p37, student["id"], type="suspend", pending_action_id=action["id"])
    assert started.status_code == 201, started.text
    review = started.json()
    assert review["payload"]["cause"] == "checkin_misses"  # undoing it later needs the province
    linked = (await _actions(p37, student["id"]))[0]
    assert (linked["state"], linked["review_id"], linked["review_state"]) == ("open", review["id"], "pending")
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, review["id"], role)).status_code == 200
    [done] = await _actions(p37, student["id"], state="resolved")
    assert done["id"] == action["id"] and done["resolved_at"]
    assert await _actions(p37, student["id"], state="open") == []
    assert [a["id"] for a in await _actions(p37, student["id"], state="all")] == [action["id"]]
    assert (await _record(p37, student["id"]))["status"] == "suspended"


async def test_appeal_accepted__the_action_closes_and_the_change_made_for_it_is_reverted(
    p37: Province,
) -> None:
    student = await p37.register()
    prompt = await _missed(p37, student["id"])
    [action] = await _actions(p37, student["id"])
    review = (
        await _change(
            p37,
            student["id"],
            type="change_study_form",
            new_study_form="part_time",
            pending_action_id=action["id"],
        )
    ).json()
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, review["id"], role)).status_code == 200
    assert (await _record(p37, student["id"]))["study_form"] == "part_time"

    await _appeal_accepted(p37, student["id"], prompt)
    await _appeal_accepted(p37, student["id"], prompt)  # reported twice: reverted once
    [closed] = await _actions(p37, student["id"], state="withdrawn")
    assert (closed["reverted"], closed["withdrawn_by_appeal"]) == (True, "appeal-" + prompt[:8])
    record = await _record(p37, student["id"])
    assert (record["status"], record["study_form"]) == ("in_school", "full_time")
    reverted = [h for h in record["history"] if h["action"].startswith("status_change_reverted")]
    assert len(reverted) == 1 and "申诉成立" in reverted[0]["detail"]
    events = [
        envelope_of(e).data
        for e in await p37.outbox_about("enrollment.student.status_changed", student["id"])
    ]
    assert [e["change_type"] for e in events] == ["change_study_form", "revert:change_study_form"]
    assert events[-1]["student"]["study_form"] == "full_time"


async def test_appeal_while_the_change_is_under_review__the_change_is_withdrawn(p37: Province) -> None:
    student = await p37.register()
    prompt = await _missed(p37, student["id"])
    [action] = await _actions(p37, student["id"])
    review = (await _change(p37, student["id"], type="withdraw", pending_action_id=action["id"])).json()
    await _appeal_accepted(p37, student["id"], prompt)
    [closed] = await _actions(p37, student["id"], state="withdrawn")
    assert closed["review_state"] == "cancelled" and closed["reverted"] is False
    async with p37.ctx.sessionmaker() as session:
        item = await session.get(ReviewItem, review["id"])
        assert item is not None and item.state == "cancelled"
    assert (await _record(p37, student["id"]))["status"] == "in_school"


async def test_withdrawal_arriving_before_its_prompt__the_late_prompt_opens_nothing(p37: Province) -> None:
    student = await p37.register()
    prompt = str(uuid7())
    await _appeal_accepted(p37, student["id"], prompt)
    await _missed(p37, student["id"], prompt)
    assert await _actions(p37, student["id"], state="open") == []
    assert [a["state"] for a in await _all_actions(p37, student["id"])] == ["withdrawn"]


async def test_a_record_moved_on_since__the_appeal_does_not_overwrite_it(p37: Province) -> None:
    student = await p37.register()
    prompt = await _missed(p37, student["id"])
    [action] = await _actions(p37, student["id"])
    review = (await _change(p37, student["id"], type="suspend", pending_action_id=action["id"])).json()
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, review["id"], role)).status_code == 200
    async with p37.ctx.sessionmaker() as session:  # later the student is recorded dead
        row = await session.get(Student, student["id"])
        assert row is not None
        row.status = "dead"
        await session.commit()
    await _appeal_accepted(p37, student["id"], prompt)
    [closed] = await _actions(p37, student["id"], state="withdrawn")
    assert closed["reverted"] is False
    assert (await _record(p37, student["id"]))["status"] == "dead"
    async with p37.ctx.sessionmaker() as session:
        last = await session.scalar(
            select(StudentHistory.detail)
            .where(StudentHistory.student_id == student["id"])
            .order_by(StudentHistory.id.desc())
            .limit(1)
        )
    assert last is not None and "未自动恢复" in last


async def test_overdue__flagged_once_and_listed_for_the_bureau(p37: Province) -> None:
    student = await p37.register()
    await _missed(p37, student["id"])
    [action] = await _actions(p37, student["id"])
    late = date.fromisoformat(action["due_on"]) + timedelta(days=1)
    with pinned_today(p37, late):
        assert p37.ctx.today() == late
        [shown] = await _actions(p37, student["id"], Role.COUNTY, overdue="true")
        assert shown["overdue"] is True
        async with p37.ctx.sessionmaker() as session:
            flagged = await flag_overdue_actions(session, late)
            await session.commit()
        assert action["id"] in {a.id for a in flagged}
        async with p37.ctx.sessionmaker() as session:
            assert action["id"] not in {a.id for a in await flag_overdue_actions(session, late)}  # once
        [shown] = await _actions(p37, student["id"], Role.COUNTY)
        assert shown["overdue_flagged_on"] == late.isoformat()
        # Answered (a change under review): no longer overdue.
        started = await _change(p37, student["id"], type="suspend", pending_action_id=action["id"])
        assert started.status_code == 201, started.text
        assert await _actions(p37, student["id"], Role.COUNTY, overdue="true") == []


async def test_proposed_suspension__answered_by_linking_a_suspension_already_started(p37: Province) -> None:
    student = await p37.register()
    envelope = await p37.publish_local(
        SuspensionProposed(student_id=student["id"], school_code=SCHOOL["37"], term=TERM, leave_days=17)
    )
    await p37.applied(envelope)
    [action] = await _actions(p37, student["id"])
    assert action["kind"] == "suspension_proposed" and "请假累计17天" in action["title"]
    study_form = await _change(p37, student["id"], type="change_study_form", new_study_form="part_time")
    assert study_form.status_code == 201
    resolve = f"/api/v1/pending-actions/{action['id']}/resolve"
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    refused = await p37.client.post(resolve, json={"review_id": study_form.json()["id"]}, headers=registrar)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "review_id"
    await p37.client.post(f"/api/v1/reviews/{study_form.json()['id']}/cancel", headers=registrar)
    suspend = (await _change(p37, student["id"], type="suspend")).json()
    assert (
        await p37.client.post(resolve, json={"review_id": suspend["id"]}, headers=p37.auth(Role.COUNTY))
    ).status_code == 403
    linked = await p37.client.post(resolve, json={"review_id": suspend["id"]}, headers=registrar)
    assert linked.status_code == 200 and linked.json()["review_id"] == suspend["id"], linked.text
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, suspend["id"], role)).status_code == 200
    assert (await _actions(p37, student["id"], state="resolved"))[0]["id"] == action["id"]
    again = await p37.client.post(resolve, json={"review_id": suspend["id"]}, headers=registrar)
    assert again.status_code == 409
