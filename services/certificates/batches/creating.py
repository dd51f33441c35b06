"""Asking for a print batch: the certificates (or, for a draft of a list not yet issued, the
listed students) of a scope and year, chosen inside the caller's jurisdiction, become the batch's
items in print order — school, class, name — so the printer's stack comes out sorted the way
schools hand certificates out.

An item names a ``certificate.id``; a draft of a list not yet issued has no certificate, and its
item names the ``graduation_entry.id`` instead (the worker looks in both tables; the two are
uuid7s and cannot collide).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.audit import record_audit
from services.certificates.batches.rules import (
    BatchRequest,
    BatchRequestRefused,
    BatchState,
    ScopeLevel,
    prints_watermark,
    scope_level,
)
from services.certificates.models import (
    CERTIFICATE_COLUMNS,
    GRADUATION_LIST_COLUMNS,
    Certificate,
    GraduationEntry,
    GraduationList,
    PrintBatch,
    PrintBatchItem,
    PrintSettings,
    StudentView,
)
from shared.auth import Principal
from shared.jurisdiction import OrgColumns, jurisdiction_filter

# A reprint's audit entry lists the numbers printed again, up to this many (a whole school's
# reprint is rare, and its batch id leads to the rest).
AUDITED_NUMBERS = 200

# Graduation lists whose students a draft prints before issue.
_LISTS_BEFORE_ISSUE = ("under_review", "approved")


def _in_scope(columns: OrgColumns, level: ScopeLevel, scope: str) -> ColumnElement[bool]:
    column = {
        "school": columns.school,
        "province": columns.province,
        "city": columns.city,
        "county": columns.county,
    }[level]
    return column == scope


def _issued_certificates(principal: Principal, request: BatchRequest) -> Select[Any]:
    level = scope_level(request.scope)
    query = (
        select(
            Certificate.id.label("item_id"),
            Certificate.school_code.label("school_code"),
            StudentView.class_id.label("class_id"),
            Certificate.name.label("name"),
            Certificate.number.label("number"),
        )
        .outerjoin(StudentView, StudentView.student_id == Certificate.student_id)
        .where(
            Certificate.status == "valid",
            Certificate.graduating_year == request.graduating_year,
            _in_scope(CERTIFICATE_COLUMNS, level, request.scope),
            jurisdiction_filter(principal, CERTIFICATE_COLUMNS),
        )
    )
    if request.certificate_ids:
        query = query.where(Certificate.id.in_(request.certificate_ids))
    return query


def _listed_not_issued(principal: Principal, request: BatchRequest) -> Select[Any]:
    level = scope_level(request.scope)
    return (
        select(
            GraduationEntry.id.label("item_id"),
            GraduationList.school_code.label("school_code"),
            StudentView.class_id.label("class_id"),
            StudentView.name.label("name"),
            literal(None).label("number"),
        )
        .join(GraduationList, GraduationList.id == GraduationEntry.list_id)
        .outerjoin(StudentView, StudentView.student_id == GraduationEntry.student_id)
        .where(
            GraduationEntry.state == "listed",
            GraduationList.state.in_(_LISTS_BEFORE_ISSUE),
            GraduationList.graduating_year == request.graduating_year,
            _in_scope(GRADUATION_LIST_COLUMNS, level, request.scope),
            jurisdiction_filter(principal, GRADUATION_LIST_COLUMNS),
        )
    )


async def current_print_settings(session: AsyncSession) -> PrintSettings:
    """The province's settings; the defaults (no offset, ID photo printed) until first saved."""
    found = await session.get(PrintSettings, 1)
    if found is None:
        found = PrintSettings(id=1, offset_x_mm=0.0, offset_y_mm=0.0, photo_mode="id_photo", updated_by="")
    return found


async def create_batch(session: AsyncSession, principal: Principal, request: BatchRequest) -> PrintBatch:
    """The batch and its items, queued for the worker; the caller commits. ``request`` has
    passed ``rules.checked_request``."""
    issued = _issued_certificates(principal, request)
    ordered = (
        union_all(issued, _listed_not_issued(principal, request)).subquery()
        if request.purpose == "draft"
        else issued.subquery()
    )
    rows = (
        await session.execute(
            select(ordered).order_by(
                ordered.c.school_code, ordered.c.class_id.nulls_last(), ordered.c.name, ordered.c.item_id
            )
        )
    ).all()
    if request.certificate_ids and len(rows) != len(request.certificate_ids):
        found = {row.item_id for row in rows}
        missing = [i for i in request.certificate_ids if i not in found]
        raise BatchRequestRefused(
            "certificate_ids",
            f"not valid certificates of this scope and year in your jurisdiction: {', '.join(missing[:5])}",
            "部分证书不存在、已作废或不在本辖区与范围内",
        )
    if not rows:
        raise BatchRequestRefused(
            "scope",
            "nothing to print for this scope and year in your jurisdiction",
            "该范围与年度下没有可打印的证书",
        )
    settings = await current_print_settings(session)
    all_issued = all(row.number is not None for row in rows)
    batch = PrintBatch(
        province=principal.province,
        scope_org=request.scope,
        graduating_year=request.graduating_year,
        purpose=request.purpose,
        reason=request.reason,
        state=BatchState.QUEUED.value,
        total=len(rows),
        done=0,
        layout={
            "offset_x_mm": settings.offset_x_mm,
            "offset_y_mm": settings.offset_y_mm,
            "photo_mode": settings.photo_mode,
            "draft": prints_watermark(request.purpose, all_issued),
        },
        requested_by=principal.account_id,
    )
    session.add(batch)
    await session.flush()
    await session.execute(
        insert(PrintBatchItem),
        [{"batch_id": batch.id, "seq": seq, "certificate_id": row.item_id} for seq, row in enumerate(rows)],
    )
    numbers = [row.number for row in rows if row.number is not None]
    detail: dict[str, Any] = {
        "purpose": request.purpose,
        "scope": request.scope,
        "year": request.graduating_year,
        "count": len(rows),
    }
    if request.purpose == "reprint":
        detail |= {"reason": request.reason, "numbers": numbers[:AUDITED_NUMBERS]}
    action = "certificate.reprinted" if request.purpose == "reprint" else "print_batch.requested"
    await record_audit(session, principal, action, batch.id, detail)
    return batch
