"""Two provinces' transfer services, each with its own database and virtual host, joined by real
RabbitMQ shovels as deploy/ joins them. The test plays both enrollment services by publishing
their events, so what is proved is transfer's half of the saga: both copies of a case move
through the same states with the same timeline, and a cancel meets the move in one place."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from services.transfer.tests.integration.cases import (
    act,
    apply_from_other_province,
    new_student_number,
    read_case,
    student_summary,
    wait_for_case,
)
from services.transfer.tests.integration.conftest import HENAN_SCHOOL, SHANDONG_SCHOOL
from services.transfer.tests.integration.support import (
    Province,
    shovel,
    shovel_paused,
)
from shared.auth import Role
from shared.bus.tables import InboxMessage
from shared.events.common import StudentSummary
from shared.events.enrollment import DestinationChecked, OriginChecked, StudentTransferredIn
from shared.events.transfer import CaseStepTaken
from shared.telemetry import ATTR_TRANSFER_ID, ATTR_TRANSFER_STEP
from shared.testing import eventually

pytestmark = pytest.mark.integration

DEST_REGISTRAR = (Role.SCHOOL_REGISTRAR, HENAN_SCHOOL.school)
DEST_LEADER = (Role.SCHOOL_LEADER, HENAN_SCHOOL.school)
DEST_COUNTY = (Role.COUNTY, HENAN_SCHOOL.county)
ORIGIN_REGISTRAR = (Role.SCHOOL_REGISTRAR, SHANDONG_SCHOOL.school)
ORIGIN_COUNTY = (Role.COUNTY, SHANDONG_SCHOOL.county)


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@pytest.fixture(scope="module")
async def joined(henan: Province, shandong: Province) -> AsyncIterator[tuple[Province, Province]]:
    # Both provinces' exchanges exist (their services declared them at start) before the
    # shovels point at them: a shovel to a missing exchange wedges (SERVICES.md).
    async with shovel(henan, shandong), shovel(shandong, henan):
        yield henan, shandong


def shandong_student(number: str, status: str) -> StudentSummary:
    return student_summary(
        number,
        SHANDONG_SCHOOL,
        school_name="济南市第一职业中等专业学校",
        name="李四",
        sex="F",
        id_number_masked="3701**********1234",
        class_id="class-3737010001-2025-1",
        status=status,
    )


async def open_and_check(
    henan: Province,
    shandong: Province,
    *,
    status: str = "in_school",
    origin_ok: bool = True,
    kind: str = "cross_province",
) -> tuple[str, StudentSummary]:
    """The destination applies; both enrollments check, as they would on the events they get."""
    number = new_student_number()
    applied = await apply_from_other_province(
        henan, "37", kind=kind, student_number=number, applicant=DEST_REGISTRAR
    )
    transfer_id: str = applied["id"]
    correlation = uuid.UUID(transfer_id)
    await henan.publish(
        DestinationChecked(transfer_id=transfer_id, ok=True, school_type="secondary_vocational"),
        correlation_id=correlation,
    )
    # The origin opened its copy from the case the destination sent, then asked its enrollment.
    await wait_for_case(shandong, transfer_id, state="UNDER_REVIEW")
    summary = shandong_student(number, status)
    await shandong.publish(
        OriginChecked(
            transfer_id=transfer_id,
            ok=origin_ok,
            reasons=[] if origin_ok else ["转出省无此学籍号的学生"],
            student=summary if origin_ok else None,
            school_type="secondary_vocational",
        ),
        correlation_id=correlation,
    )
    return transfer_id, summary


async def to_origin_bureau(henan: Province, shandong: Province, transfer_id: str) -> None:
    checked = await wait_for_case(
        henan, transfer_id, DEST_LEADER, where=lambda case: case["origin_checked"] and case["dest_checked"]
    )
    assert checked["origin_school"] == SHANDONG_SCHOOL.school
    assert checked["student_summary"]["id_number_masked"] == "3701**********1234"
    assert checked["state_label"] == "待转入学校审核"

    await act(henan, transfer_id, "approve", DEST_LEADER)
    approved = await act(henan, transfer_id, "approve", DEST_COUNTY, opinion="同意")
    assert (approved["pending_level"], approved["state_label"]) == ("origin_school", "待转出学校审核")

    await wait_for_case(
        shandong, transfer_id, ORIGIN_REGISTRAR, state="UNDER_REVIEW", pending_level="origin_school"
    )
    queue = await shandong.client.get("/api/v1/transfers/queue", headers=shandong.headers(*ORIGIN_REGISTRAR))
    assert transfer_id in [c["id"] for c in queue.json()["items"]]
    # Origin levels are reviewed in the origin province only.
    await act(henan, transfer_id, "approve", DEST_COUNTY, expect=403)
    await act(shandong, transfer_id, "approve", ORIGIN_REGISTRAR)
    await wait_for_case(henan, transfer_id, DEST_LEADER, state="UNDER_REVIEW", pending_level="origin_county")


def timeline(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A case's lines in a province-independent form (``seq`` is the local arrival order)."""
    return sorted(
        (s["step_id"], s["action"], s["level"], s["state_after"], s["actor_username"], s["opinion"], s["at"])
        for s in case["timeline"]
    )


async def no_dead_letters(*provinces: Province) -> None:
    for province in provinces:
        assert await province.dead_letters() == 0


async def test_saga__both_copies_complete_with_one_timeline(
    joined: tuple[Province, Province], spans: InMemorySpanExporter
) -> None:
    henan, shandong = joined
    transfer_id, summary = await open_and_check(henan, shandong)
    await to_origin_bureau(henan, shandong, transfer_id)

    approved = await act(shandong, transfer_id, "approve", ORIGIN_COUNTY, opinion="同意转出")
    assert (approved["state"], approved["state_label"]) == ("RECORDS_MOVING", "学籍调档中")
    [released] = [
        r for r in await shandong.outbox(transfer_id) if r.event_type == "transfer.transfer.approved"
    ]
    assert released.exchange == "xueji.events"
    assert json.loads(released.body)["data"]["destination"]["school"] == HENAN_SCHOOL.school
    await wait_for_case(henan, transfer_id, DEST_LEADER, state="RECORDS_MOVING")
    await act(henan, transfer_id, "cancel", DEST_REGISTRAR, expect=409)  # the records are moving

    moved = summary.model_copy(update={"lineage": HENAN_SCHOOL})
    await henan.publish(StudentTransferredIn(student=moved, transfer_id=transfer_id, from_province="37"))

    dest = await wait_for_case(henan, transfer_id, DEST_LEADER, state="COMPLETED")
    origin = await wait_for_case(shandong, transfer_id, ORIGIN_COUNTY, state="COMPLETED")
    assert dest["state_label"] == "调档完毕"
    assert timeline(dest) == timeline(origin)
    assert [(s["action"], s["level"], s["actor_province"]) for s in dest["timeline"]] == [
        ("apply", None, "41"),
        ("approve", "dest_school", "41"),
        ("approve", "dest_county", "41"),
        ("approve", "origin_school", "37"),
        ("approve", "origin_county", "37"),
        ("records_moved", None, "41"),
    ]
    steps = {
        (s.attributes or {}).get(ATTR_TRANSFER_STEP)
        for s in spans.get_finished_spans()
        if (s.attributes or {}).get(ATTR_TRANSFER_ID) == transfer_id
    }
    assert {"apply", "approve:dest_school", "approve:origin_county", "records_moved"} <= steps
    await no_dead_letters(henan, shandong)


async def test_saga__records_arriving_before_the_final_approval_complete_the_case_later(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, summary = await open_and_check(henan, shandong)
    await to_origin_bureau(henan, shandong, transfer_id)

    # The record's route (origin enrollment → destination enrollment) overtook the step's.
    moved = summary.model_copy(update={"lineage": HENAN_SCHOOL})
    event = await henan.publish(
        StudentTransferredIn(student=moved, transfer_id=transfer_id, from_province="37")
    )

    async def consumed() -> bool:
        async with henan.ctx.sessionmaker() as session:
            return await session.get(InboxMessage, ("transfer.events", event.id)) is not None

    await eventually(consumed)
    assert (await read_case(henan, transfer_id, DEST_LEADER))["state"] == "UNDER_REVIEW"

    await act(shandong, transfer_id, "approve", ORIGIN_COUNTY)
    dest = await wait_for_case(henan, transfer_id, DEST_LEADER, state="COMPLETED")
    origin = await wait_for_case(shandong, transfer_id, ORIGIN_COUNTY, state="COMPLETED")
    assert timeline(dest) == timeline(origin)
    await no_dead_letters(henan, shandong)


async def test_saga__a_failed_origin_check_rejects_both_copies(joined: tuple[Province, Province]) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong, origin_ok=False)

    rejected = await wait_for_case(henan, transfer_id, DEST_REGISTRAR, state="REJECTED")
    assert (rejected["origin_checked"], rejected["check_reasons"]) == (False, ["转出省无此学籍号的学生"])
    last = rejected["timeline"][-1]
    assert (last["action"], last["level"], last["actor_role"], last["actor_province"]) == (
        "reject",
        None,
        "system",
        "41",
    )
    origin = await wait_for_case(shandong, transfer_id, state="REJECTED")
    assert timeline(origin) == timeline(rejected)
    await no_dead_letters(henan, shandong)


async def test_saga__a_status_the_kind_does_not_take_is_rejected_with_the_rule(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong, status="suspended")
    rejected = await wait_for_case(henan, transfer_id, DEST_REGISTRAR, state="REJECTED")
    assert rejected["check_reasons"] == ["学籍状态为“休学”，不能办理跨省转学"]


async def test_cancel__while_the_applicant_holds_the_case_it_ends_at_once_on_both_sides(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong)
    cancelled = await act(henan, transfer_id, "cancel", DEST_REGISTRAR, opinion="填报错误")
    assert (cancelled["state"], cancelled["state_label"]) == ("CANCELLED", "已撤销")
    origin = await wait_for_case(shandong, transfer_id, state="CANCELLED")
    assert timeline(origin) == timeline(cancelled)
    assert not [r for r in await shandong.outbox(transfer_id) if r.event_type == "transfer.transfer.approved"]


async def test_cancel__while_the_origin_holds_it_is_requested_and_the_origin_decides(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong)
    await to_origin_bureau(henan, shandong, transfer_id)

    requested = await act(henan, transfer_id, "cancel", DEST_REGISTRAR, expect=202, opinion="学生改变主意")
    assert requested["cancel_requested"] and requested["state"] == "UNDER_REVIEW"
    await act(henan, transfer_id, "cancel", DEST_REGISTRAR, expect=409)  # one request at a time

    origin = await wait_for_case(shandong, transfer_id, ORIGIN_COUNTY, state="CANCELLED")
    dest = await wait_for_case(henan, transfer_id, DEST_REGISTRAR, state="CANCELLED")
    assert [s["action"] for s in dest["timeline"]][-2:] == ["cancel_requested", "cancel"]
    assert timeline(origin) == timeline(dest)
    # The origin bureau lost the race: a clear 409, and nothing moves.
    refused = await act(shandong, transfer_id, "approve", ORIGIN_COUNTY, expect=409)
    assert refused["detail_zh"] == "该转学申请无待审核环节"
    assert not [r for r in await shandong.outbox(transfer_id) if r.event_type == "transfer.transfer.approved"]


async def test_cancel__after_the_final_approval_the_request_is_refused_with_the_reason(
    joined: tuple[Province, Province],
) -> None:
    """The approval's line is held back (no link 37 → 41), so the destination still thinks the
    case is under review and sends its request: the origin, holding the case, refuses it."""
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong)
    await to_origin_bureau(henan, shandong, transfer_id)
    async with shovel_paused(shandong, henan):
        await act(shandong, transfer_id, "approve", ORIGIN_COUNTY)
        await act(henan, transfer_id, "cancel", DEST_REGISTRAR, expect=202)

        origin = await wait_for_case(
            shandong,
            transfer_id,
            ORIGIN_COUNTY,
            where=lambda case: case["timeline"][-1]["action"] == "cancel_refused",
        )
    assert origin["state"] == "RECORDS_MOVING"
    assert origin["timeline"][-1]["opinion"] == "学籍档案已开始调转，不能撤销或再审核"

    dest = await wait_for_case(
        henan, transfer_id, DEST_REGISTRAR, state="RECORDS_MOVING", cancel_requested=False
    )
    assert timeline(dest) == timeline(origin)
    assert [r for r in await shandong.outbox(transfer_id) if r.event_type == "transfer.transfer.approved"]
    await no_dead_letters(henan, shandong)


async def test_steps__a_duplicated_step_changes_nothing(joined: tuple[Province, Province]) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong)
    await to_origin_bureau(henan, shandong, transfer_id)
    [step, *_] = [r for r in await shandong.outbox(transfer_id) if r.event_type == "transfer.case.step"]
    before = await read_case(henan, transfer_id, DEST_LEADER)

    duplicate = await shandong.publish(
        CaseStepTaken.model_validate(json.loads(step.body)["data"]), source="transfer", to_province="41"
    )

    async def consumed() -> bool:
        # Read only once Henan has taken the duplicate: before that the timeline is unchanged anyway.
        async with henan.ctx.sessionmaker() as session:
            taken = await session.scalar(select(InboxMessage).where(InboxMessage.event_id == duplicate.id))
            return taken is not None

    await eventually(consumed)
    assert timeline(await read_case(henan, transfer_id, DEST_LEADER)) == timeline(before)
    await no_dead_letters(henan, shandong)


async def test_after_graduation__a_graduate_moves_after_the_admitting_side_and_the_graduating_bureau(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, summary = await open_and_check(henan, shandong, status="graduated", kind="after_graduation")

    case = await wait_for_case(
        henan, transfer_id, DEST_LEADER, where=lambda case: case["origin_checked"] and case["dest_checked"]
    )
    assert (case["kind_label"], case["chain"]) == (
        "毕业后跨省就学",
        ["dest_school", "dest_county", "origin_county"],
    )
    await act(henan, transfer_id, "approve", DEST_LEADER)
    await act(henan, transfer_id, "approve", DEST_COUNTY)
    await wait_for_case(
        shandong, transfer_id, ORIGIN_COUNTY, state="UNDER_REVIEW", pending_level="origin_county"
    )
    await act(shandong, transfer_id, "approve", ORIGIN_COUNTY)
    await henan.publish(
        StudentTransferredIn(
            student=summary.model_copy(update={"lineage": HENAN_SCHOOL, "status": "in_school"}),
            transfer_id=transfer_id,
            from_province="37",
        )
    )
    dest = await wait_for_case(henan, transfer_id, DEST_LEADER, state="COMPLETED")
    origin = await wait_for_case(shandong, transfer_id, ORIGIN_COUNTY, state="COMPLETED")
    assert timeline(dest) == timeline(origin)


async def test_after_graduation__a_student_still_in_school_is_not_taken(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong, status="in_school", kind="after_graduation")
    rejected = await wait_for_case(henan, transfer_id, DEST_REGISTRAR, state="REJECTED")
    assert rejected["check_reasons"] == ["学籍状态为“在校”，不能办理毕业后跨省就学"]
