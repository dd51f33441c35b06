"""Finding cases (跨省转学查询): the cases in the caller's jurisdiction, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.transfer.api.common import PROBLEMS, visible
from services.transfer.api.views import CaseListView, case_summary
from services.transfer.domain.transfer_process import CaseState
from services.transfer.models import TransferCase
from shared.auth import CurrentPrincipal
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfers"])


@router.get("/transfers", summary="Transfers in your jurisdiction (跨省转学查询)", responses=PROBLEMS)
async def list_transfers(
    principal: CurrentPrincipal,
    ctx: Context,
    state: CaseState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseListView:
    where = [visible(principal)]
    if state is not None:
        where.append(TransferCase.state == state.value)
    query = select(TransferCase).where(*where).order_by(TransferCase.created_at.desc(), TransferCase.id)
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(TransferCase).where(*where))
        rows = await session.scalars(query.limit(limit).offset(offset))
        return CaseListView(items=[case_summary(case) for case in rows], total=total)
