"""Applying the retention rule: mark a template when the record ends, delete due templates."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.audit import AuditKind, record
from services.identity.domain.template_retention import is_due, template_delete_on
from services.identity.models import FaceTemplate


async def record_ended(
    session: AsyncSession, student_id: str, status: str, changed_on: date, today: date
) -> None:
    """Schedule (or cancel, when the student is back in school) the template's deletion, and
    delete it at once when the day has come."""
    delete_on = template_delete_on(status, changed_on)
    await session.execute(
        update(FaceTemplate).where(FaceTemplate.student_id == student_id).values(delete_on=delete_on)
    )
    if is_due(delete_on, today):
        await delete_due_templates(session, today, student_id=student_id)


async def delete_due_templates(session: AsyncSession, today: date, *, student_id: str | None = None) -> int:
    query = select(FaceTemplate.account_id, FaceTemplate.student_id).where(FaceTemplate.delete_on <= today)
    if student_id is not None:
        query = query.where(FaceTemplate.student_id == student_id)
    due = (await session.execute(query)).all()
    if due:
        await session.execute(delete(FaceTemplate).where(FaceTemplate.account_id.in_([a for a, _ in due])))
    # Audit rows last: their insert takes the audit chain's lock, which is best held only
    # after this transaction's row locks (a fixed order, so no deadlock with a capture).
    for account_id, sid in due:
        record(session, AuditKind.TEMPLATE_DELETED, "record_ended", account_id=account_id, student_id=sid)
    return len(due)
