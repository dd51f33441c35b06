"""Reading the provinces' databases directly: what each enrollment, transfer and read model holds
about a set of students and cases, one query per database whatever the number of cases. The
bench polls with these (a request per case every 50 ms would measure our own polling) and the
chaos test reconciles with them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from deploy.local.layout import Deployment


def dsn(deployment: Deployment, province: str, service: str) -> str:
    return deployment.database_url(province, service).replace("postgresql+asyncpg", "postgresql")


@dataclass
class Databases:
    """One small pool per (province, service) database the readers touch."""

    pools: dict[tuple[str, str], asyncpg.Pool]

    async def student_statuses(self, province: str, student_ids: Iterable[str]) -> dict[str, str]:
        rows = await self.pools[(province, "enrollment")].fetch(
            "SELECT id, status FROM student WHERE id = ANY($1::text[])", list(student_ids)
        )
        return {row["id"]: row["status"] for row in rows}

    async def view_statuses(self, province: str, service: str, student_ids: Iterable[str]) -> dict[str, str]:
        rows = await self.pools[(province, service)].fetch(
            "SELECT student_id, status FROM student_view WHERE student_id = ANY($1::text[])",
            list(student_ids),
        )
        return {row["student_id"]: row["status"] for row in rows}

    async def case_states(self, province: str, transfer_ids: Iterable[str]) -> dict[str, str]:
        rows = await self.pools[(province, "transfer")].fetch(
            "SELECT id, state FROM transfer_case WHERE id = ANY($1::text[])", list(transfer_ids)
        )
        return {row["id"]: row["state"] for row in rows}

    async def timelines(self, province: str, transfer_ids: Iterable[str]) -> dict[str, list[str]]:
        rows = await self.pools[(province, "transfer")].fetch(
            "SELECT transfer_id, step_id FROM transfer_timeline WHERE transfer_id = ANY($1::text[]) "
            "ORDER BY transfer_id, seq",
            list(transfer_ids),
        )
        steps: dict[str, list[str]] = {}
        for row in rows:
            steps.setdefault(row["transfer_id"], []).append(row["step_id"])
        return steps

    async def outbox_backlog(self, province: str, service: str) -> tuple[int, float | None]:
        """(events not yet published, age in seconds of the oldest of them)."""
        row = await self.pools[(province, service)].fetchrow(
            "SELECT count(*) AS waiting, extract(epoch FROM now() - min(created_at)) AS oldest "
            "FROM outbox_message WHERE published_at IS NULL"
        )
        assert row is not None
        oldest = row["oldest"]
        return int(row["waiting"]), None if oldest is None else float(oldest)

    async def parked_lines(self, province: str) -> int:
        """Partner lines the transfer copies here could not take yet (parked, offered again later)."""
        count = await self.pools[(province, "transfer")].fetchval(
            "SELECT count(*) FROM transfer_parked_message"
        )
        return int(count)

    async def active_students(self, province: str, student_ids: Iterable[str]) -> set[str]:
        """Students whose record here is live: anything but released to another province."""
        rows = await self.pools[(province, "enrollment")].fetch(
            "SELECT id FROM student WHERE id = ANY($1::text[]) AND status <> 'transferred_out'",
            list(student_ids),
        )
        return {row["id"] for row in rows}


@asynccontextmanager
async def open_databases(
    deployment: Deployment, services: tuple[str, ...] = ("enrollment", "transfer", "checkin", "certificates")
) -> AsyncIterator[Databases]:
    pools: dict[tuple[str, str], asyncpg.Pool] = {}
    try:
        for province in deployment.provinces:
            for service in services:
                pools[(province, service)] = await asyncpg.create_pool(
                    dsn(deployment, province, service), min_size=1, max_size=2
                )
        yield Databases(pools)
    finally:
        for pool in pools.values():
            await pool.close()
