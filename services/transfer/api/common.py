"""What the transfer routes share: the problems they answer, who the caller is on a case, the
jurisdiction filter over both sides of a case, and evidence references."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.transfer.domain.transfer_process import TransitionNotAllowed
from services.transfer.models import DESTINATION_COLUMNS, ORIGIN_COLUMNS, Evidence, TransferCase
from shared.auth import Principal
from shared.events.transfer import CaseParty, EvidenceRef
from shared.jurisdiction import any_jurisdiction
from shared.problems import Problem, field_problem, not_found

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in", **_PROBLEM},
    403: {"description": "Not yours to do", **_PROBLEM},
    404: {"description": "No such case in your jurisdiction", **_PROBLEM},
    409: {"description": "The case's state does not allow it", **_PROBLEM},
    422: {"description": "A field is invalid", **_PROBLEM},
}


def actor_of(principal: Principal) -> CaseParty:
    return CaseParty(
        username=principal.username, role=principal.role.value, org=principal.org, province=principal.province
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """Either side's school, county, city or province sees a case, and so does every office above."""
    return any_jurisdiction(principal, DESTINATION_COLUMNS, ORIGIN_COLUMNS)


async def visible_case(
    session: AsyncSession, transfer_id: UUID, principal: Principal, *, lock: bool = False
) -> TransferCase:
    query = select(TransferCase).where(TransferCase.id == str(transfer_id), visible(principal))
    case = await session.scalar(query.with_for_update() if lock else query)
    if case is None:
        raise not_found(f"transfer {transfer_id}")
    return case


async def evidence_refs(
    session: AsyncSession, ids: list[str], principal: Principal
) -> tuple[EvidenceRef, ...]:
    """The caller's own uploads (their organisation's), as references for a timeline line."""
    refs = []
    for index, evidence_id in enumerate(ids):
        row = await session.get(Evidence, evidence_id)
        if row is None or row.uploader_org != principal.org:
            raise field_problem(
                f"evidence_ids[{index}]",
                f"no evidence {evidence_id} uploaded by your organisation",
                "证明材料不存在或不是本单位上传的",
            )
        refs.append(
            EvidenceRef(
                evidence_id=row.id,
                filename=row.filename,
                content_type=row.content_type,
                size=row.size,
                sha256=row.sha256,
            )
        )
    return tuple(refs)


class TransitionRefused(Problem):
    """A 409 whose reason is given in both languages, as the domain states it."""

    def __init__(self, refusal: TransitionNotAllowed) -> None:
        super().__init__(
            409,
            "Transition not allowed",
            title_zh="当前状态不允许此操作",
            detail=refusal.reason,
            slug="transition-not-allowed",
        )
        self.detail_zh = refusal.reason_zh

    def body(self, instance: str) -> dict[str, Any]:
        return {**super().body(instance), "detail_zh": self.detail_zh}
