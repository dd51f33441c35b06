"""Cross-province duplicate check by keyed digest: both provinces register the same ID; the
signed announcement and its answer open a problem record on both sides, the later-registered
side acting first. The outbox rows are carried between the two test provinces as the shovel
would carry them (same body, same signature headers)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.enrollment.models.problems import ProblemRecord
from services.enrollment.tests.integration.conftest import Province, envelope_of
from services.enrollment.tests.integration.imports_support import fresh_id
from shared.bus.tables import OutboxMessage
from shared.bus.topology import INTERPROVINCE_IN
from shared.events import EventEnvelope
from shared.events.enrollment import DuplicateFound

ANNOUNCED = "enrollment.id_digest.announced"
FOUND = "enrollment.duplicate.found"


async def _carry(source: Province, target: Province, row: OutboxMessage) -> EventEnvelope:
    await target.publish_raw(INTERPROVINCE_IN, row.routing_key, row.body, dict(row.headers))
    envelope = envelope_of(row)
    await target.applied(envelope)
    return envelope


async def _duplicates(p: Province, student_id: str) -> list[ProblemRecord]:
    async with p.ctx.sessionmaker() as session:
        return list(
            await session.scalars(
                select(ProblemRecord).where(
                    ProblemRecord.student_id == student_id, ProblemRecord.kind == "duplicate_id"
                )
            )
        )


async def test_duplicate__found_across_provinces_opens_a_problem_record_on_both_sides(
    p37: Province, p41: Province
) -> None:
    number = fresh_id(p37)
    earlier = await p37.register(name="双籍", id_number=number, class_id="class-3737010001-2025-1")
    [announced_37] = await p37.outbox_about(ANNOUNCED, earlier["id"])
    assert number not in announced_37.body.decode() and announced_37.routing_key == f"41.{ANNOUNCED}"
    await _carry(p37, p41, announced_37)  # 41 holds nobody with that ID yet: nothing happens
    assert await p41.outbox(FOUND) == [] or all(
        envelope_of(r).data["announced_student_id"] != earlier["id"] for r in await p41.outbox(FOUND)
    )

    later = await p41.register(name="双籍", id_number=number, class_id="class-4141010001-2025-1")
    [announced_41] = await p41.outbox_about(ANNOUNCED, later["id"])
    assert envelope_of(announced_41).data["digest"] == envelope_of(announced_37).data["digest"]
    await _carry(p41, p37, announced_41)

    [in_37] = await _duplicates(p37, earlier["id"])
    assert (in_37.counterpart_province, in_37.counterpart_ref, in_37.acting_side) == (
        "41",
        later["id"],
        "counterpart",
    )
    [answer] = await p37.outbox_about(FOUND, later["id"])
    assert answer.routing_key == f"41.{FOUND}" and number not in answer.body.decode()
    await _carry(p37, p41, answer)

    [in_41] = await _duplicates(p41, later["id"])
    assert (in_41.counterpart_province, in_41.counterpart_ref, in_41.acting_side) == (
        "37",
        earlier["id"],
        "here",
    )
    assert in_41.id_digest == in_37.id_digest and in_41.due_on is not None

    # Redelivered answers open nothing twice (inbox + one open case per pair).
    await _carry(p41, p37, announced_41)
    assert len(await _duplicates(p37, earlier["id"])) == 1


async def test_duplicate__an_answer_naming_a_record_we_did_not_announce_is_ignored(
    p37: Province, p41: Province
) -> None:
    student = await p41.register(class_id="class-4141010001-2025-1")
    forged = DuplicateFound(
        digest="0" * 64,
        announced_student_id=student["id"],
        holder_student_id="someone",
        holder_registered_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    envelope = await p41.publish_from_partner(forged)
    await p41.applied(envelope)
    assert await _duplicates(p41, student["id"]) == []
