"""Flagging overdue review steps to the level above (DOMAIN.md "Enrollment": every step has a
deadline of 10 Chinese working days; overdue items are flagged to the superior).

``flag_overdue`` is the one function that does it — for the overdue list, the sweep endpoint and
the ``ReviewSweeper`` background task the service starts — and flags each step once
(``overdue_flagged_on``), so running it often or from several processes announces nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from services.enrollment.domain.approval_chain import LEVELS, ReviewLevel, superior_of
from services.enrollment.domain.negative_list import snapshot_year_due
from services.enrollment.domain.review_state import ReviewState, is_overdue
from services.enrollment.in_school_snapshots import record_due_snapshot
from services.enrollment.models.workflow import REVIEW_ORG, ReviewItem
from services.enrollment.pending_actions import flag_overdue_actions
from services.enrollment.review_items import lineage_of_item
from shared.auth import Principal, Role
from shared.events.enrollment import ReviewStepOverdue
from shared.jurisdiction import jurisdiction_filter
from shared.periodic import PeriodicTask
from shared.service import ServiceContext

log = logging.getLogger(__name__)

SWEEPER_KEY = "review_sweeper"


async def flag_overdue(
    ctx: ServiceContext, principal: Principal, levels: Sequence[ReviewLevel]
) -> list[ReviewItem]:
    """Overdue steps at ``levels`` in ``principal``'s jurisdiction, each flagged once with an
    event (``ReviewStepOverdue``, to the level above the late one), in one unit of work."""
    on = ctx.today()
    async with ctx.uow() as uow:
        rows = list(
            await uow.session.scalars(
                select(ReviewItem)
                .where(
                    jurisdiction_filter(principal, REVIEW_ORG),
                    ReviewItem.state == ReviewState.PENDING.value,
                    ReviewItem.current_level.in_(levels),
                    ReviewItem.due_on < on,
                )
                .order_by(ReviewItem.due_on, ReviewItem.id)
                # Another process sweeping at the same moment takes the rows this one skips.
                .with_for_update(skip_locked=True)
            )
        )
        for item in rows:
            if item.overdue_flagged_on is None and is_overdue(item.due_on, on):
                item.overdue_flagged_on = on
                assert item.current_level is not None
                uow.emit(
                    ReviewStepOverdue(
                        review_id=item.id,
                        business_type=item.business_type,
                        lineage=lineage_of_item(item),
                        level=item.current_level,
                        superior_level=superior_of(item.current_level),  # type: ignore[arg-type]
                        due_on=item.due_on,
                    ),
                    subject=item.id,
                )
        await uow.commit()
    return rows


def province_principal(province: str) -> Principal:
    """The service acting for itself: the whole province, as the sweep endpoint's caller would."""
    return Principal(
        account_id="system:review-sweeper",
        username="review-sweeper",
        role=Role.PROVINCE,
        org=province,
        province=province,
    )


class ReviewSweeper(PeriodicTask):
    """Runs ``flag_overdue`` over the whole province every ``review_sweep_seconds`` (± jitter),
    so a late step reaches the superior even when nobody calls the sweep endpoint; then the
    yearly in-school snapshot when it is due, and the registered hooks (overdue pending actions)."""

    name = "enrollment-review-sweeper"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, ctx.settings.review_sweep_seconds)
        self.principal = province_principal(ctx.settings.province)

    async def step(self) -> None:
        # Traced like a request: the events it emits carry this round's trace.
        flagged = await flag_overdue(self.ctx, self.principal, LEVELS)
        if flagged:
            log.info("review sweep: %d overdue step(s) in the province", len(flagged))
        await self._other_duties()

    async def _other_duties(self) -> None:
        """The other dated duties of the province's records, on the same clock: the yearly
        in-school snapshot FM8 compares, and pending actions (待办) past their deadline."""
        on = self.ctx.today()
        async with self.ctx.sessionmaker() as session:
            taken = await record_due_snapshot(session, on)
            late = await flag_overdue_actions(session, on)
            await session.commit()
        if taken:
            log.info("in-school snapshot of %d: %d school(s) recorded", snapshot_year_due(on), taken)
        if late:
            log.info("pending actions: %d past their deadline, flagged", len(late))


def start_review_sweeper(ctx: ServiceContext) -> ReviewSweeper:
    sweeper = ReviewSweeper(ctx)
    ctx.extras[SWEEPER_KEY] = sweeper
    sweeper.start()
    return sweeper
