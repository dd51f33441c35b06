"""The pool hands out a live connection after its server side went away while it sat idle
(a database restart, a failover, an idle timeout), without pinging on every checkout."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import db
from shared.db import make_engine

pytestmark = pytest.mark.integration


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


async def _terminate(db_url: str, pid: int) -> None:
    admin = await asyncpg.connect(db_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_an_idle_connection_killed_on_the_server__is_replaced_before_use(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_IF_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
    engine = make_engine(db_url, pool_size=1)
    try:
        dead = await _backend_pid(engine)
        await _terminate(db_url, dead)

        alive = await _backend_pid(engine)

        assert alive != dead
    finally:
        await engine.dispose()


async def test_a_recently_used_connection__is_not_pinged_and_a_failure_renews_the_pool(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_IF_IDLE_SECONDS", 3600.0)  # nothing counts as idle
    engine = make_engine(db_url, pool_size=1)
    try:
        dead = await _backend_pid(engine)
        await _terminate(db_url, dead)

        # Handed out unpinged: the statement meets the dead connection (no extra round trip
        # on a busy pool is the point) ...
        with pytest.raises(DBAPIError) as failed:
            await _backend_pid(engine)
        assert failed.value.connection_invalidated

        # ... and the pool replaced it: the next request works.
        assert await _backend_pid(engine) != dead
    finally:
        await engine.dispose()
