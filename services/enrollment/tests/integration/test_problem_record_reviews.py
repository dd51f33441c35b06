"""A school's change (变更) or delete (删除) of a problem record takes effect only after its review
(seed 002 问题学籍: 学籍管理员 → 学籍主管领导 → 学校主管教育部门, higher where the flow says), from
both sides of a duplicate pair; evidence (佐证) still hands the case over at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.enrollment.models import Student
from services.enrollment.models.problems import ProblemRecordStep
from services.enrollment.tests.integration.conftest import Province
from services.enrollment.tests.integration.test_problem_records_api import (
    _act,
    _approve,
    _get,
    _pair,
    _student,
)
from shared.auth import Role


async def _decide(
    p: Province, review_id: str, role: Role, decision: str = "approve", opinion: str = ""
) -> Any:
    return await p.client.post(
        f"/api/v1/reviews/{review_id}/decision",
        json={"decision": decision, "opinion": opinion},
        headers=p.auth(role),
    )


async def _queue(p: Province, role: Role) -> set[str]:
    response = await p.client.get("/api/v1/reviews?limit=200", headers=p.auth(role))
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def _moves(p: Province, record_id: str) -> list[str]:
    async with p.ctx.sessionmaker() as session:
        return list(
            await session.scalars(
                select(ProblemRecordStep.move)
                .where(ProblemRecordStep.problem_record_id == record_id)
                .order_by(ProblemRecordStep.id)
            )
        )


async def test_first_side_change__nothing_moves_until_the_school_leader_and_the_county_approve(
    p41: Province,
) -> None:
    _, later, first, second = await _pair(p41)
    old_number = (await _student(p41, later["id"])).id_number
    new_number = p41.new_id_number()
    submitted = await _act(p41, first, "change", new_id_number=new_number)
    assert submitted.status_code == 202, submitted.text
    case = submitted.json()
    review_id = case["pending_review_id"]
    assert review_id and case["state"] == "open" and new_number not in submitted.text
    # Not yet: the record keeps its number, the other side waits, nothing was announced.
    assert (await _student(p41, later["id"])).id_number == old_number
    assert (await _get(p41, second))["state"] == "open"
    assert await _moves(p41, first) == []
    assert (await _get(p41, first))["pending_review_id"] == review_id
    # A second submission while one is under review is refused.
    again = await _act(p41, first, "delete")
    assert again.status_code == 409 and "change-open" in again.json()["type"]

    review = (await p41.client.get(f"/api/v1/reviews/{review_id}", headers=p41.auth(Role.COUNTY))).json()
    assert review["business_type"] == "problem_record:change"
    assert review["chain"] == ["school", "county"] and review["current_level"] == "school"
    assert new_number not in str(review["payload"])  # the new ID shows masked
    assert review_id in await _queue(p41, Role.SCHOOL_LEADER)
    assert (await _decide(p41, review_id, Role.COUNTY)).status_code == 409  # the leader first
    assert (await _decide(p41, review_id, Role.SCHOOL_LEADER)).status_code == 200
    assert review_id in await _queue(p41, Role.COUNTY)
    assert (await _student(p41, later["id"])).id_number == old_number  # still nothing
    done = await _decide(p41, review_id, Role.COUNTY, opinion="同意变更")
    assert done.status_code == 200 and done.json()["state"] == "approved", done.text

    case = await _get(p41, first)
    assert (case["state"], case["resolution"], case["pending_review_id"]) == (
        "resolved",
        "first_changed",
        None,
    )
    assert (await _get(p41, second))["state"] == "resolved"  # the other side auto-evidenced
    assert (await _student(p41, later["id"])).id_number == new_number
    assert await _moves(p41, first) == ["change"]
    assert len(await p41.outbox_about("enrollment.problem_record.updated", later["id"])) == 1


async def test_county_rejects__the_registrar_corrects_the_number_and_it_goes_back_to_the_leader(
    p41: Province,
) -> None:
    _, later, first, _ = await _pair(p41)
    submitted = await _act(p41, first, "change", new_id_number=p41.new_id_number())
    review_id = submitted.json()["pending_review_id"]
    assert (await _decide(p41, review_id, Role.SCHOOL_LEADER)).status_code == 200
    returned = await _decide(p41, review_id, Role.COUNTY, "reject", "新号码与户口簿不符")
    assert returned.json()["state"] == "returned"
    assert (await _get(p41, first))["state"] == "open"  # a rejection changes nothing of the case

    bad = await p41.client.post(
        f"/api/v1/reviews/{review_id}/resubmit",
        json={"payload": {"new_id_number": "410102200801011230"}},
        headers=p41.auth(Role.SCHOOL_REGISTRAR),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "new_id_number", bad.text
    corrected = p41.new_id_number()
    again = await p41.client.post(
        f"/api/v1/reviews/{review_id}/resubmit",
        json={"payload": {"new_id_number": corrected}},
        headers=p41.auth(Role.SCHOOL_REGISTRAR),
    )
    assert again.status_code == 200, again.text
    assert (again.json()["state"], again.json()["current_level"]) == ("pending", "school")
    await _approve(p41, review_id)
    assert (await _get(p41, first))["resolution"] == "first_changed"
    assert (await _student(p41, later["id"])).id_number == corrected


async def test_second_side_delete__after_the_first_side_evidenced_goes_up_the_configured_chain(
    p41: Province,
) -> None:
    """The other side of the pair: its delete is reviewed too, up the chain the province set for
    problem-record deletes (here with the city), and the registrar can withdraw it meanwhile."""
    earlier, later, first, second = await _pair(p41)
    assert (await _act(p41, first, "evidence")).status_code == 200  # evidence: at once
    assert (await _get(p41, second))["state"] == "awaiting_second"

    rule = {
        "business_type": "problem_record:delete",
        "region": "410102",
        "levels": ["school", "county", "city"],
    }
    put = await p41.client.put("/api/v1/approval-chains", json=rule, headers=p41.auth(Role.PROVINCE))
    assert put.status_code == 200, put.text
    try:
        withdrawn = await _act(p41, second, "delete")
        assert withdrawn.status_code == 202, withdrawn.text
        cancelled = await p41.client.post(
            f"/api/v1/reviews/{withdrawn.json()['pending_review_id']}/cancel",
            headers=p41.auth(Role.SCHOOL_REGISTRAR),
        )
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert (await _get(p41, second))["pending_review_id"] is None

        submitted = await _act(p41, second, "delete")
        assert submitted.status_code == 202, submitted.text
        review_id = submitted.json()["pending_review_id"]
        review = (await p41.client.get(f"/api/v1/reviews/{review_id}", headers=p41.auth(Role.CITY))).json()
        assert review["chain"] == ["school", "county", "city"]
        await _approve(p41, review_id, (Role.SCHOOL_LEADER, Role.COUNTY))
        assert (await _student(p41, earlier["id"])).status == "in_school"  # the city has not decided
        await _approve(p41, review_id, (Role.CITY,))
    finally:
        await p41.client.delete(
            f"/api/v1/approval-chains/{put.json()['id']}", headers=p41.auth(Role.PROVINCE)
        )

    case = await _get(p41, second)
    assert (case["state"], case["resolution"]) == ("resolved", "second_deleted")
    assert (await _get(p41, first))["state"] == "resolved"
    async with p41.ctx.sessionmaker() as session:
        gone = await session.get(Student, earlier["id"])
        assert gone is not None and (gone.status, gone.frozen) == ("deregistered", True)
    assert (await _student(p41, later["id"])).status == "in_school"
    assert await _moves(p41, second) == ["evidence", "delete"]
