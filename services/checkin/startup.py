"""What the check-in service does once its database and bus are up."""

from __future__ import annotations

from services.checkin.round_clock import start_round_clock
from services.checkin.selfie_retention import start_selfie_purge
from shared.calendar_store import ensure_calendar
from shared.china_time import today_in_china
from shared.service import ServiceContext


async def on_start(ctx: ServiceContext) -> None:
    async with ctx.sessionmaker() as session:
        # Miss prompts and appeals have deadlines in the province's working days.
        ctx.extras["calendar"] = await ensure_calendar(session, today_in_china())
    start_round_clock(ctx)
    start_selfie_purge(ctx)
