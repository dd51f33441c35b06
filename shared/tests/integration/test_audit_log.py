"""The shared audit log on a real PostgreSQL: an entry carries the actor as the token said, and
once ``append_only_sql`` is applied no UPDATE, DELETE or TRUNCATE gets through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable

from shared.audit_log import AuditColumns, append_only_sql, drop_append_only_sql, record_audit
from shared.auth import Role
from shared.db import make_engine, make_sessionmaker
from shared.testing import make_principal, temporary_database

pytestmark = pytest.mark.integration


class _Base(DeclarativeBase):
    """The test's own audit table, apart from any service's."""


class _Entry(AuditColumns, _Base):
    __tablename__ = "some_audit"


@pytest.fixture
async def audit_db() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    with temporary_database() as url:
        sync = create_engine(url.replace("+asyncpg", "+psycopg"))
        try:
            _Base.metadata.create_all(sync)
            with sync.begin() as connection:
                connection.execute(text(append_only_sql("some_audit")))
        finally:
            sync.dispose()
        engine = make_engine(url, pool_size=2)
        try:
            yield make_sessionmaker(engine)
        finally:
            await engine.dispose()


async def _one_entry(sessions: async_sessionmaker[AsyncSession]) -> _Entry:
    principal = make_principal(Role.COUNTY, "410102", "41")
    async with sessions() as session, session.begin():
        await record_audit(session, _Entry, principal, "export.downloaded", "export:7", {"count": 3})
    async with sessions() as session:
        entry = await session.scalar(select(_Entry).where(_Entry.subject == "export:7"))
    assert entry is not None
    return entry


async def test_record_audit__copies_the_actor_from_the_token(
    audit_db: async_sessionmaker[AsyncSession],
) -> None:
    entry = await _one_entry(audit_db)
    assert (entry.action, entry.actor_role, entry.actor_org, entry.actor_province) == (
        "export.downloaded",
        "county",
        "410102",
        "41",
    )
    assert entry.actor_name == "41-county"
    assert entry.actor_id.startswith("acct_")
    assert entry.detail == {"count": 3}
    assert entry.at is not None


@pytest.mark.parametrize(
    "statement",
    [
        update(_Entry).values(detail={}),
        delete(_Entry),
        text("TRUNCATE some_audit"),
    ],
    ids=["update", "delete", "truncate"],
)
async def test_append_only_sql__refuses_every_change(
    audit_db: async_sessionmaker[AsyncSession], statement: Executable
) -> None:
    await _one_entry(audit_db)
    async with audit_db() as session:
        with pytest.raises(DBAPIError, match="some_audit keeps every entry"):
            await session.execute(statement)
        await session.rollback()
        assert await session.scalar(select(_Entry.detail)) == {"count": 3}


async def test_drop_append_only_sql__removes_the_function_after_the_table(
    audit_db: async_sessionmaker[AsyncSession],
) -> None:
    async with audit_db() as session, session.begin():
        await session.execute(text("DROP TABLE some_audit"))
        await session.execute(text(drop_append_only_sql("some_audit")))
        left = await session.scalar(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'some_audit_refuse_change'")
        )
    assert left == 0


@pytest.mark.parametrize("name", ["Audit", "a; DROP TABLE x", "audit log", "", "a" * 42])
def test_append_only_sql__refuses_a_name_that_is_not_a_plain_identifier(name: str) -> None:
    with pytest.raises(ValueError):
        append_only_sql(name)
    with pytest.raises(ValueError):
        drop_append_only_sql(name)
