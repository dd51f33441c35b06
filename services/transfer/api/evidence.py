"""Evidence files for transfer steps (the student's handwritten request, a bureau's letter).

Uploaded once, referenced by id from an application or a review; the bytes stay in this
province, the reference and its SHA-256 travel with the timeline line.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import exists, select
from uuid6 import uuid7

from services.transfer import audit
from services.transfer.api.common import PROBLEMS, visible
from services.transfer.models import Evidence, TimelineEntry, TransferCase
from shared.auth import CurrentPrincipal
from shared.problems import Problem, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfers"])

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
ACCEPTED_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


class EvidenceView(BaseModel):
    evidence_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


@router.post(
    "/transfers/evidence",
    status_code=201,
    summary="Upload an evidence file (PDF, JPEG or PNG, at most 10 MB) as the request body",
    responses={**PROBLEMS, 413: {"description": "Too large"}},
)
async def upload_evidence(
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    filename: Annotated[str, Query(min_length=1, max_length=200)],
    content_type: Annotated[str, Header()],
) -> EvidenceView:
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        raise field_problem(
            "content-type", f"{media_type} is not accepted", "证明材料须为 PDF、JPEG 或 PNG 文件"
        )
    content = bytearray()
    async for chunk in request.stream():
        content.extend(chunk)
        if len(content) > MAX_EVIDENCE_BYTES:
            raise Problem(
                413, "Payload too large", detail=f"evidence is limited to {MAX_EVIDENCE_BYTES} bytes"
            )
    if not content:
        raise field_problem("body", "the file is empty", "文件为空")
    row = Evidence(
        id=str(uuid7()),
        filename=filename,
        content_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=bytes(content),
        uploaded_by=principal.username,
        uploader_org=principal.org,
    )
    async with ctx.uow() as uow:
        uow.session.add(row)
        await uow.commit()
    return EvidenceView(
        evidence_id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
    )


@router.get("/transfers/evidence/{evidence_id}", summary="Download an evidence file", responses=PROBLEMS)
async def download_evidence(evidence_id: UUID, principal: CurrentPrincipal, ctx: Context) -> Response:
    """The uploader's organisation, and everyone who sees a case whose timeline cites the file.
    Audit-logged."""
    cited = exists(
        select(TimelineEntry.id)
        .join(TransferCase, TransferCase.id == TimelineEntry.transfer_id)
        .where(visible(principal), TimelineEntry.evidence.contains([{"evidence_id": str(evidence_id)}]))
    )
    async with ctx.uow() as uow:
        row = await uow.session.scalar(
            select(Evidence).where(
                Evidence.id == str(evidence_id), (Evidence.uploader_org == principal.org) | cited
            )
        )
        if row is None:
            raise not_found(f"evidence {evidence_id}")
        # Evidence is personal data (a student's handwritten request): who opened it is logged,
        # in the same transaction, so no file leaves without its entry.
        await audit.record(
            uow.session,
            principal,
            action="evidence.downloaded",
            subject=f"evidence:{row.id}",
            detail={"sha256": row.sha256, "size": row.size},
        )
        await uow.commit()
    # RFC 6266 filename*: the name is often Chinese, and every byte but the unreserved ones is
    # percent-encoded, so a quote or semicolon in it cannot break the header.
    encoded_name = quote(row.filename, safe="")
    return Response(
        row.content,
        media_type=row.content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{encoded_name}"},
    )
