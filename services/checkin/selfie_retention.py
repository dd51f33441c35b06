"""Selfies are kept only until their face check is done plus the appeal period (ADR 0006):
accepting.py stores a selfie only when a face check needs it, deciding.py sets how long it stays
once the result is in, and this purge deletes every selfie past its ``expires_at``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import delete

from services.checkin.models import Selfie
from shared.periodic import PeriodicTask
from shared.service import ServiceContext

log = logging.getLogger(__name__)

PURGE_KEY = "selfie_purge"
PURGE_EVERY_SECONDS = 300.0


async def purge_expired_selfies(ctx: ServiceContext, now: datetime | None = None) -> int:
    """Delete the selfies whose retention has passed; returns how many."""
    async with ctx.sessionmaker() as session:
        result = await session.execute(delete(Selfie).where(Selfie.expires_at <= (now or datetime.now(UTC))))
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


class SelfiePurge(PeriodicTask):
    name = "checkin-selfie-purge"

    async def step(self) -> None:
        purged = await purge_expired_selfies(self.ctx)
        if purged:
            log.info("selfie retention: purged %d selfies", purged)


def start_selfie_purge(ctx: ServiceContext) -> SelfiePurge:
    """Starts the background task that deletes expired selfies."""
    purge = SelfiePurge(ctx, PURGE_EVERY_SECONDS)
    ctx.extras[PURGE_KEY] = purge
    purge.start()
    return purge
