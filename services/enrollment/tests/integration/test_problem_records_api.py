"""Problem records over HTTP on the real servers: both sides to arbitration in one province,
change and delete ending a case, a failed identity check confirmed by the county, and a
cross-province case kept in step by signed events and arbitrated by the ministry."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

import aio_pika
from sqlalchemy import select

from services.enrollment.models import Region, School, Student
from services.enrollment.models.audit import AuditEntry
from services.enrollment.models.problems import ProblemEvidence, ProblemRecord
from services.enrollment.problems import open_problem_record
from services.enrollment.tests.integration.conftest import COUNTY, Province, envelope_of
from shared.auth import Role
from shared.bus.topology import INTERPROVINCE_IN, partner_queue_name
from shared.china_time import today_in_china
from shared.testing import eventually

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def _student(p: Province, student_id: str) -> Student:
    async with p.ctx.sessionmaker() as session:
        student = await session.get(Student, student_id)
        assert student is not None
        return student


async def _open(
    p: Province,
    student_id: str,
    acting_side: str,
    *,
    kind: str = "duplicate_id",
    counterpart_student_id: str | None = None,
    counterpart_province: str | None = None,
    id_digest: str | None = None,
) -> str:
    async with p.ctx.sessionmaker() as session:
        student = await session.get(Student, student_id)
        assert student is not None
        record_id = await open_problem_record(
            session,
            kind=kind,
            student=student,
            detail="测试：身份证件号重复",
            acting_side=acting_side,
            today=date.today(),
            calendar=p.ctx.extras["calendar"],
            counterpart_student_id=counterpart_student_id,
            counterpart_province=counterpart_province,
            id_digest=id_digest,
        )
        await session.commit()
    assert record_id is not None
    return record_id


async def _pair(p: Province) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """An in-province duplicate pair: ``later`` registered after ``earlier`` and acts first."""
    earlier, later = await p.register("张三"), await p.register("张叁")
    first = await _open(p, later["id"], "here", counterpart_student_id=earlier["id"])
    second = await _open(p, earlier["id"], "counterpart", counterpart_student_id=later["id"])
    return earlier, later, first, second


async def _act(
    p: Province,
    record_id: str,
    choice: str,
    *,
    content: bytes = PNG,
    role: Role = Role.SCHOOL_REGISTRAR,
    **fields: str,
) -> Any:
    return await p.client.post(
        f"/api/v1/problem-records/{record_id}/actions",
        data={"choice": choice, "note": "学生确在本校就读", **fields},
        files={"evidence": ("证明.png", content, "image/png")},
        headers=p.auth(role),
    )


async def _approve(
    p: Province, review_id: str, roles: tuple[Role, ...] = (Role.SCHOOL_LEADER, Role.COUNTY)
) -> Any:
    """Walk a review up its chain; the last answer."""
    decided = None
    for role in roles:
        decided = await p.client.post(
            f"/api/v1/reviews/{review_id}/decision", json={"decision": "approve"}, headers=p.auth(role)
        )
        assert decided.status_code == 200, (role, decided.text)
    return decided


async def _act_approved(
    p: Province, record_id: str, choice: str, *, new_id_number: str | None = None
) -> dict[str, Any]:
    """A change or delete as seed 002 has it: submitted by the registrar (202, nothing moves yet),
    approved by the school leader and the supervising county; the case as it is afterwards."""
    if new_id_number is None:
        submitted = await _act(p, record_id, choice)
    else:
        submitted = await _act(p, record_id, choice, new_id_number=new_id_number)
    assert submitted.status_code == 202, submitted.text
    review_id = submitted.json()["pending_review_id"]
    assert review_id and submitted.json()["state"] == (await _get(p, record_id))["state"]
    final = await _approve(p, review_id)
    assert final.json()["state"] == "approved", final.text
    return await _get(p, record_id)


async def _get(p: Province, record_id: str, role: Role = Role.SCHOOL_REGISTRAR) -> dict[str, Any]:
    response = await p.client.get(f"/api/v1/problem-records/{record_id}", headers=p.auth(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _listed(p: Province, role: Role, query: str) -> set[str]:
    """Every id the list returns, page by page (the session's other tests open cases too)."""
    found: set[str] = set()
    while True:
        url = f"/api/v1/problem-records?{query}&limit=200&offset={len(found)}"
        response = await p.client.get(url, headers=p.auth(role))
        assert response.status_code == 200, response.text
        page = {item["id"] for item in response.json()["items"]}
        found |= page
        if not page or len(found) >= response.json()["total"]:
            return found


async def _awaiting(p: Province, role: Role) -> set[str]:
    return await _listed(p, role, "awaiting_me=true")


async def test_in_province__both_sides_evidence_then_the_county_arbitrates_and_the_loser_deletes(
    p41: Province,
) -> None:
    earlier, later, first, second = await _pair(p41)
    assert (await _get(p41, first))["your_turn"] is True
    refused = await _act(p41, second, "evidence")
    assert refused.status_code == 409 and "not-your-turn" in refused.json()["type"]

    assert (await _act(p41, first, "evidence")).status_code == 200
    assert (await _get(p41, second))["state"] == "awaiting_second"
    queue = await _awaiting(p41, Role.SCHOOL_REGISTRAR)
    assert second in queue and first not in queue
    response = await _act(p41, second, "evidence")
    assert response.status_code == 200, response.text
    case = response.json()
    assert case["state"] == "awaiting_arbitration"
    assert (case["arbiter_level"], case["arbiter_org"]) == ("county", COUNTY["41"])

    assert {first, second} <= await _awaiting(p41, Role.COUNTY)
    assert first not in await _awaiting(p41, Role.CITY)
    decision = {"winner": "this", "opinion": "经核查，张三为本人"}
    for role in (Role.SCHOOL_REGISTRAR, Role.CITY, Role.PROVINCE):
        denied = await p41.client.post(
            f"/api/v1/problem-records/{second}/arbitration", json=decision, headers=p41.auth(role)
        )
        assert denied.status_code == 403, (role, denied.text)
    decided = await p41.client.post(
        f"/api/v1/problem-records/{second}/arbitration", json=decision, headers=p41.auth(Role.COUNTY)
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "first_must_fix"

    # The loser may only change or delete.
    assert (await _act(p41, first, "evidence")).status_code == 409
    assert (await _act(p41, second, "delete")).status_code == 409
    deleted = await _act_approved(p41, first, "delete")
    assert deleted["resolution"] == "first_deleted"
    assert (await _get(p41, second))["state"] == "resolved"
    gone = await _student(p41, later["id"])
    assert (gone.status, gone.frozen) == ("deregistered", True)
    assert (await _student(p41, earlier["id"])).status == "in_school"

    steps = (await _get(p41, first))["steps"]
    assert [s["move"] for s in steps] == ["evidence", "evidence", "arbitrate", "delete"]
    assert len(await p41.outbox_about("enrollment.problem_record.updated", later["id"])) == 4  # one per move
    async with p41.ctx.sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject_id.in_([first, second]))
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == [
        "problem_record.evidence",
        "problem_record.evidence",
        "problem_record.arbitrated",
        "problem_record.delete_submitted",
        "problem_record.delete",
    ]


async def test_in_province__first_side_changes_and_the_other_side_is_auto_evidenced(p41: Province) -> None:
    _, later, first, second = await _pair(p41)
    new_number = p41.new_id_number()
    response = await _act_approved(p41, first, "change", new_id_number=new_number)
    assert response["resolution"] == "first_changed"
    assert new_number not in str(response)
    assert (await _get(p41, second))["state"] == "resolved"
    changed = await _student(p41, later["id"])
    assert changed.id_number == new_number and changed.student_number == "G" + new_number


async def test_act__bad_input_is_refused_and_nothing_is_written(p41: Province) -> None:
    _, _, first, _ = await _pair(p41)
    cases = [
        (await _act(p41, first, "evidence", content=b"plain text"), "evidence"),
        (await _act(p41, first, "evidence", content=PNG + b"\x00" * (2 * 1024 * 1024)), "evidence"),
        (await _act(p41, first, "change"), "new_id_number"),
        (await _act(p41, first, "change", new_id_number="410102200801011230"), "new_id_number"),
        (await _act(p41, first, "shrug"), "choice"),
    ]
    for response, field in cases:
        assert response.status_code == 422, response.text
        body = response.json()
        assert any(field in e["field"] for e in body["errors"]), body
        assert all(e["reason_zh"] for e in body["errors"])
    assert (await _act(p41, first, "evidence", role=Role.COUNTY)).status_code == 403
    assert (await _get(p41, first))["state"] == "open"
    async with p41.ctx.sessionmaker() as session:
        assert not list(
            await session.scalars(select(ProblemEvidence).where(ProblemEvidence.problem_record_id == first))
        )


async def test_read__jurisdiction_and_evidence_download(p41: Province, p37: Province) -> None:
    _, _, first, _ = await _pair(p41)
    await _act(p41, first, "evidence", content=JPEG)
    assert (
        await p37.client.get(f"/api/v1/problem-records/{first}", headers=p37.auth(Role.PROVINCE))
    ).status_code == 404
    other_school = p41.auth(Role.SCHOOL_REGISTRAR, "4141019999")
    assert (await p41.client.get(f"/api/v1/problem-records/{first}", headers=other_school)).status_code == 404
    assert (
        await p41.client.get("/api/v1/problem-records", headers=p41.auth(Role.COUNSELOR))
    ).status_code == 403
    assert first in await _listed(p41, Role.COUNTY, "kind=duplicate_id")
    case = await _get(p41, first, Role.COUNTY)
    assert case["id_number_masked"].count("*") == 10 and case["student_number_masked"].startswith("G")
    evidence_id = case["steps"][0]["evidence_id"]
    file = await p41.client.get(
        f"/api/v1/problem-records/{first}/evidence/{evidence_id}", headers=p41.auth(Role.COUNTY)
    )
    assert file.status_code == 200 and file.content == JPEG and file.headers["content-type"] == "image/jpeg"


async def test_identity_check__school_evidence_then_county_confirms_formal_number(p41: Province) -> None:
    student = await p41.register("王五")
    async with p41.ctx.sessionmaker() as session:
        row = await session.get(Student, student["id"])
        assert row is not None and row.id_number is not None
        row.student_number = "L" + secrets.token_hex(16)
        number = row.id_number
        await session.commit()
    record = await _open(p41, student["id"], "here", kind="identity_check_failed")
    assert (await _act(p41, record, "delete")).status_code == 409
    assert (await _act(p41, record, "evidence")).status_code == 200
    confirm = f"/api/v1/problem-records/{record}/identity-confirmation"
    denied = await p41.client.post(confirm, json={"accept": True}, headers=p41.auth(Role.SCHOOL_REGISTRAR))
    assert denied.status_code == 403
    back = await p41.client.post(
        confirm, json={"accept": False, "opinion": "材料不清晰"}, headers=p41.auth(Role.COUNTY)
    )
    assert back.json()["state"] == "open"
    assert (await _act(p41, record, "evidence")).status_code == 200
    done = await p41.client.post(confirm, json={"accept": True}, headers=p41.auth(Role.COUNTY))
    assert done.status_code == 200 and done.json()["resolution"] == "identity_confirmed"
    assert (await _student(p41, student["id"])).student_number == "G" + number


async def _shovel(source: Province, target: Province, event_type: str, subject: str) -> None:
    """Play the shovel for one event: from source's queue for target to target's border exchange."""
    row = (await source.outbox_about(event_type, subject))[-1]  # the latest such event
    event_id = str(envelope_of(row).id)
    connection = await aio_pika.connect(source.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(partner_queue_name(target.code))

        async def take() -> aio_pika.abc.AbstractIncomingMessage | None:
            while (message := await queue.get(fail=False)) is not None:
                if message.message_id == event_id:
                    return message
                await message.nack(requeue=True)
            return None

        message = await eventually(take)
        await target.publish_raw(
            INTERPROVINCE_IN, message.routing_key or "", message.body, dict(message.headers)
        )
        await message.ack()


async def _state_of(p: Province, record_id: str) -> str:
    async with p.ctx.sessionmaker() as session:
        row = await session.get(ProblemRecord, record_id)
        assert row is not None
        return row.status


async def _becomes(p: Province, record_id: str, state: str) -> None:
    async def probe() -> bool:
        return await _state_of(p, record_id) == state

    await eventually(probe)


async def test_cross_province__each_side_keeps_its_copy_and_the_ministry_arbitrates(
    p41: Province, p37: Province
) -> None:
    digest = secrets.token_hex(32)
    s41, s37 = await p41.register("赵六"), await p37.register("赵六")
    r41 = await _open(p41, s41["id"], "here", counterpart_province="37", id_digest=digest)
    r37 = await _open(p37, s37["id"], "counterpart", counterpart_province="41", id_digest=digest)

    assert (await _act(p37, r37, "evidence")).status_code == 409  # 41 registered later: 41 first
    assert (await _act(p41, r41, "evidence")).status_code == 200
    await _shovel(p41, p37, "enrollment.problem_record.acted", s41["id"])
    await _becomes(p37, r37, "awaiting_second")

    assert (await _act(p37, r37, "evidence")).status_code == 200
    await _shovel(p37, p41, "enrollment.problem_record.acted", s37["id"])
    await _becomes(p41, r41, "awaiting_arbitration")
    assert (await _get(p41, r41))["arbiter_level"] == "ministry"

    decision = {"winner": "counterpart", "opinion": "赵六实际在河南就读"}
    url = f"/api/v1/problem-records/{r37}/arbitration"
    assert (await p37.client.post(url, json=decision, headers=p37.auth(Role.PROVINCE))).status_code == 403
    ministry = p37.auth(Role.MINISTRY, "000000")
    listed = await p37.client.get(
        "/api/v1/problem-records?state=awaiting_arbitration&limit=200", headers=ministry
    )
    assert r37 in {item["id"] for item in listed.json()["items"]}
    decided = await p37.client.post(url, json=decision, headers=ministry)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "second_must_fix"  # 37 is the second side and lost
    await _shovel(p37, p41, "enrollment.problem_record.arbitrated", s37["id"])
    await _becomes(p41, r41, "second_must_fix")

    changed = await _act_approved(p37, r37, "change", new_id_number=p37.new_id_number())
    assert changed["resolution"] == "second_changed"
    await _shovel(p37, p41, "enrollment.problem_record.acted", s37["id"])
    await _becomes(p41, r41, "resolved")
    async with p41.ctx.sessionmaker() as session:
        row = await session.get(ProblemRecord, r41)
        assert row is not None and row.resolution == "second_changed"


async def test_deadline__ten_working_days_restarting_at_each_hand_over(p41: Province) -> None:
    _, _, first, second = await _pair(p41)
    calendar = p41.ctx.extras["calendar"]
    today = today_in_china()
    assert (await _get(p41, first))["due_on"] == calendar.add_workdays(today, 10).due_on.isoformat()
    async with p41.ctx.sessionmaker() as session:
        row = await session.get(ProblemRecord, second)
        assert row is not None
        row.due_on = today - timedelta(days=1)
        await session.commit()
    overdue = await _listed(p41, Role.COUNTY, "overdue=true")
    assert second in overdue and first not in overdue
    await _act(p41, first, "evidence")
    handed_over = await _get(p41, second)
    assert handed_over["due_on"] == calendar.add_workdays(today, 10).due_on.isoformat()
    assert handed_over["overdue"] is False


async def test_change__to_a_number_registered_here_is_refused_and_nothing_is_written(p41: Province) -> None:
    _, later, first, _ = await _pair(p41)
    taken = p41.new_id_number()
    await p41.register("孙七", id_number=taken)
    response = await _act(p41, first, "change", new_id_number=taken)
    assert response.status_code == 409, response.text
    assert taken not in response.text
    assert (await _get(p41, first))["state"] == "open"
    assert (await _student(p41, later["id"])).id_number != taken


async def test_arbiter__schools_in_two_counties_of_one_city_go_to_the_city(p41: Province) -> None:
    """The common superior of schools in 410102 and 410103 is the city 4101 (seed 002)."""
    here = await p41.register("周八")
    code = "4141039" + str(secrets.randbelow(900) + 100)
    async with p41.ctx.sessionmaker() as session:
        if await session.get(Region, "410103") is None:
            session.add(Region(code="410103", name="二七区", level="county", parent_code="4101"))
            await session.flush()
        session.add(
            School(
                code=code,
                name="二七区测试学校",
                type="secondary_vocational",
                province_code="41",
                city_code="4101",
                county_code="410103",
            )
        )
        await session.flush()
        there = Student(
            id=secrets.token_hex(16),
            student_number="L" + secrets.token_hex(16),
            name="周八",
            id_type="resident_id",
            id_number=p41.new_id_number(),
            province_code="41",
            city_code="4101",
            county_code="410103",
            school_code=code,
            grade=2024,
            study_length=3,
            study_form="full_time",
            status="in_school",
        )
        session.add(there)
        await session.commit()
    first = await _open(p41, here["id"], "here", counterpart_student_id=there.id)
    second = await _open(p41, there.id, "counterpart", counterpart_student_id=here["id"])
    await _act(p41, first, "evidence")
    other_registrar = p41.auth(Role.SCHOOL_REGISTRAR, code)
    response = await p41.client.post(
        f"/api/v1/problem-records/{second}/actions",
        data={"choice": "evidence"},
        files={"evidence": ("证明.png", PNG, "image/png")},
        headers=other_registrar,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["arbiter_level"], response.json()["arbiter_org"]) == ("city", "4101")
    decision = {"winner": "counterpart", "opinion": "以二七区学校为准"}
    url = f"/api/v1/problem-records/{first}/arbitration"
    assert (await p41.client.post(url, json=decision, headers=p41.auth(Role.COUNTY))).status_code == 403
    decided = await p41.client.post(url, json=decision, headers=p41.auth(Role.CITY))
    assert decided.status_code == 200 and decided.json()["state"] == "first_must_fix"
