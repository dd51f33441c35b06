"""The review sweeper the service starts (overdue_reviews.ReviewSweeper): a step past its
deadline is flagged to the level above without anyone calling the sweep endpoint, and only once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.enrollment.models.workflow import ReviewItem
from services.enrollment.overdue_reviews import SWEEPER_KEY, ReviewSweeper
from services.enrollment.tests.integration.conftest import Province, envelope_of
from services.enrollment.tests.integration.test_workflow_api import _evidence, pinned_today
from shared.auth import Role
from shared.testing import eventually

OVERDUE = "enrollment.review.overdue"


@pytest.fixture
async def quick_sweeper(p37: Province) -> AsyncIterator[ReviewSweeper]:
    """The sweeper started at service start, restarted with a short interval for the test."""
    sweeper = p37.ctx.extras[SWEEPER_KEY]
    assert isinstance(sweeper, ReviewSweeper)
    interval = sweeper.interval
    await sweeper.stop()
    sweeper.interval = 0.05
    sweeper.start()
    try:
        yield sweeper
    finally:
        await sweeper.stop()
        sweeper.interval = interval
        sweeper.start()


async def _flagged_on(p: Province, item_id: str) -> date | None:
    async with p.ctx.sessionmaker() as session:
        return await session.scalar(select(ReviewItem.overdue_flagged_on).where(ReviewItem.id == item_id))


async def test_sweeper__flags_a_step_past_its_deadline_once_by_itself(
    p37: Province, quick_sweeper: ReviewSweeper
) -> None:
    student = await p37.register()
    item = (
        await p37.client.post(
            f"/api/v1/students/{student['id']}/status-changes",
            json={"type": "withdraw", "reason": "本人申请退学", "evidence_ids": [await _evidence(p37)]},
            headers=p37.auth(Role.SCHOOL_REGISTRAR),
        )
    ).json()
    due = date.fromisoformat(item["due_on"])
    with pinned_today(p37, due):  # the deadline day itself is still in time
        rounds = quick_sweeper.steps_done
        await eventually(lambda: _at_least(quick_sweeper, rounds + 2))
        assert await _flagged_on(p37, item["id"]) is None
    late = due + timedelta(days=1)
    with pinned_today(p37, late):
        flagged = await eventually(lambda: _flagged_on(p37, item["id"]))
        assert flagged == late
        rounds = quick_sweeper.steps_done
        await eventually(lambda: _at_least(quick_sweeper, rounds + 2))
    events = await p37.outbox_about(OVERDUE, item["id"])
    assert len(events) == 1 and envelope_of(events[0]).data["superior_level"] == "county"


async def _at_least(sweeper: ReviewSweeper, rounds: int) -> bool:
    return sweeper.steps_done >= rounds


async def test_sweeper__started_with_the_service_at_the_configured_interval(p37: Province) -> None:
    sweeper = p37.ctx.extras[SWEEPER_KEY]
    assert isinstance(sweeper, ReviewSweeper)
    assert sweeper.interval == p37.ctx.settings.review_sweep_seconds == 600
    # The first round runs at start, not one interval (ten minutes) later.
    await eventually(lambda: _at_least(sweeper, 1))
    assert sweeper.running
