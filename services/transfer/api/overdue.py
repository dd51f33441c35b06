"""The overdue review steps an office must chase (超期未核办): a bureau sees the late steps of the
offices below it (a county its schools', a city its counties', the province its cities'), and
the late office sees its own. Only steps still waiting: a decided or ended case drops out."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, false, or_, select

from services.transfer.api.common import PROBLEMS
from services.transfer.api.views import CaseSummaryView, case_summary
from services.transfer.domain.deadlines import expires_on, workdays_overdue
from services.transfer.domain.review_levels import LEVEL_LABELS, ReviewLevel, Side, roles_for
from services.transfer.domain.transfer_process import CaseState
from services.transfer.models import DESTINATION_COLUMNS, ORIGIN_COLUMNS, OverdueFlag, TransferCase
from services.transfer.overdue import calendar
from shared.auth import CurrentPrincipal, Principal, Role
from shared.jurisdiction import jurisdiction_level
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfers"])


class OverdueStepView(BaseModel):
    case: CaseSummaryView
    level: ReviewLevel
    level_label: str = Field(description="the late office, e.g. 转入学校")
    due_on: date = Field(description="the last of its 10 working days")
    days_overdue: int = Field(description="calendar days since the due date (1 the day after it)")
    workdays_overdue: int = Field(description="working days since the due date (0 over a weekend)")
    expires_on: date | None = Field(
        description="after this day the case expires (XUEJI_TRANSFER_EXPIRY_WORKDAYS); null: never"
    )
    flagged_at: datetime
    superior_level: str = Field(description="county | city | province | ministry")
    superior_org: str | None


class OverdueListView(BaseModel):
    items: list[OverdueStepView]


def _chased_by(principal: Principal, province: str) -> ColumnElement[bool]:
    """Flags the caller's office chases: as the superior, or as the late office itself."""
    if principal.province != province and principal.role is not Role.MINISTRY:
        return false()
    rank = jurisdiction_level(principal)
    as_superior = and_(
        OverdueFlag.superior_level == rank,
        OverdueFlag.superior_org.is_(None)
        if rank == "ministry"
        else OverdueFlag.superior_org == principal.org,
    )
    own = []
    for level in ReviewLevel:
        if principal.role not in roles_for(level):
            continue
        columns = ORIGIN_COLUMNS if level.side is Side.ORIGIN else DESTINATION_COLUMNS
        own.append(and_(OverdueFlag.level == level.value, getattr(columns, level.org_level) == principal.org))
    return or_(as_superior, *own)


@router.get(
    "/transfers/overdue",
    summary="Review steps past their 10 working days that your office must chase (超期未核办)",
    responses=PROBLEMS,
)
async def overdue_steps(principal: CurrentPrincipal, ctx: Context) -> OverdueListView:
    here = ctx.settings.province
    query = (
        select(OverdueFlag, TransferCase)
        .join(TransferCase, TransferCase.id == OverdueFlag.transfer_id)
        .where(
            TransferCase.state == CaseState.UNDER_REVIEW.value,
            TransferCase.pending_level == OverdueFlag.level,
            _chased_by(principal, here),
        )
        .order_by(OverdueFlag.due_on, OverdueFlag.transfer_id)
        .limit(500)
    )
    on, cal = ctx.today(), calendar(ctx)
    expiry = ctx.settings.transfer_expiry_workdays
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(query)).all()
        items = [
            OverdueStepView(
                case=case_summary(case),
                level=ReviewLevel(flag.level),
                level_label=LEVEL_LABELS[ReviewLevel(flag.level)],
                due_on=flag.due_on,
                days_overdue=(on - flag.due_on).days,
                workdays_overdue=workdays_overdue(flag.due_on, on, cal),
                expires_on=expires_on(flag.due_on, cal, expiry),
                flagged_at=flag.flagged_at,
                superior_level=flag.superior_level,
                superior_org=flag.superior_org,
            )
            for flag, case in rows
        ]
    return OverdueListView(items=items)
