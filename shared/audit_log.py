"""An append-only audit log of who did what to personal data (DESIGN.md "Cross-cutting": reads
and exports of personal data are audit-logged), as the transfer and certificates services keep it.

A service's table is ``class AuditEntry(AuditColumns, Base)`` with its own ``__tablename__``;
its migration adds ``append_only_sql(table)``, so the service's own connection cannot rewrite
or remove an entry, and there is no deletion path, so the retention holds. Identity, enrollment
and check-in chain their entries by hash as well and keep logs of their own.

An entry is written in the caller's transaction, so it commits with the act it records or not
at all. ``detail`` holds masked values only, never a full ID number.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, String, func, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import Principal

_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")


class AuditColumns:
    """The columns of an audit entry. The actor is copied from the token (name and province
    too): the account may be renamed or gone by the time someone reads the log."""

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_org: Mapped[str] = mapped_column(String(10))
    actor_province: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)  # masked values only, never a full ID


async def record_audit(
    session: AsyncSession,
    model: type[AuditColumns],
    principal: Principal,
    action: str,
    subject: str,
    detail: dict[str, Any],
) -> None:
    """Write one entry of ``model``'s log in the session's transaction. An INSERT rather than an
    ORM object: nothing reads an entry back in the transaction that writes it."""
    await session.execute(
        insert(model).values(
            action=action,
            actor_id=principal.account_id,
            actor_name=principal.username,
            actor_role=principal.role.value,
            actor_org=principal.org,
            actor_province=principal.province,
            subject=subject,
            detail=detail,
        )
    )


def append_only_sql(table: str) -> str:
    """A trigger function and two triggers that refuse UPDATE, DELETE and TRUNCATE on ``table``.

    Migrations run this text: it must never change (a new form is a new function), or a fresh
    database would differ from one migrated before the change."""
    table = _plain(table)
    return f"""
CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '{table} keeps every entry: % refused', TG_OP; END $$;
CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_change();
"""


def drop_append_only_sql(table: str) -> str:
    """Undo ``append_only_sql`` after the table (and with it the triggers) is dropped."""
    return f"DROP FUNCTION {_plain(table)}_refuse_change()"


def _plain(table: str) -> str:
    # The name is spliced into SQL text: only a lowercase identifier is let through.
    if not _TABLE_NAME.fullmatch(table):
        raise ValueError(f"not a plain table name: {table!r}")
    return table
