"""Reading the audit log (province and bureaus, within their jurisdiction) and verifying its
hash chain (province). There is no route that changes or deletes an entry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from services.enrollment import audit
from services.enrollment.models.audit import AUDIT_ORG, AuditEntry
from shared.auth import BUREAU_ROLES, CurrentPrincipal, Role, require_role
from shared.jurisdiction import jurisdiction_filter
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["audit"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "Only the province and bureaus read the audit log", **_PROBLEM},
    422: {"description": "A parameter is invalid; the body names it", **_PROBLEM},
}


class AuditView(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_name: str
    actor_role: str
    actor_org: str
    action: str
    subject_type: str
    subject_id: str
    province: str
    city: str | None
    county: str | None
    school: str | None
    detail: str
    data: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    total: int
    items: list[AuditView]


class ChainReport(BaseModel):
    checked: int
    intact: bool
    broken_at: int | None
    reason: str | None


@router.get(
    "/audit", summary="Audit entries in the caller's jurisdiction, newest first", responses=_RESPONSES
)
async def list_audit(
    principal: CurrentPrincipal,
    ctx: Context,
    action: Annotated[str | None, Query(max_length=60)] = None,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
    subject_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    require_role(principal, *BUREAU_ROLES)
    conditions = [jurisdiction_filter(principal, AUDIT_ORG)]
    for column, value in (
        (AuditEntry.action, action),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.subject_id, subject_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    if until is not None:
        conditions.append(AuditEntry.at < until)
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
        rows = await session.scalars(
            select(AuditEntry).where(*conditions).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
        )
        items = [
            AuditView(
                seq=r.seq,
                at=r.at,
                actor_id=r.actor_id,
                actor_name=r.actor_name,
                actor_role=r.actor_role,
                actor_org=r.actor_org,
                action=r.action,
                subject_type=r.subject_type,
                subject_id=r.subject_id,
                province=r.province_code,
                city=r.city_code,
                county=r.county_code,
                school=r.school_code,
                detail=r.detail,
                data=r.data,
                hash=r.hash,
            )
            for r in rows
        ]
    return AuditPage(total=total or 0, items=items)


@router.get(
    "/audit/verification",
    summary="Walk the whole hash chain and report the first break",
    responses=_RESPONSES,
)
async def verify_audit(principal: CurrentPrincipal, ctx: Context) -> ChainReport:
    require_role(principal, Role.PROVINCE)
    async with ctx.sessionmaker() as session:
        checked, found = await audit.verify_chain(session)
    return ChainReport(
        checked=checked,
        intact=found is None,
        broken_at=found.seq if found else None,
        reason=found.reason if found else None,
    )
