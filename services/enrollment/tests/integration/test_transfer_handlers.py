"""Enrollment's part of a cross-province transfer, driven by the events the transfer service and
the partner province would send. 37 is the origin, 41 the destination."""

from __future__ import annotations

import json
from typing import Any

import aio_pika
from sqlalchemy import select
from uuid6 import uuid7

from services.enrollment.models import Student, StudentHistory
from services.enrollment.tests.integration.conftest import SCHOOL, Province, envelope_of
from shared.auth import Role
from shared.bus.consumer import DEAD_REASON_HEADER
from shared.bus.tables import OutboxMessage
from shared.bus.topology import INTERPROVINCE_IN, INTERPROVINCE_OUT, partner_queue_name
from shared.events.common import Lineage
from shared.events.enrollment import RecordReleased
from shared.events.transfer import CaseOpened, CaseParty, TransferApproved, TransferRequested
from shared.signing import KEY_ID_HEADER, SIGNATURE_HEADER
from shared.testing import eventually

DEST = Lineage(province="41", city="4101", county="410102", school=SCHOOL["41"])
DEST_CLASS = f"class-{SCHOOL['41']}-2025-1"


def _case_opened(transfer_id: str, student: dict[str, Any], name: str) -> CaseOpened:
    return CaseOpened(
        transfer_id=transfer_id,
        kind="cross_province",
        student_number=student["student_number"],
        student_name=name,
        origin_province="37",
        destination=DEST,
        destination_school_name="郑州市信息技术中等职业学校",
        destination_class_id=DEST_CLASS,
        grade=2024,
        reason="随父母迁居",
        applicant=CaseParty(
            username="41-registrar", role="school_registrar", org=SCHOOL["41"], province="41"
        ),
        applied_at="2026-11-27T09:00:00+08:00",
    )


async def _answers(p: Province, event_type: str, transfer_id: str, count: int = 1) -> list[OutboxMessage]:
    async def probe() -> list[OutboxMessage] | None:
        rows = await p.outbox_about(event_type, transfer_id)
        return rows if len(rows) >= count else None

    return await eventually(probe)


async def _status(p: Province, student_id: str) -> str | None:
    async with p.ctx.sessionmaker() as session:
        status: str | None = await session.scalar(select(Student.status).where(Student.id == student_id))
        return status


async def test_destination_check__class_here_and_no_record_is_ok(p41: Province) -> None:
    transfer_id = str(uuid7())
    await p41.publish_local(
        TransferRequested(
            transfer_id=transfer_id,
            kind="cross_province",
            student_number="G" + p41.new_id_number(),
            student_name="李䶮",
            origin_province="37",
            destination=DEST,
            destination_class_id=DEST_CLASS,
            grade=2025,
        )
    )
    [row] = await _answers(p41, "enrollment.transfer.destination_checked", transfer_id)
    envelope = envelope_of(row)
    assert envelope.data == {"transfer_id": transfer_id, "ok": True, "reasons": []}
    assert str(envelope.correlation_id) == transfer_id
    assert row.exchange == "xueji.events"


async def test_destination_check__student_already_here_and_unknown_class(p41: Province) -> None:
    here = await p41.register()
    transfer_id = str(uuid7())
    await p41.publish_local(
        TransferRequested(
            transfer_id=transfer_id,
            kind="cross_province",
            student_number=here["student_number"],
            student_name=here["name"],
            origin_province="37",
            destination=DEST,
            destination_class_id="class-nowhere",
            grade=2025,
        )
    )
    [row] = await _answers(p41, "enrollment.transfer.destination_checked", transfer_id)
    data = envelope_of(row).data
    assert data["ok"] is False
    assert len(data["reasons"]) == 2
    assert any("已有在籍学籍" in r for r in data["reasons"])


async def test_origin_check__answers_locally_and_to_the_destination(p37: Province) -> None:
    student = await p37.register(name="孙悟空")
    transfer_id = str(uuid7())
    await p37.publish_from_partner(_case_opened(transfer_id, student, "孙悟空"))
    rows = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id, count=2)
    by_exchange = {row.exchange: row for row in rows}
    assert set(by_exchange) == {"xueji.events", INTERPROVINCE_OUT}
    partner_row = by_exchange[INTERPROVINCE_OUT]
    assert partner_row.routing_key == "41.enrollment.transfer.origin_checked"
    assert partner_row.headers[KEY_ID_HEADER] == "37-k1" and partner_row.headers[SIGNATURE_HEADER]
    for row in rows:
        envelope = envelope_of(row)
        assert str(envelope.correlation_id) == transfer_id
        data = envelope.data
        assert data["ok"] is True and data["reasons"] == []
        assert data["student"]["student_id"] == student["id"]
        assert data["student"]["birth_date"] is None
        assert "*" in data["student"]["id_number_masked"]
        assert data["case"]["transfer_id"] == transfer_id


async def test_origin_check__wrong_name_tells_the_partner_nothing_about_the_student(p37: Province) -> None:
    student = await p37.register(name="猪八戒")
    transfer_id = str(uuid7())
    await p37.publish_from_partner(_case_opened(transfer_id, student, "沙和尚"))
    rows = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id, count=2)
    by_exchange = {row.exchange: envelope_of(row).data for row in rows}
    to_partner = by_exchange[INTERPROVINCE_OUT]
    assert (to_partner["ok"], to_partner["student"]) == (False, None)
    assert to_partner["reasons"] == ["学生姓名与学籍号不符"]
    assert "猪八戒" not in json.dumps(to_partner, ensure_ascii=False)
    assert by_exchange["xueji.events"]["student"]["student_id"] == student["id"]


async def test_origin_check__unknown_student(p37: Province) -> None:
    transfer_id = str(uuid7())
    ghost = {"student_number": "G" + p37.new_id_number()}
    await p37.publish_from_partner(_case_opened(transfer_id, ghost, "无名"))
    rows = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id, count=2)
    for row in rows:
        data = envelope_of(row).data
        assert (data["ok"], data["student"], data["reasons"]) == (False, None, ["转出省无此学籍号的学生"])


async def test_release_and_admit__the_record_moves_with_its_id_number_and_history(
    p37: Province, p41: Province
) -> None:
    student = await p37.register(name="唐三藏")
    transfer_id = str(uuid7())
    await p37.publish_local(
        TransferApproved(
            transfer_id=transfer_id,
            student_number=student["student_number"],
            to_province="41",
            destination=DEST,
            destination_class_id=DEST_CLASS,
        )
    )

    async def released() -> bool:
        return await _status(p37, student["id"]) == "transferred_out"

    await eventually(released)
    origin_view = await p37.client.get(
        f"/api/v1/students/{student['id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert origin_view.status_code == 200  # frozen, still readable
    assert (origin_view.json()["status"], origin_view.json()["frozen"]) == ("transferred_out", True)
    assert [h["action"] for h in origin_view.json()["history"]] == ["registered", "transferred_out"]

    [out] = await p37.outbox_about("enrollment.student.transferred_out", student["id"])
    assert out.exchange == "xueji.events"
    assert envelope_of(out).data["student"]["status"] == "transferred_out"
    [release] = await p37.outbox_about("enrollment.record.released", student["id"])
    assert (release.exchange, release.routing_key) == (INTERPROVINCE_OUT, "41.enrollment.record.released")
    assert release.headers[KEY_ID_HEADER] == "37-k1"
    record = envelope_of(release).data
    assert record["id_number"] == student["student_number"][1:]  # the whole record moves
    assert record["destination"] == DEST.model_dump()
    assert [h["action"] for h in record["history"]] == ["registered", "transferred_out"]
    assert str(envelope_of(release).correlation_id) == transfer_id

    # Play the shovel: move what 37 queued for 41 into 41's border exchange, headers intact.
    await _shovel(p37, p41, envelope_of(release).id)

    async def admitted() -> bool:
        return await _status(p41, student["id"]) == "in_school"

    await eventually(admitted)
    view = await p41.client.get(f"/api/v1/students/{student['id']}", headers=p41.auth(Role.SCHOOL_REGISTRAR))
    assert view.status_code == 200
    moved = view.json()
    assert moved["student_number"] == student["student_number_shown"]  # the same number, masked
    assert moved["lineage"] == DEST.model_dump()
    assert moved["school_name"] == "郑州市信息技术中等职业学校"
    assert (moved["school_class"]["id"], moved["grade"]) == (DEST_CLASS, 2025)
    assert moved["frozen"] is False
    assert [h["action"] for h in moved["history"]] == ["registered", "transferred_out", "transferred_in"]
    assert [h["province"] for h in moved["history"]] == ["37", "37", "41"]
    [arrived] = await p41.outbox_about("enrollment.student.transferred_in", student["id"])
    assert envelope_of(arrived).data["from_province"] == "37"
    assert envelope_of(arrived).data["student"]["status"] == "in_school"

    # A second, identical release (a new event id, so the inbox does not catch it) changes nothing.
    again = await p41.publish_from_partner(RecordReleased.model_validate(envelope_of(release).data))
    await p41.applied(again)
    async with p41.ctx.sessionmaker() as session:
        lines = await session.scalars(
            select(StudentHistory).where(StudentHistory.student_id == student["id"])
        )
        assert len(list(lines)) == 3
    assert len(await p41.outbox_about("enrollment.student.transferred_in", student["id"])) == 1


async def test_release__approval_for_a_released_record_is_ignored(p37: Province) -> None:
    student = await p37.register(name="白龙马")
    approved = TransferApproved(
        transfer_id=str(uuid7()),
        student_number=student["student_number"],
        to_province="41",
        destination=DEST,
        destination_class_id=DEST_CLASS,
    )
    await p37.publish_local(approved)

    async def released() -> bool:
        return await _status(p37, student["id"]) == "transferred_out"

    await eventually(released)
    await p37.applied(await p37.publish_local(approved))
    assert len(await p37.outbox_about("enrollment.record.released", student["id"])) == 1


async def _shovel(source: Province, target: Province, event_id: Any) -> None:
    connection = await aio_pika.connect(source.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(partner_queue_name(target.code))

        async def take() -> aio_pika.abc.AbstractIncomingMessage | None:
            while (message := await queue.get(fail=False)) is not None:
                if message.message_id == str(event_id):
                    return message
                await message.nack(requeue=True)
            return None

        message = await eventually(take)
        await target.publish_raw(
            INTERPROVINCE_IN, message.routing_key or "", message.body, dict(message.headers)
        )
        await message.ack()


async def test_release__unknown_student_is_dead_lettered_without_the_id_number(p37: Province) -> None:
    number = "G" + p37.new_id_number()
    await p37.publish_local(
        TransferApproved(
            transfer_id=str(uuid7()),
            student_number=number,
            to_province="41",
            destination=DEST,
            destination_class_id=DEST_CLASS,
        )
    )
    connection = await aio_pika.connect(p37.amqp_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue("enrollment.events.dlq")

        async def dead() -> aio_pika.abc.AbstractIncomingMessage | None:
            return await dlq.get(fail=False)

        message = await eventually(dead)
        await message.ack()
    reason = str((message.headers or {}).get(DEAD_REASON_HEADER))
    assert "no student" in reason
    assert number[1:] not in reason
