"""Enrollment's part of transfers, driven by the events the transfer service and the partner
province would send. Across provinces 37 is the origin and 41 the destination; moves inside a
province happen in 41, between its two schools."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import aio_pika
import pytest
from sqlalchemy import select, update
from uuid6 import uuid7

from services.enrollment.domain.transfer_admission import entry_year_of_school_year
from services.enrollment.models import Student, StudentHistory
from services.enrollment.models.parked_summaries import ParkedVerificationSummary
from services.enrollment.tests.integration.conftest import PARTNER, SCHOOL, Province, envelope_of
from shared.auth import Role
from shared.bus.consumer import DEAD_REASON_HEADER, consumer_queue_names
from shared.bus.tables import InboxMessage, OutboxMessage
from shared.bus.topology import (
    EVENTS_EXCHANGE,
    INTERPROVINCE_IN,
    INTERPROVINCE_OUT,
    dead_letter_queue_name,
    interprovince_routing_key,
    partner_queue_name,
)
from shared.china_time import CHINA, today_in_china
from shared.events import EventEnvelope
from shared.events.checkin import VerificationSummaryReleased
from shared.events.common import HistoryEntry, Lineage
from shared.events.enrollment import RecordReleased
from shared.events.transfer import StudentLookupRequested, TransferApproved, TransferRequested
from shared.signing import KEY_ID_HEADER, Signer
from shared.testing import eventually

DEST = Lineage(province="41", city="4101", county="410102", school=SCHOOL["41"])
DEST_CLASS = f"class-{SCHOOL['41']}-2025-1"
# A second school of 41, in another city: the target of moves inside the province.
OTHER_41 = Lineage(province="41", city="4102", county="410202", school="4141020001")
OTHER_41_CLASS = "class-4141020001-2025-1"


def _origin_request(transfer_id: str, student: dict[str, Any], name: str) -> TransferRequested:
    """What 37's transfer service emits locally when it copies 41's cross-province case."""
    return TransferRequested(
        transfer_id=transfer_id,
        kind="cross_province",
        student_number=student["student_number"],
        student_name=name,
        origin_province="37",
        destination=DEST,
        destination_class_id=DEST_CLASS,
        grade=2024,
        check_origin=True,
        check_destination=False,
    )


def _in_province_request(
    transfer_id: str,
    student: dict[str, Any],
    destination: Lineage,
    destination_class_id: str,
    *,
    check_origin: bool = False,
) -> TransferRequested:
    """What 41's transfer service emits for a move between two of its own schools."""
    return TransferRequested(
        transfer_id=transfer_id,
        kind="in_province",
        student_number=student["student_number"],
        student_name=student["name"],
        origin_province="41",
        destination=destination,
        destination_class_id=destination_class_id,
        grade=2025,
        check_origin=check_origin,
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
    assert envelope.data == {
        "transfer_id": transfer_id,
        "ok": True,
        "reasons": [],
        "school_type": "secondary_vocational",
        "class_major_code": "710201",
        "class_grade": 2025,
    }
    assert await p41.outbox_about("enrollment.transfer.origin_checked", transfer_id) == []
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


async def test_origin_check__answers_locally_with_the_masked_student(p37: Province) -> None:
    student = await p37.register(name="孙悟空")
    transfer_id = str(uuid7())
    await p37.publish_local(_origin_request(transfer_id, student, "孙悟空"))
    [row] = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id)
    assert row.exchange == "xueji.events"  # the transfer service tells the destination, not us
    envelope = envelope_of(row)
    assert str(envelope.correlation_id) == transfer_id
    data = envelope.data
    assert data["ok"] is True and data["reasons"] == []
    assert data["school_type"] == "secondary_vocational"
    assert data["student"]["student_id"] == student["id"]
    assert data["student"]["status"] == "in_school"
    assert data["student"]["birth_date"] is None
    assert data["student"]["id_number_digest"] is None
    assert "*" in data["student"]["id_number_masked"]
    assert await p37.outbox_about("enrollment.transfer.destination_checked", transfer_id) == []


async def test_origin_check__a_status_is_reported_not_judged(p37: Province) -> None:
    student = await p37.register(name="沙悟净")
    await _set_status(p37, student["id"], "suspended")
    transfer_id = str(uuid7())
    await p37.publish_local(_origin_request(transfer_id, student, "沙悟净"))
    [row] = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id)
    data = envelope_of(row).data
    assert (data["ok"], data["student"]["status"]) == (True, "suspended")


async def test_origin_check__wrong_name_tells_nothing_about_the_student(p37: Province) -> None:
    student = await p37.register(name="猪八戒")
    transfer_id = str(uuid7())
    await p37.publish_local(_origin_request(transfer_id, student, "沙和尚"))
    [row] = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id)
    data = envelope_of(row).data
    assert (data["ok"], data["student"], data["school_type"]) == (False, None, None)
    assert data["reasons"] == ["学生姓名与学籍号不符"]
    assert "猪八戒" not in json.dumps(data, ensure_ascii=False)


async def test_origin_check__unknown_student(p37: Province) -> None:
    transfer_id = str(uuid7())
    ghost = {"student_number": "G" + p37.new_id_number()}
    await p37.publish_local(_origin_request(transfer_id, ghost, "无名"))
    [row] = await _answers(p37, "enrollment.transfer.origin_checked", transfer_id)
    data = envelope_of(row).data
    assert (data["ok"], data["student"], data["reasons"]) == (False, None, ["转出省无此学籍号的学生"])


async def test_origin_check__a_redelivered_request_is_answered_once(p37: Province) -> None:
    student = await p37.register(name="观音")
    transfer_id = str(uuid7())
    envelope = await p37.publish_local(_origin_request(transfer_id, student, "观音"))
    await _answers(p37, "enrollment.transfer.origin_checked", transfer_id)
    await _redeliver_local(p37, envelope)
    await _marker(p37)
    assert len(await p37.outbox_about("enrollment.transfer.origin_checked", transfer_id)) == 1


async def test_in_province_request__checks_both_sides_and_the_record_here_is_no_obstacle(
    p41: Province,
) -> None:
    student = await p41.register(name="红孩儿")
    transfer_id = str(uuid7())
    await p41.publish_local(
        _in_province_request(transfer_id, student, OTHER_41, OTHER_41_CLASS, check_origin=True)
    )
    [dest] = await _answers(p41, "enrollment.transfer.destination_checked", transfer_id)
    [origin] = await _answers(p41, "enrollment.transfer.origin_checked", transfer_id)
    dest_data = envelope_of(dest).data
    assert (dest_data["ok"], dest_data["class_grade"], dest_data["class_major_code"]) == (
        True,
        2025,
        "710201",
    )
    assert envelope_of(origin).data["ok"] is True


async def test_in_province_request__a_student_already_at_the_target_school(p41: Province) -> None:
    student = await p41.register(name="铁扇公主")
    transfer_id = str(uuid7())
    await p41.publish_local(_in_province_request(transfer_id, student, DEST, DEST_CLASS))
    [row] = await _answers(p41, "enrollment.transfer.destination_checked", transfer_id)
    data = envelope_of(row).data
    assert data["ok"] is False and any("已有在籍学籍" in r for r in data["reasons"])


async def test_move_within_province__same_record_at_the_new_school(p41: Province) -> None:
    student = await p41.register(name="牛魔王")
    transfer_id = str(uuid7())
    approved = TransferApproved(
        transfer_id=transfer_id,
        kind="in_province",
        student_number=student["student_number"],
        to_province="41",
        destination=OTHER_41,
        destination_class_id=OTHER_41_CLASS,
    )
    envelope = await p41.publish_local(approved)
    [moved_event] = await _answers(p41, "enrollment.student.moved", student["id"])
    data = envelope_of(moved_event).data
    assert data["transfer_id"] == transfer_id
    assert data["from_lineage"] == DEST.model_dump()
    assert data["student"]["lineage"] == OTHER_41.model_dump()
    assert (data["student"]["class_id"], data["student"]["grade"]) == (OTHER_41_CLASS, 2025)
    assert str(envelope_of(moved_event).correlation_id) == transfer_id

    view = await p41.client.get(f"/api/v1/students/{student['id']}", headers=p41.auth(Role.PROVINCE))
    assert view.status_code == 200
    after = view.json()
    assert after["id"] == student["id"]
    assert after["student_number"] == student["student_number_shown"]
    assert after["lineage"] == OTHER_41.model_dump()
    assert after["school_name"] == "开封市中等职业技术学校"
    assert (after["status"], after["frozen"]) == ("in_school", False)
    assert after["study_length"] == student["study_length"]
    assert after["counselor_id"] is None
    [*_, line] = after["history"]
    assert line["action"] == "transferred_within_province"
    assert "郑州市信息技术中等职业学校" in line["detail"] and "开封市中等职业技术学校" in line["detail"]
    assert transfer_id in line["detail"]
    # The old school no longer sees the record.
    old = await p41.client.get(f"/api/v1/students/{student['id']}", headers=p41.auth(Role.SCHOOL_REGISTRAR))
    assert old.status_code == 404

    # Redelivered (same event), then sent again (new event id): nothing changes.
    await _redeliver_local(p41, envelope)
    await p41.applied(await p41.publish_local(approved))
    assert len(await p41.outbox_about("enrollment.student.moved", student["id"])) == 1
    async with p41.ctx.sessionmaker() as session:
        actions = list(
            await session.scalars(
                select(StudentHistory.action).where(StudentHistory.student_id == student["id"])
            )
        )
    assert actions.count("transferred_within_province") == 1
    assert await p41.outbox_about("enrollment.record.released", student["id"]) == []


async def test_move_within_province__without_a_class_keeps_grade_and_major(p41: Province) -> None:
    student = await p41.register(name="黄风怪")
    await p41.publish_local(
        TransferApproved(
            transfer_id=str(uuid7()),
            kind="joint_programme",
            student_number=student["student_number"],
            to_province="41",
            destination=OTHER_41,
            destination_class_id=None,
        )
    )
    [moved] = await _answers(p41, "enrollment.student.moved", student["id"])
    summary = envelope_of(moved).data["student"]
    assert (summary["class_id"], summary["grade"], summary["major_code"]) == (None, 2024, "710201")
    assert summary["lineage"]["school"] == OTHER_41.school


async def test_lookup__name_and_number_match_shows_only_the_masked_summary(p37: Province) -> None:
    student = await p37.register(name="哪吒")
    lookup_id = str(uuid7())
    asked = await p37.publish_from_partner(
        StudentLookupRequested(
            lookup_id=lookup_id, student_number=student["student_number"], student_name="哪吒"
        )
    )
    [row] = await _answers(p37, "enrollment.lookup.answered", lookup_id)
    assert (row.exchange, row.routing_key) == (INTERPROVINCE_OUT, "41.enrollment.lookup.answered")
    data = envelope_of(row).data
    assert data["found"] is True
    shown = data["student"]
    assert (shown["name"], shown["status"], shown["grade"]) == ("哪吒", "in_school", 2024)
    assert shown["lineage"]["school"] == SCHOOL["37"]
    assert shown["school_name"] == "济南市历下职业中等专业学校"
    assert "*" in shown["id_number_masked"]
    assert (shown["birth_date"], shown["id_number_digest"], shown["sex"]) == (None, None, None)
    assert student["student_number"][1:] not in json.dumps(shown["id_number_masked"])

    await _redeliver_from_partner(p37, asked)
    await _marker(p37)
    assert len(await p37.outbox_about("enrollment.lookup.answered", lookup_id)) == 1


async def test_lookup__wrong_name_finds_nothing(p37: Province) -> None:
    student = await p37.register(name="太白金星")
    lookup_id = str(uuid7())
    await p37.publish_from_partner(
        StudentLookupRequested(
            lookup_id=lookup_id, student_number=student["student_number"], student_name="太上老君"
        )
    )
    [row] = await _answers(p37, "enrollment.lookup.answered", lookup_id)
    data = envelope_of(row).data
    assert (data["found"], data["student"]) == (False, None)
    assert "太白金星" not in json.dumps(data, ensure_ascii=False)


async def test_lookup__unknown_number_finds_nothing(p37: Province) -> None:
    lookup_id = str(uuid7())
    await p37.publish_from_partner(
        StudentLookupRequested(
            lookup_id=lookup_id, student_number="G" + p37.new_id_number(), student_name="无名"
        )
    )
    [row] = await _answers(p37, "enrollment.lookup.answered", lookup_id)
    assert envelope_of(row).data["found"] is False


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("in_school", "cross_province"),
        ("on_leave", "cross_province"),
        ("left_without_completing", "cross_province"),
        ("dropout", "cross_province"),
        ("abroad", "cross_province"),
        ("withdrawn", "cross_province"),
        ("graduated", "after_graduation"),
    ],
)
async def test_release__from_every_status_a_kind_admits(p37: Province, status: str, kind: str) -> None:
    student = await p37.register(name="如来")
    await _set_status(p37, student["id"], status)
    transfer_id = str(uuid7())
    await p37.publish_local(
        TransferApproved(
            transfer_id=transfer_id,
            kind=kind,
            student_number=student["student_number"],
            to_province="41",
            destination=DEST,
            destination_class_id=DEST_CLASS,
        )
    )
    [release] = await _answers(p37, "enrollment.record.released", student["id"])
    record = envelope_of(release).data
    assert (record["kind"], record["origin_school_type"]) == (kind, "secondary_vocational")
    assert await _status(p37, student["id"]) == "transferred_out"


async def test_release__a_status_no_kind_admits_is_dead_lettered(p37: Province) -> None:
    student = await p37.register(name="二郎神")
    await _set_status(p37, student["id"], "suspended")
    approved = await p37.publish_local(
        TransferApproved(
            transfer_id=str(uuid7()),
            student_number=student["student_number"],
            to_province="41",
            destination=DEST,
            destination_class_id=DEST_CLASS,
        )
    )
    message = await _dead_letter(p37, approved)
    assert "suspended" in str((message.headers or {}).get(DEAD_REASON_HEADER))
    assert await _status(p37, student["id"]) == "suspended"


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
    assert (record["kind"], record["origin_school_type"]) == ("cross_province", "secondary_vocational")
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
    assert moved["study_length"] == student["study_length"]  # a transfer keeps the study length
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
    approved = await p37.publish_local(
        TransferApproved(
            transfer_id=str(uuid7()),
            student_number=number,
            to_province="41",
            destination=DEST,
            destination_class_id=DEST_CLASS,
        )
    )
    message = await _dead_letter(p37, approved)
    reason = str((message.headers or {}).get(DEAD_REASON_HEADER))
    assert "no student" in reason
    assert number[1:] not in reason


def _released_record(origin: Province, student_id: str, **overrides: Any) -> RecordReleased:
    """A record as 37 would release it, for a student 41 has never seen."""
    id_number = origin.new_id_number()
    values: dict[str, Any] = {
        "transfer_id": str(uuid7()),
        "student_id": student_id,
        "student_number": "G" + id_number,
        "name": "嫦娥",
        "sex": "F",
        "birth_date": None,
        "id_type": "resident_id",
        "id_number": id_number,
        "entry_year": 2024,
        "study_length": 4.0,
        "study_form": "full_time",
        "major_code": "710201",
        "history": [
            HistoryEntry(at="2024-09-01T08:00:00+08:00", province="37", action="registered", detail="注册"),
        ],
        "destination": DEST,
        "destination_class_id": DEST_CLASS,
    }
    values.update(overrides)
    return RecordReleased(**values)


async def _admitted(p: Province, student_id: str) -> dict[str, Any]:
    async def probe() -> bool:
        return await _status(p, student_id) is not None

    await eventually(probe)
    view = await p.client.get(f"/api/v1/students/{student_id}", headers=p.auth(Role.SCHOOL_REGISTRAR))
    assert view.status_code == 200, view.text
    result: dict[str, Any] = view.json()
    return result


@pytest.mark.parametrize("origin_school_type", ["general_high", "technical"])
async def test_admit__from_high_or_technical_school_the_study_length_becomes_3(
    p37: Province, p41: Province, origin_school_type: str
) -> None:
    student_id = str(uuid7())
    await p41.publish_from_partner(_released_record(p37, student_id, origin_school_type=origin_school_type))
    admitted = await _admitted(p41, student_id)
    assert admitted["study_length"] == 3.0
    assert (admitted["status"], admitted["grade"]) == ("in_school", 2025)


async def test_admit__from_another_vocational_school_the_study_length_is_kept(
    p37: Province, p41: Province
) -> None:
    student_id = str(uuid7())
    await p41.publish_from_partner(
        _released_record(p37, student_id, origin_school_type="secondary_vocational")
    )
    assert (await _admitted(p41, student_id))["study_length"] == 4.0


async def test_admit__after_graduation_starts_a_new_course(p37: Province, p41: Province) -> None:
    student_id = str(uuid7())
    released = _released_record(
        p37,
        student_id,
        kind="after_graduation",
        entry_year=2021,
        study_length=3.0,
        major_code=None,
        history=[
            HistoryEntry(at="2021-09-01T08:00:00+08:00", province="37", action="registered", detail="注册"),
            HistoryEntry(at="2024-06-30T08:00:00+08:00", province="37", action="graduated", detail="毕业"),
        ],
    )
    envelope = await p41.publish_from_partner(released)
    admitted = await _admitted(p41, student_id)
    assert admitted["status"] == "in_school"
    assert (admitted["grade"], admitted["major_code"], admitted["study_length"]) == (2025, "710201", 3.0)
    assert [h["action"] for h in admitted["history"]] == ["registered", "graduated", "transferred_in"]
    assert "毕业后跨省就学" in admitted["history"][-1]["detail"]

    await _redeliver_from_partner(p41, envelope)
    await _marker(p41)
    assert len(await p41.outbox_about("enrollment.student.transferred_in", student_id)) == 1


async def test_admit__after_graduation_without_a_class_enters_this_school_year(
    p37: Province, p41: Province
) -> None:
    student_id = str(uuid7())
    await p41.publish_from_partner(
        _released_record(p37, student_id, kind="after_graduation", entry_year=2021, destination_class_id=None)
    )
    admitted = await _admitted(p41, student_id)
    assert admitted["grade"] == entry_year_of_school_year(today_in_china())
    assert (admitted["school_class"], admitted["major_code"], admitted["study_length"]) == (None, None, 3.0)


async def test_admit__a_record_coming_back_keeps_one_copy_of_its_history(p41: Province) -> None:
    student = await p41.register(name="玉兔")
    async with p41.ctx.sessionmaker() as session:
        [registered] = await session.scalars(
            select(StudentHistory).where(StudentHistory.student_id == student["id"])
        )
    await _set_status(p41, student["id"], "transferred_out")
    # The partner sends back the line it got from here, its time written at China's offset.
    travelled = HistoryEntry(
        at=registered.at.astimezone(CHINA).isoformat(),
        province=registered.province,
        action=registered.action,
        detail=registered.detail,
    )
    there = HistoryEntry(at=travelled.at, province="37", action="status_changed", detail="在 37 的记录")
    await p41.publish_from_partner(
        _released_record(
            p41,
            student["id"],
            student_number=student["student_number"],
            id_number=student["student_number"][1:],
            history=[travelled, there],
        )
    )

    async def back() -> bool:
        return await _status(p41, student["id"]) == "in_school"

    await eventually(back)
    actions = [action for action, _ in await _history_actions(p41, student["id"])]
    assert sorted(actions) == ["registered", "status_changed", "transferred_in"]


async def _set_status(p: Province, student_id: str, status: str) -> None:
    """Put a record in a status the status-change workflow would reach (tested in its own files)."""
    async with p.ctx.sessionmaker() as session, session.begin():
        await session.execute(update(Student).where(Student.id == student_id).values(status=status))


async def _redeliver_local(p: Province, envelope: EventEnvelope) -> None:
    """The broker delivering the very same message again (same event id)."""
    await p.publish_raw(EVENTS_EXCHANGE, envelope.type, envelope.to_bytes(), {})


async def _redeliver_from_partner(p: Province, envelope: EventEnvelope) -> None:
    partner = PARTNER[p.code]
    body = envelope.to_bytes()
    headers = Signer(partner, f"{partner}-k1", p.partner_key).headers_for(p.code, body)
    await p.publish_raw(INTERPROVINCE_IN, interprovince_routing_key(p.code, envelope.type), body, headers)


async def _marker(p: Province) -> None:
    """Wait until a later event on the same queue is applied: what came before it was handled."""
    await p.applied(
        await p.publish_local(
            TransferRequested(
                transfer_id=str(uuid7()),
                kind="cross_province",
                student_number="G" + p.new_id_number(),
                student_name="标记",
                origin_province=PARTNER[p.code],
                destination=DEST,
                destination_class_id=None,
                grade=2025,
            )
        )
    )


async def _dead_letter(p: Province, envelope: EventEnvelope) -> aio_pika.abc.AbstractIncomingMessage:
    """The dead-lettered copy of ``envelope`` (other tests' dead letters are left in place)."""
    connection = await aio_pika.connect(p.amqp_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue("enrollment.events.dlq")

        async def dead() -> aio_pika.abc.AbstractIncomingMessage | None:
            while (message := await dlq.get(fail=False)) is not None:
                if EventEnvelope.from_bytes(message.body).id == envelope.id:
                    return message
                await message.nack(requeue=True)
            return None

        message = await eventually(dead)
        await message.ack()
    return message


async def _history_actions(p: Province, student_id: str) -> list[tuple[str, str]]:
    async with p.ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(StudentHistory).where(StudentHistory.student_id == student_id).order_by(StudentHistory.at)
        )
        return [(row.action, row.detail) for row in rows]


async def test_verification_summary__joins_the_history_even_when_it_comes_before_the_record(
    p37: Province, p41: Province
) -> None:
    student_id = str(uuid7())
    released = _released_record(p37, student_id)
    summary = VerificationSummaryReleased(
        student_id=student_id,
        transfer_id=released.transfer_id,
        rounds_checked_in=5,
        rounds_missed=1,
        misses_excused=1,
        leaves_granted=2,
        first_round_on=date(2025, 3, 3),
        last_round_on=date(2026, 11, 2),
    )
    # The summary overtakes the record: it is parked until the record is here.
    await p41.publish_from_partner(summary)
    await p41.publish_from_partner(released)
    await _admitted(p41, student_id)

    async def summarised() -> list[str] | None:
        lines = [
            detail
            for action, detail in await _history_actions(p41, student_id)
            if action == "verification_summary"
        ]
        return lines or None

    [line] = await eventually(summarised)
    assert "核验通过 5 轮，缺勤 1 轮（其中申诉成立 1 轮），准假 2 次" in line
    assert "2025-03-03 至 2026-11-02" in line

    # The same summary again (a partner resending it as a new message) adds nothing.
    await p41.applied(await p41.publish_from_partner(summary))
    assert len([a for a, _ in await _history_actions(p41, student_id) if a == "verification_summary"]) == 1


async def _settled(p: Province, envelope: EventEnvelope) -> str:
    """How the consumer of partner events finished with ``envelope``: "applied" (its inbox row is
    committed) or "dead-lettered" (it is in the dead-letter queue, from which it is taken)."""
    dlq_name = dead_letter_queue_name(consumer_queue_names("enrollment")[1])
    connection = await aio_pika.connect(p.amqp_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.get_queue(dlq_name)

        async def outcome() -> str | None:
            async with p.ctx.sessionmaker() as session:
                if await session.scalar(
                    select(InboxMessage.event_id).where(InboxMessage.event_id == envelope.id)
                ):
                    return "applied"
            while (message := await dlq.get(fail=False)) is not None:
                if EventEnvelope.from_bytes(message.body).id == envelope.id:
                    await message.ack()
                    return "dead-lettered"
                await message.nack(requeue=True)
            return None

        return await eventually(outcome)


async def _parked(p: Province, student_id: str) -> list[str]:
    async with p.ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(ParkedVerificationSummary.detail).where(ParkedVerificationSummary.student_id == student_id)
        )
        return list(rows)


async def _summary_lines(p: Province, student_id: str) -> list[str]:
    return [
        detail for action, detail in await _history_actions(p, student_id) if action == "verification_summary"
    ]


async def test_verification_summary__long_before_the_record_is_parked_not_dead_lettered(
    p37: Province, p41: Province
) -> None:
    """The record held up longer than the bus retries (a shovel or broker restart): the summary
    waits in enrollment, not in the dead-letter queue, and admission applies it once."""
    student_id = str(uuid7())
    released = _released_record(p37, student_id)
    summary = VerificationSummaryReleased(
        student_id=student_id,
        transfer_id=released.transfer_id,
        rounds_checked_in=7,
        rounds_missed=2,
        misses_excused=0,
        leaves_granted=1,
        first_round_on=date(2025, 3, 3),
        last_round_on=date(2026, 11, 2),
    )
    # Only once the summary is settled is the record sent: no retry can bridge the gap.
    assert await _settled(p41, await p41.publish_from_partner(summary)) == "applied"
    # A partner resending it while it waits parks nothing more.
    assert await _settled(p41, await p41.publish_from_partner(summary)) == "applied"
    [parked] = await _parked(p41, student_id)
    assert "核验通过 7 轮，缺勤 2 轮" in parked
    assert await _status(p41, student_id) is None

    await p41.publish_from_partner(released)
    await _admitted(p41, student_id)
    # Applied by the admission itself, in its transaction: there the moment the record is.
    [line] = await _summary_lines(p41, student_id)
    assert line == parked
    assert await _parked(p41, student_id) == []

    # Replays of the summary and of the record (new messages, as a partner resending them) add none.
    assert await _settled(p41, await p41.publish_from_partner(summary)) == "applied"
    assert await _settled(p41, await p41.publish_from_partner(released)) == "applied"
    assert await _summary_lines(p41, student_id) == [line]
    assert await _parked(p41, student_id) == []


async def test_verification_summary__for_a_record_still_away_waits_for_its_return(p41: Province) -> None:
    """A student who once left 41 is coming back: the old record here is transferred out, and a
    summary that overtakes the record waits for it instead of joining the stale one."""
    student = await p41.register(name="吴刚")
    await _set_status(p41, student["id"], "transferred_out")
    released = _released_record(
        p41,
        student["id"],
        student_number=student["student_number"],
        id_number=student["student_number"][1:],
        history=[],
    )
    summary = VerificationSummaryReleased(
        student_id=student["id"],
        transfer_id=released.transfer_id,
        rounds_checked_in=3,
        rounds_missed=0,
        misses_excused=0,
        leaves_granted=0,
    )
    assert await _settled(p41, await p41.publish_from_partner(summary)) == "applied"
    assert await _summary_lines(p41, student["id"]) == []
    assert len(await _parked(p41, student["id"])) == 1

    assert await _settled(p41, await p41.publish_from_partner(released)) == "applied"
    assert await _status(p41, student["id"]) == "in_school"
    [line] = await _summary_lines(p41, student["id"])
    assert "核验通过 3 轮，缺勤 0 轮" in line
    assert await _parked(p41, student["id"]) == []
