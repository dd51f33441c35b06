"""The province's chains per kind of transfer (业务流程配置): read by anyone, set by the province.

Across provinces a province configures its own part; the other province's part is the national
flow (ADR 0011). The escalation rules (cross-city, batches of 30+) apply whatever is configured.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.transfer.api.bodies import ChainBody
from services.transfer.api.common import PROBLEMS
from services.transfer.domain.kinds import KINDS, ChainNotAllowed, chain_for, configured_part
from services.transfer.domain.review_levels import ReviewLevel
from services.transfer.models import ChainConfig
from shared.auth import CurrentPrincipal, Role, require_role
from shared.events.transfer import TransferKind
from shared.problems import field_problem
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfer chains"])


class ChainView(BaseModel):
    kind: TransferKind
    kind_label: str
    configured: list[ReviewLevel] | None
    chain: list[ReviewLevel]


def _view(kind: TransferKind, configured: list[ReviewLevel] | None) -> ChainView:
    rules = KINDS[kind]
    return ChainView(
        kind=kind, kind_label=rules.label, configured=configured, chain=list(chain_for(rules, configured))
    )


@router.get("/transfer-chains", summary="Each kind's chain as a case would get it now", responses=PROBLEMS)
async def list_chains(principal: CurrentPrincipal, ctx: Context) -> list[ChainView]:
    async with ctx.sessionmaker() as session:
        rows = {row.kind: row for row in await session.scalars(select(ChainConfig))}
    return [
        _view(kind, [ReviewLevel(v) for v in rows[kind.value].levels] if kind.value in rows else None)
        for kind in TransferKind
    ]


@router.put(
    "/transfer-chains/{kind}", summary="Configure this province's part of a kind's chain", responses=PROBLEMS
)
async def configure_chain(
    kind: TransferKind, body: ChainBody, principal: CurrentPrincipal, ctx: Context
) -> ChainView:
    require_role(principal, Role.PROVINCE)
    try:
        configured_part(KINDS[kind], body.levels)
    except ChainNotAllowed as exc:
        raise field_problem("levels", str(exc), "该流程配置不符合转学业务规则") from exc
    values = {
        "kind": kind.value,
        "levels": [level.value for level in body.levels],
        "updated_by": principal.username,
    }
    async with ctx.uow() as uow:
        await uow.session.execute(
            insert(ChainConfig)
            .values(**values)
            .on_conflict_do_update(index_elements=["kind"], set_={**values, "updated_at": datetime.now(UTC)})
        )
        await uow.commit()
    return _view(kind, list(body.levels))
