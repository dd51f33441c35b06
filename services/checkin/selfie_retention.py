"""Selfies are kept only until their face check is done plus the appeal period (ADR 0006):
accepting.py stores a selfie only when a face check needs it, deciding.py sets how long it stays
once the result is in, and this purge deletes every selfie past its ``expires_at``."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import delete

from services.checkin.models import Selfie
from shared.service import ServiceContext

log = logging.getLogger(__name__)

PURGE_KEY = "selfie_purge"
PURGE_EVERY_SECONDS = 300.0
STOP_POLL_SECONDS = 1.0


async def purge_expired_selfies(ctx: ServiceContext, now: datetime | None = None) -> int:
    """Delete the selfies whose retention has passed; returns how many."""
    async with ctx.sessionmaker() as session:
        result = await session.execute(delete(Selfie).where(Selfie.expires_at <= (now or datetime.now(UTC))))
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def _run(ctx: ServiceContext) -> None:
    # The service has no stop hook; its broker connection is closed at shutdown, just before the
    # database goes away (as the round clock does).
    while not ctx.amqp.is_closed:
        try:
            purged = await purge_expired_selfies(ctx)
            if purged:
                log.info("selfie retention: purged %d selfies", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("selfie retention: purge failed; trying again later")
        waited = 0.0
        while waited < PURGE_EVERY_SECONDS and not ctx.amqp.is_closed:
            await asyncio.sleep(STOP_POLL_SECONDS)
            waited += STOP_POLL_SECONDS


def start_selfie_purge(ctx: ServiceContext) -> None:
    """Starts the background task that deletes expired selfies."""
    ctx.extras[PURGE_KEY] = asyncio.create_task(_run(ctx), name="checkin-selfie-purge")
