"""Two provinces' transfer services, each with its own database and virtual host, joined by real
RabbitMQ shovels as deploy/ joins them. The test plays both enrollment services by publishing
their events, so what is proved is transfer's half of the saga: both copies of a case move
through the same states with the same timeline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.transfer.tests.integration.conftest import HENAN_SCHOOL, SHANDONG_SCHOOL
from services.transfer.tests.integration.support import (
    Province,
    ProvinceKeys,
    data_of,
    eventually,
    running_province,
    shovel,
)
from shared.auth import Role
from shared.bus.tables import InboxMessage
from shared.events.common import StudentSummary
from shared.events.enrollment import DestinationChecked, OriginChecked, StudentTransferredIn
from shared.telemetry import ATTR_TRANSFER_ID, ATTR_TRANSFER_STEP

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
async def shandong(
    henan_keys: ProvinceKeys, shandong_keys: ProvinceKeys, key_dir: Path
) -> AsyncIterator[Province]:
    async with running_province(shandong_keys, [henan_keys], key_dir) as province:
        yield province


@pytest.fixture(scope="module")
async def joined(henan: Province, shandong: Province) -> AsyncIterator[tuple[Province, Province]]:
    # Both provinces' exchanges exist (their services declared them at start) before the
    # shovels point at them: a shovel to a missing exchange wedges (SERVICES.md).
    async with shovel(henan, shandong), shovel(shandong, henan):
        yield henan, shandong


def student(number: str) -> StudentSummary:
    return StudentSummary(
        student_id=f"stu-{uuid.uuid4().hex[:12]}",
        student_number=number,
        name="李四",
        sex="F",
        birth_date=None,
        id_number_masked="3701**********1234",
        lineage=SHANDONG_SCHOOL,
        school_name="济南市第一职业中等专业学校",
        class_id="class-3737010001-2025-1",
        grade=2025,
        major_code="710201",
        study_length=3.0,
        study_form="full_time",
        status="in_school",
    )


async def case_at(province: Province, transfer_id: str, who: tuple[Role, str]) -> dict[str, Any] | None:
    response = await province.client.get(f"/api/v1/transfers/{transfer_id}", headers=province.headers(*who))
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def in_state(province: Province, transfer_id: str, who: tuple[Role, str], state: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        case = await case_at(province, transfer_id, who)
        return case if case is not None and case["state"] == state else None

    return await eventually(probe)


async def act(
    province: Province, transfer_id: str, verb: str, who: tuple[Role, str], **body: str
) -> dict[str, Any]:
    response = await province.client.post(
        f"/api/v1/transfers/{transfer_id}/{verb}", json=body or None, headers=province.headers(*who)
    )
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


async def open_and_check(
    henan: Province, shandong: Province, *, origin_ok: bool = True
) -> tuple[str, StudentSummary]:
    """The destination applies; both enrollments check, as they would on the events they get."""
    number = f"G{uuid.uuid4().int % 10**17:017d}X"
    response = await henan.client.post(
        "/api/v1/transfers",
        json={
            "student_number": number,
            "student_name": "李四",
            "origin_province": "37",
            "grade": 2025,
            "reason": "随父母工作调动",
        },
        headers=henan.headers(*DEST_REGISTRAR),
    )
    assert response.status_code == 201, response.text
    transfer_id: str = response.json()["id"]
    correlation = uuid.UUID(transfer_id)
    [opened] = [r for r in await henan.outbox(transfer_id) if r.event_type == "transfer.case.opened"]
    await henan.publish(DestinationChecked(transfer_id=transfer_id, ok=True), correlation_id=correlation)
    summary = student(number)
    checked = OriginChecked(
        transfer_id=transfer_id,
        ok=origin_ok,
        reasons=[] if origin_ok else ["该生学籍状态为休学，不能转学"],
        student=summary if origin_ok else None,
        case=data_of(opened),
    )
    await shandong.publish(checked, correlation_id=correlation)
    await shandong.publish(checked, to_province="41", correlation_id=correlation)
    return transfer_id, summary


async def through_origin_school(henan: Province, shandong: Province, transfer_id: str) -> None:
    async def both_checked() -> dict[str, Any] | None:
        case = await case_at(henan, transfer_id, DEST_LEADER)
        assert case is not None
        return case if case["origin_checked"] and case["dest_checked"] else None

    checked = await eventually(both_checked)
    assert checked["origin_school"] == SHANDONG_SCHOOL.school
    assert checked["student_summary"]["id_number_masked"] == "3701**********1234"

    await in_state(shandong, transfer_id, ORIGIN_REGISTRAR, "APPLIED")  # the origin opened its copy
    assert (await act(henan, transfer_id, "approve", DEST_LEADER))["state"] == "DEST_SCHOOL_APPROVED"
    assert (await act(henan, transfer_id, "approve", DEST_COUNTY, opinion="同意"))["state_label"] == (
        "转学申请已发往转出省"
    )

    await in_state(shandong, transfer_id, ORIGIN_REGISTRAR, "SENT_TO_ORIGIN")
    queue = await shandong.client.get("/api/v1/transfers/queue", headers=shandong.headers(*ORIGIN_REGISTRAR))
    assert transfer_id in [c["id"] for c in queue.json()["items"]]
    # Origin levels are reviewed in the origin province only.
    refused = await henan.client.post(
        f"/api/v1/transfers/{transfer_id}/approve", headers=henan.headers(*DEST_COUNTY)
    )
    assert refused.status_code == 403
    await act(shandong, transfer_id, "approve", ORIGIN_REGISTRAR)
    await in_state(henan, transfer_id, DEST_LEADER, "ORIGIN_SCHOOL_APPROVED")


def timeline(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            s["seq"],
            s["action"],
            s["level"],
            s["state_after"],
            s["actor_username"],
            s["opinion"],
            s["at"],
        )
        for s in case["timeline"]
    ]


async def test_saga__both_copies_reach_records_moved_with_one_timeline(
    joined: tuple[Province, Province], spans: InMemorySpanExporter
) -> None:
    henan, shandong = joined
    transfer_id, summary = await open_and_check(henan, shandong)
    await through_origin_school(henan, shandong, transfer_id)

    approved = await act(shandong, transfer_id, "approve", ORIGIN_COUNTY, opinion="同意转出")
    assert (approved["state"], approved["state_label"]) == ("ORIGIN_APPROVED", "转出地教育行政部门审核通过")
    [released] = [
        r for r in await shandong.outbox(transfer_id) if r.event_type == "transfer.transfer.approved"
    ]
    assert released.exchange == "xueji.events"
    assert data_of(released)["destination"]["school"] == HENAN_SCHOOL.school
    await in_state(henan, transfer_id, DEST_LEADER, "ORIGIN_APPROVED")
    cancel = await henan.client.post(
        f"/api/v1/transfers/{transfer_id}/cancel", headers=henan.headers(*DEST_REGISTRAR)
    )
    assert cancel.status_code == 409  # the records are moving

    # Henan's enrollment created the record from the released one.
    moved = summary.model_copy(update={"lineage": HENAN_SCHOOL})
    await henan.publish(StudentTransferredIn(student=moved, transfer_id=transfer_id, from_province="37"))

    dest = await in_state(henan, transfer_id, DEST_LEADER, "COMPLETED")
    origin = await in_state(shandong, transfer_id, ORIGIN_COUNTY, "COMPLETED")
    assert dest["state_label"] == "调档完毕"
    assert timeline(dest) == timeline(origin)
    assert [(s[1], s[2]) for s in timeline(dest)] == [
        ("apply", None),
        ("approve", "dest_school"),
        ("approve", "dest_bureau"),
        ("approve", "origin_school"),
        ("approve", "origin_bureau"),
        ("records_moved", None),
    ]
    assert [s["actor_province"] for s in dest["timeline"]] == ["41", "41", "41", "37", "37", "41"]

    steps = {
        (s.attributes or {}).get(ATTR_TRANSFER_STEP)
        for s in spans.get_finished_spans()
        if (s.attributes or {}).get(ATTR_TRANSFER_ID) == transfer_id
    }
    assert {"apply", "approve:dest_school", "approve:origin_bureau", "records_moved"} <= steps
    assert await henan.dead_letters() == 0 and await shandong.dead_letters() == 0


async def test_saga__records_arriving_before_the_origin_approval_complete_the_case_later(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, summary = await open_and_check(henan, shandong)
    await through_origin_school(henan, shandong, transfer_id)

    # The record's route (origin enrollment → destination enrollment) overtook the step's.
    moved = summary.model_copy(update={"lineage": HENAN_SCHOOL})
    event = await henan.publish(
        StudentTransferredIn(student=moved, transfer_id=transfer_id, from_province="37")
    )

    async def consumed() -> bool:
        async with henan.ctx.sessionmaker() as session:
            return await session.get(InboxMessage, ("transfer.events", event.id)) is not None

    await eventually(consumed)
    assert (await case_at(henan, transfer_id, DEST_LEADER) or {})["state"] == "ORIGIN_SCHOOL_APPROVED"

    await act(shandong, transfer_id, "approve", ORIGIN_COUNTY)
    dest = await in_state(henan, transfer_id, DEST_LEADER, "COMPLETED")
    origin = await in_state(shandong, transfer_id, ORIGIN_COUNTY, "COMPLETED")
    assert timeline(dest) == timeline(origin)
    assert await henan.dead_letters() == 0 and await shandong.dead_letters() == 0


async def test_saga__a_failed_origin_check_rejects_and_the_origin_keeps_nothing(
    joined: tuple[Province, Province],
) -> None:
    henan, shandong = joined
    transfer_id, _ = await open_and_check(henan, shandong, origin_ok=False)

    rejected = await in_state(henan, transfer_id, DEST_REGISTRAR, "REJECTED")
    assert (rejected["origin_checked"], rejected["origin_check_reasons"]) == (
        False,
        ["该生学籍状态为休学，不能转学"],
    )
    last = rejected["timeline"][-1]
    assert (last["action"], last["level"], last["actor_role"], last["actor_province"]) == (
        "reject",
        None,
        "system",
        "37",
    )

    # The origin received the rejection step and let it go: it never opened a copy.
    [step] = [r for r in await henan.outbox(transfer_id) if r.event_type == "transfer.case.step"]

    async def step_consumed() -> bool:
        async with shandong.ctx.sessionmaker() as session:
            return await session.get(InboxMessage, ("transfer.interprovince", step.id)) is not None

    await eventually(step_consumed)
    assert await case_at(shandong, transfer_id, ORIGIN_REGISTRAR) is None
    assert await shandong.dead_letters() == 0
