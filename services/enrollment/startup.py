"""What the enrollment service does once its database and bus are up."""

from __future__ import annotations

from services.enrollment.imports.worker import start_registration
from services.enrollment.overdue_reviews import start_review_sweeper
from services.enrollment.seeding import seed_org_tree
from shared.calendar_store import ensure_calendar
from shared.china_time import today_in_china
from shared.service import ServiceContext


async def on_start(ctx: ServiceContext) -> None:
    async with ctx.sessionmaker() as session:
        # Deadlines (problem records, reviews) are counted in the province's working days.
        ctx.extras["calendar"] = await ensure_calendar(session, today_in_china())
    await seed_org_tree(ctx)
    # Registration's dependencies (population registry, digest key) and the import worker.
    await start_registration(ctx)
    # Overdue review steps are flagged to the level above without anyone calling the sweep.
    start_review_sweeper(ctx)
