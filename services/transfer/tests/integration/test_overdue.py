"""Late review steps over the real database and bus: the sweeper flags a step past its 10 working
days once to the superior office (a row and a ``transfer.step.overdue`` event), the overdue list
shows it to that office and to the late one but not to an unrelated bureau, and a step late past
the expiry ends the case EXPIRED with a system line on its timeline, told to the other province.

The case's ``pending_since`` is moved back in the database; the days are chosen with the
service's own calendar, so the test holds on any date, holidays included."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from services.transfer.domain.deadlines import has_expired, is_overdue, review_due
from services.transfer.models import OverdueFlag, TransferCase
from services.transfer.overdue import SWEEPER_KEY, OverdueSweeper, calendar, sweep
from services.transfer.tests.integration.cases import apply_from_other_province, apply_in_province, read_case
from services.transfer.tests.integration.conftest import (
    HENAN_KAIFENG_SCHOOL,
    HENAN_OTHER_SCHOOL,
    HENAN_SCHOOL,
)
from services.transfer.tests.integration.support import Province, data_of
from shared.auth import Role
from shared.bus.topology import INTERPROVINCE_OUT, interprovince_routing_key
from shared.china_time import CHINA

pytestmark = pytest.mark.integration

LATE_SCHOOL = (Role.SCHOOL_LEADER, HENAN_SCHOOL.school)
ITS_COUNTY = (Role.COUNTY, HENAN_SCHOOL.county)
ITS_CITY = (Role.CITY, HENAN_SCHOOL.city)
UNRELATED_COUNTY = (Role.COUNTY, HENAN_KAIFENG_SCHOOL.county)
OTHER_SCHOOLS_COUNTY = (Role.COUNTY, HENAN_OTHER_SCHOOL.county)


def sweeper(henan: Province) -> OverdueSweeper:
    running = henan.ctx.extras[SWEEPER_KEY]
    assert isinstance(running, OverdueSweeper) and running.running
    return running


def began_on(henan: Province, *, expired: bool) -> date:
    """The latest start whose step is overdue today (and, if ``expired``, past the expiry)."""
    cal, on = calendar(henan.ctx), henan.ctx.today()
    expiry = henan.ctx.settings.transfer_expiry_workdays
    start = on
    while True:
        start -= timedelta(days=1)
        due = review_due(start, cal).due_on
        if is_overdue(due, on) and has_expired(due, on, cal, expiry) == expired:
            return start


async def wait_since(henan: Province, transfer_id: str, start: date) -> None:
    async with henan.ctx.sessionmaker() as session:
        await session.execute(
            update(TransferCase)
            .where(TransferCase.id == transfer_id)
            .values(pending_since=datetime.combine(start, time(9, 30), CHINA))
        )
        await session.commit()


async def apply_in_city(henan: Province) -> str:
    """Henan's school moves a student to another school of its own city: waits for itself first."""
    applied = await apply_in_province(henan, HENAN_OTHER_SCHOOL)
    assert applied["pending_level"] == "origin_school"
    transfer_id: str = applied["id"]
    return transfer_id


async def apply_from_shandong(henan: Province) -> str:
    """Henan's school takes a student from Shandong: Henan's school reviews first, so Henan holds."""
    applied = await apply_from_other_province(henan, "37")
    assert applied["pending_level"] == "dest_school"
    transfer_id: str = applied["id"]
    return transfer_id


async def flags_of(henan: Province, transfer_id: str) -> list[OverdueFlag]:
    async with henan.ctx.sessionmaker() as session:
        return list(await session.scalars(select(OverdueFlag).where(OverdueFlag.transfer_id == transfer_id)))


async def overdue_events(henan: Province, transfer_id: str) -> list[dict[str, Any]]:
    return [
        data_of(row) for row in await henan.outbox(transfer_id) if row.event_type == "transfer.step.overdue"
    ]


async def overdue_list(henan: Province, who: tuple[Role, str]) -> dict[str, dict[str, Any]]:
    response = await henan.client.get("/api/v1/transfers/overdue", headers=henan.headers(*who))
    assert response.status_code == 200, response.text
    return {item["case"]["id"]: item for item in response.json()["items"]}


async def test_sweep__flags_a_late_step_once_to_the_county_and_lists_it(henan: Province) -> None:
    transfer_id = await apply_in_city(henan)
    await sweeper(henan).step()
    assert await flags_of(henan, transfer_id) == []  # in time: nothing to chase

    start = began_on(henan, expired=False)
    await wait_since(henan, transfer_id, start)
    await sweeper(henan).step()

    due = review_due(start, calendar(henan.ctx)).due_on
    [flag] = await flags_of(henan, transfer_id)
    assert (flag.level, flag.due_on, flag.superior_level, flag.superior_org) == (
        "origin_school",
        due,
        "county",
        HENAN_SCHOOL.county,
    )
    [event] = await overdue_events(henan, transfer_id)
    assert event == {
        "transfer_id": transfer_id,
        "kind": "in_province",
        "level": "origin_school",
        "due_on": due.isoformat(),
        "superior_level": "county",
        "superior_org": HENAN_SCHOOL.county,
    }

    for office in (ITS_COUNTY, LATE_SCHOOL):
        item = (await overdue_list(henan, office))[transfer_id]
        assert (item["level"], item["level_label"], item["due_on"]) == (
            "origin_school",
            "转出学校",
            due.isoformat(),
        )
        assert item["days_overdue"] == (henan.ctx.today() - due).days >= 1
        assert item["workdays_overdue"] >= 0 and item["expires_on"] > due.isoformat()
        assert item["case"]["state"] == "UNDER_REVIEW"
    # Not its superior, not its office: the city is told only of its counties' late steps.
    for office in (UNRELATED_COUNTY, OTHER_SCHOOLS_COUNTY, ITS_CITY):
        assert transfer_id not in await overdue_list(henan, office)

    await sweeper(henan).step()
    assert len(await flags_of(henan, transfer_id)) == 1
    assert len(await overdue_events(henan, transfer_id)) == 1
    assert (await read_case(henan, transfer_id))["state"] == "UNDER_REVIEW"  # late, not yet expired


async def test_sweep__two_sweepers_at_once_flag_a_step_once(henan: Province) -> None:
    transfer_id = await apply_in_city(henan)
    await wait_since(henan, transfer_id, began_on(henan, expired=False))

    reports = await asyncio.gather(sweep(henan.ctx), sweep(henan.ctx), sweep(henan.ctx))

    assert sum(report.flagged.count(transfer_id) for report in reports) == 1
    assert len(await flags_of(henan, transfer_id)) == 1
    assert len(await overdue_events(henan, transfer_id)) == 1


async def test_sweep__a_step_late_past_the_expiry_expires_the_case(henan: Province) -> None:
    transfer_id = await apply_in_city(henan)
    await wait_since(henan, transfer_id, began_on(henan, expired=True))

    await sweeper(henan).step()

    case = await read_case(henan, transfer_id)
    assert (case["state"], case["pending_level"], case["state_label"]) == ("EXPIRED", None, "已超期终止")
    last = case["timeline"][-1]
    assert (last["step_id"], last["action"], last["actor_role"], last["actor_org"]) == (
        f"{transfer_id}/expire",
        "expire",
        "system",
        "41",
    )
    assert "转出学校逾期未核办" in last["opinion"]
    # Flagged on the way (the superior hears of it even when the expiry comes first), listed no more.
    assert len(await overdue_events(henan, transfer_id)) == 1
    assert transfer_id not in await overdue_list(henan, ITS_COUNTY)
    # An ended case is left alone: no second line, no second event.
    await sweeper(henan).step()
    again = await read_case(henan, transfer_id)
    assert [s["step_id"] for s in again["timeline"]] == [s["step_id"] for s in case["timeline"]]


async def test_sweep__expiring_a_cross_province_case_tells_the_origin(henan: Province) -> None:
    transfer_id = await apply_from_shandong(henan)
    await wait_since(henan, transfer_id, began_on(henan, expired=True))

    await sweeper(henan).step()

    assert (await read_case(henan, transfer_id))["state"] == "EXPIRED"
    to_shandong = [
        row
        for row in await henan.outbox(transfer_id)
        if row.event_type == "transfer.case.step"
        and row.exchange == INTERPROVINCE_OUT
        and row.routing_key == interprovince_routing_key("37", "transfer.case.step")
    ]
    [line] = [data_of(row)["line"] for row in to_shandong if data_of(row)["line"]["action"] == "expire"]
    assert (line["step_id"], line["state_after"], line["actor"]["province"]) == (
        f"{transfer_id}/expire",
        "EXPIRED",
        "41",
    )
    [event] = await overdue_events(henan, transfer_id)
    assert (event["level"], event["superior_org"]) == ("dest_school", HENAN_SCHOOL.county)


async def test_sweep__a_case_waiting_for_the_other_province_is_not_swept_here(henan: Province) -> None:
    transfer_id = await apply_from_shandong(henan)
    # The destination's levels approved: Shandong's school reviews next, and Shandong holds.
    async with henan.ctx.sessionmaker() as session:
        await session.execute(
            update(TransferCase).where(TransferCase.id == transfer_id).values(pending_level="origin_school")
        )
        await session.commit()
    await wait_since(henan, transfer_id, began_on(henan, expired=True))

    await sweeper(henan).step()

    case = await read_case(henan, transfer_id)
    assert case["state"] == "UNDER_REVIEW"
    assert "expire" not in [s["action"] for s in case["timeline"]]
    assert await flags_of(henan, transfer_id) == []


async def test_overdue_list__needs_a_signed_in_caller(henan: Province) -> None:
    response = await henan.client.get("/api/v1/transfers/overdue")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert json.loads(response.text)["status"] == 401
