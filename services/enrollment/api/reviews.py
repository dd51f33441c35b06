"""Reviews over HTTP: evidence upload, the province's approval-chain configuration (业务流程配置),
each reviewer's queue, single and batch ("全部审核") decisions, the registrar's resubmission of a
returned item, and overdue steps flagged to the level above (DOMAIN.md "Enrollment", "Status
changes": 10 working days per level)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import undefer
from uuid6 import uuid7

from services.enrollment.api.orgs import SCHOOL_ORG
from services.enrollment.domain.approval_chain import (
    BUSINESS_FAMILIES,
    LEVELS,
    ReviewLevel,
    is_known_business_type,
    normalise_levels,
    superior_of,
)
from services.enrollment.domain.review_state import (
    ReviewAction,
    ReviewNotAllowed,
    ReviewState,
    batch_summary,
    is_overdue,
)
from services.enrollment.identity_recheck import IdentityChecks, with_identity_checks
from services.enrollment.models import School
from services.enrollment.models.changes import EVIDENCE_ORG, EvidenceFile
from services.enrollment.models.workflow import REVIEW_ORG, ApprovalChainRule, ReviewDecision, ReviewItem
from services.enrollment.overdue_reviews import flag_overdue
from services.enrollment.registering import deps_of
from services.enrollment.review_items import (
    REVIEWER_LEVEL,
    ItemSkipped,
    calendar,
    cancel,
    chain_for,
    decide,
    resubmit,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.idnumber import mask_id_number
from shared.jurisdiction import REGION_CODE_PATTERN, jurisdiction_filter, within
from shared.problems import Problem, field_problem, not_found
from shared.service import Context
from shared.telemetry import ATTR_REVIEW_ID
from shared.text import PlainText

router = APIRouter(prefix="/api/v1", tags=["reviews"])
tracer = trace.get_tracer("xueji.enrollment")

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The request cannot be read", **_PROBLEM},
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "The caller's role may not do this", **_PROBLEM},
    404: {"description": "Nothing of that id inside the caller's jurisdiction", **_PROBLEM},
    409: {"description": "The item's state does not allow this now", **_PROBLEM},
    422: {"description": "A field is invalid; the body names it", **_PROBLEM},
}

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
EVIDENCE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
_MAGIC = {"application/pdf": b"%PDF", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}


# --- evidence -----------------------------------------------------------------------------------


class EvidenceView(BaseModel):
    id: str
    sha256: str
    media_type: str
    filename: str
    size: int


@router.post("/evidence", status_code=201, summary="Upload an evidence file (佐证材料)", responses=RESPONSES)
async def upload_evidence(
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 5 MB")],
    principal: CurrentPrincipal,
    ctx: Context,
) -> EvidenceView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    content = await file.read(MAX_EVIDENCE_BYTES + 1)
    if len(content) > MAX_EVIDENCE_BYTES:
        raise field_problem("file", "larger than 5 MB", "文件超过 5 MB", status=413)
    if not content:
        raise field_problem("file", "the file is empty", "文件为空")
    media_type = next((t for t, magic in _MAGIC.items() if content.startswith(magic)), None)
    if media_type is None or media_type not in EVIDENCE_TYPES:
        raise field_problem("file", "only PDF, JPEG or PNG files", "仅支持 PDF、JPEG、PNG 文件", status=415)
    async with ctx.uow() as uow:
        school = await uow.session.get(School, principal.org)
        if school is None:
            raise not_found(f"school {principal.org}")
        row = EvidenceFile(
            id=str(uuid7()),
            province_code=school.province_code,
            city_code=school.city_code,
            county_code=school.county_code,
            school_code=school.code,
            sha256=hashlib.sha256(content).hexdigest(),
            media_type=media_type,
            filename=(file.filename or "evidence")[:200],
            size=len(content),
            content=content,
            uploaded_by=principal.username,
        )
        uow.session.add(row)
        await uow.commit()
    return EvidenceView(
        id=row.id, sha256=row.sha256, media_type=media_type, filename=row.filename, size=row.size
    )


@router.get(
    "/evidence/{evidence_id}",
    summary="Download an evidence file (the school and the bureaus above it)",
    response_class=Response,
    responses={**RESPONSES, 200: {"content": {t: {} for t in sorted(EVIDENCE_TYPES)}}},
)
async def download_evidence(
    evidence_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> Response:
    require_role(principal, Role.SCHOOL_REGISTRAR, *REVIEWER_LEVEL)
    async with ctx.sessionmaker() as session:
        row = await session.scalar(
            select(EvidenceFile)
            .options(undefer(EvidenceFile.content))
            .where(EvidenceFile.id == evidence_id, jurisdiction_filter(principal, EVIDENCE_ORG))
        )
    if row is None:
        raise not_found(f"evidence {evidence_id}")
    return Response(
        row.content,
        media_type=row.media_type,
        headers={"ETag": f'"{row.sha256}"', "X-Content-SHA256": row.sha256, "Cache-Control": "private"},
    )


# --- approval chains (业务流程配置) -------------------------------------------------------------


class ChainRuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    business_type: str = Field(
        min_length=1,
        max_length=60,
        description="registration_no_id | status_change | status_change:<type> | key_data_change | …",
    )
    school_type: str | None = Field(None, max_length=40)
    stage: str | None = Field(None, max_length=40, description="education stage, e.g. secondary_vocational")
    region: str | None = Field(None, pattern=r"^(?:[0-9]{2}|[0-9]{4}|[0-9]{6})$")
    levels: list[ReviewLevel] = Field(min_length=1, max_length=4)


class ChainRuleView(ChainRuleBody):
    id: str
    updated_by: str
    updated_at: datetime


def _rule_view(row: ApprovalChainRule) -> ChainRuleView:
    return ChainRuleView(
        id=row.id,
        business_type=row.business_type,
        school_type=row.school_type,
        stage=row.stage,
        region=row.region,
        levels=list(normalise_levels(row.levels)),  # type: ignore[arg-type]
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


@router.put("/approval-chains", summary="Configure one approval chain (province)", responses=RESPONSES)
async def put_chain_rule(body: ChainRuleBody, principal: CurrentPrincipal, ctx: Context) -> ChainRuleView:
    require_role(principal, Role.PROVINCE)
    if not is_known_business_type(body.business_type):
        raise field_problem("business_type", "unknown business type", "未知的业务类型")
    if body.region is not None and not body.region.startswith(principal.org):
        raise field_problem("region", "the region is not in your province", "该地区不属于本省")
    values = {
        "id": str(uuid7()),
        "business_type": body.business_type,
        "school_type": body.school_type,
        "stage": body.stage,
        "region": body.region,
        "levels": list(normalise_levels(body.levels)),
        "updated_by": principal.username,
    }
    statement = insert(ApprovalChainRule).values(**values)
    async with ctx.uow() as uow:
        rule_id = await uow.session.scalar(
            statement.on_conflict_do_update(
                index_elements=["business_type", "school_type", "stage", "region"],
                set_={"levels": values["levels"], "updated_by": principal.username, "updated_at": func.now()},
            ).returning(ApprovalChainRule.id)
        )
        await uow.commit()
    async with ctx.sessionmaker() as session:
        row = await session.get(ApprovalChainRule, rule_id)
    assert row is not None
    return _rule_view(row)


@router.get("/approval-chains", summary="The province's configured approval chains", responses=RESPONSES)
async def list_chain_rules(principal: CurrentPrincipal, ctx: Context) -> list[ChainRuleView]:
    require_role(principal, Role.PROVINCE, Role.CITY, Role.COUNTY)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(select(ApprovalChainRule).order_by(ApprovalChainRule.business_type))
        return [_rule_view(r) for r in rows]


@router.delete(
    "/approval-chains/{rule_id}", status_code=204, summary="Remove a configured chain", responses=RESPONSES
)
async def delete_chain_rule(
    rule_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> None:
    require_role(principal, Role.PROVINCE)
    async with ctx.uow() as uow:
        row = await uow.session.get(ApprovalChainRule, rule_id)
        if row is None:
            raise not_found(f"approval chain {rule_id}")
        await uow.session.delete(row)
        await uow.commit()


class ResolvedChain(BaseModel):
    business_type: str
    school_code: str
    levels: list[ReviewLevel]


@router.get(
    "/approval-chains/resolve", summary="The chain an item of a school would take", responses=RESPONSES
)
async def resolve_chain_for(
    principal: CurrentPrincipal,
    ctx: Context,
    business_type: Annotated[str, Query(min_length=1, max_length=60)],
    school_code: Annotated[str, Query(pattern=r"^[0-9]{10}$")],
) -> ResolvedChain:
    if not is_known_business_type(business_type):
        raise field_problem("business_type", "unknown business type", "未知的业务类型")
    async with ctx.uow() as uow:
        school = await uow.session.scalar(
            select(School).where(School.code == school_code, jurisdiction_filter(principal, SCHOOL_ORG))
        )
        if school is None:
            raise not_found(f"school {school_code}")
        levels = await chain_for(uow, business_type, school)
    return ResolvedChain(business_type=business_type, school_code=school_code, levels=list(levels))


# --- items, queues and decisions ----------------------------------------------------------------


class DecisionLine(BaseModel):
    level: str | None
    action: str
    opinion: str
    username: str
    at: datetime


class ReviewView(BaseModel):
    id: str
    business_type: str
    student_id: str | None
    title: str
    state: str
    chain: list[str]
    step: int
    current_level: str | None
    payload: dict[str, Any] = Field(description="what is reviewed; ID numbers masked")
    evidence_ids: list[str]
    submitted_by: str
    submitted_at: datetime
    due_on: date
    due_provisional: bool
    overdue: bool
    returned_reason: str | None
    school_code: str
    county_code: str
    city_code: str
    province_code: str
    decisions: list[DecisionLine] = Field(default_factory=list)


def masked_payload(value: Any, key: str = "") -> Any:
    """Every ``*id_number`` in the payload masked (DOMAIN.md: ID numbers are shown masked)."""
    if isinstance(value, dict):
        return {k: masked_payload(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_payload(v, key) for v in value]
    if isinstance(value, str) and key.endswith("id_number"):
        return mask_id_number(value)
    return value


def review_view(item: ReviewItem, on: date, decisions: list[ReviewDecision] | None = None) -> ReviewView:
    return ReviewView(
        id=item.id,
        business_type=item.business_type,
        student_id=item.student_id,
        title=item.title,
        state=item.state,
        chain=item.chain,
        step=item.step,
        current_level=item.current_level,
        payload=masked_payload(item.payload),
        evidence_ids=item.evidence_ids,
        submitted_by=item.submitted_by,
        submitted_at=item.submitted_at,
        due_on=item.due_on,
        due_provisional=item.due_provisional,
        overdue=item.state == ReviewState.PENDING and is_overdue(item.due_on, on),
        returned_reason=item.returned_reason,
        school_code=item.school_code,
        county_code=item.county_code,
        city_code=item.city_code,
        province_code=item.province_code,
        decisions=[
            DecisionLine(level=d.level, action=d.action, opinion=d.opinion, username=d.username, at=d.at)
            for d in decisions or []
        ],
    )


class ReviewList(BaseModel):
    items: list[ReviewView]
    total: int


RegionCode = Annotated[
    str | None, Query(pattern=REGION_CODE_PATTERN, description="province, city or county code")
]
SchoolCode = Annotated[str | None, Query(pattern=r"^\d{10}$", description="one school's items")]
StateFilter = Annotated[Literal["pending", "returned", "approved", "cancelled"] | None, Query()]
QueueOnly = Annotated[bool, Query(description="reviewers: only items waiting for my level")]


def _review_conditions(
    principal: Principal,
    *,
    queue: bool,
    state: str | None,
    school: str | None,
    region: str | None,
    family: str | None = None,
    business_type: str | None = None,
    student_id: str | None = None,
) -> list[Any]:
    conditions: list[Any] = [jurisdiction_filter(principal, REVIEW_ORG)]
    level = REVIEWER_LEVEL.get(principal.role)
    if level is not None and queue:
        conditions += [ReviewItem.state == ReviewState.PENDING.value, ReviewItem.current_level == level]
    if state is not None:
        conditions.append(ReviewItem.state == state)
    if family is not None:
        conditions.append(business_family == family)
    if business_type is not None:
        conditions.append(ReviewItem.business_type == business_type)
    if student_id is not None:
        conditions.append(ReviewItem.student_id == student_id)
    # Narrowing only: the jurisdiction filter above still bounds what the caller sees.
    if school is not None:
        conditions.append(ReviewItem.school_code == school)
    if region is not None:
        conditions.append(within(REVIEW_ORG, region))
    return conditions


@router.get(
    "/reviews", summary="Review items: a reviewer's queue, or a registrar's items", responses=RESPONSES
)
async def list_reviews(
    principal: CurrentPrincipal,
    ctx: Context,
    state: StateFilter = None,
    family: Annotated[
        str | None,
        Query(
            pattern=f"^({'|'.join(BUSINESS_FAMILIES)})$",
            description="a business family: status_change holds every status_change:<type>",
        ),
    ] = None,
    business_type: Annotated[str | None, Query(max_length=60)] = None,
    student_id: Annotated[str | None, Query(max_length=40, description="one student's changes")] = None,
    queue: QueueOnly = True,
    school: SchoolCode = None,
    region: RegionCode = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ReviewList:
    require_role(principal, Role.SCHOOL_REGISTRAR, *REVIEWER_LEVEL)
    conditions = _review_conditions(
        principal,
        queue=queue,
        state=state,
        school=school,
        region=region,
        family=family,
        business_type=business_type,
        student_id=student_id,
    )
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(ReviewItem).where(*conditions))
        rows = await session.scalars(
            select(ReviewItem)
            .where(*conditions)
            .order_by(ReviewItem.due_on, ReviewItem.id)
            .limit(limit)
            .offset(offset)
        )
        on = ctx.today()
        return ReviewList(items=[review_view(r, on) for r in rows], total=total or 0)


class FamilyCounts(BaseModel):
    counts: dict[str, int] = Field(description="business family → items; families with none are left out")


@router.get(
    "/reviews/families",
    summary="How many review items of each business family (the tabs of a review queue)",
    responses=RESPONSES,
)
async def count_reviews_by_family(
    principal: CurrentPrincipal,
    ctx: Context,
    state: StateFilter = None,
    queue: QueueOnly = True,
    school: SchoolCode = None,
    region: RegionCode = None,
) -> FamilyCounts:
    require_role(principal, Role.SCHOOL_REGISTRAR, *REVIEWER_LEVEL)
    conditions = _review_conditions(principal, queue=queue, state=state, school=school, region=region)
    async with ctx.sessionmaker() as session:
        rows = await session.execute(
            select(business_family, func.count()).where(*conditions).group_by(business_family)
        )
        return FamilyCounts(counts={str(family): int(count) for family, count in rows})


# "status_change:suspension" is of the family "status_change" (approval_chain.BUSINESS_FAMILIES).
business_family = func.split_part(ReviewItem.business_type, ":", 1)


def _bureau_level(principal: Principal) -> ReviewLevel:
    level = REVIEWER_LEVEL.get(principal.role)
    if level is None or level == "school":
        raise Problem(403, "Forbidden", slug="forbidden", detail="overdue steps are flagged to bureaus")
    return level


@router.get(
    "/reviews/overdue", summary="Overdue steps flagged to the caller (the level above)", responses=RESPONSES
)
async def list_overdue(principal: CurrentPrincipal, ctx: Context) -> ReviewList:
    level = _bureau_level(principal)
    rows = await flag_overdue(ctx, principal, [lv for lv in LEVELS if superior_of(lv) == level])
    on = ctx.today()
    return ReviewList(items=[review_view(r, on) for r in rows], total=len(rows))


class SweepResult(BaseModel):
    overdue: int = Field(description="overdue steps in jurisdiction; each is flagged (and announced) once")


@router.post(
    "/reviews/overdue/sweep",
    summary="Flag every overdue step now (province; the service also sweeps periodically)",
    responses=RESPONSES,
)
async def sweep_overdue(principal: CurrentPrincipal, ctx: Context) -> SweepResult:
    """On demand: the service also runs this every ``review_sweep_seconds`` by itself
    (``overdue_reviews.ReviewSweeper``), so superiors learn of a late step from the event even
    when nobody opens the overdue list."""
    require_role(principal, Role.PROVINCE)
    rows = await flag_overdue(ctx, principal, list(LEVELS))
    return SweepResult(overdue=len(rows))


async def _item_in_jurisdiction(
    ctx: Context, principal: Principal, item_id: str
) -> tuple[ReviewItem, list[ReviewDecision]]:
    async with ctx.sessionmaker() as session:
        item = await session.scalar(
            select(ReviewItem).where(ReviewItem.id == item_id, jurisdiction_filter(principal, REVIEW_ORG))
        )
        if item is None:
            raise not_found(f"review {item_id}")
        decisions = list(
            await session.scalars(
                select(ReviewDecision).where(ReviewDecision.item_id == item_id).order_by(ReviewDecision.id)
            )
        )
    return item, decisions


@router.get("/reviews/{item_id}", summary="One review item with every step", responses=RESPONSES)
async def get_review(
    item_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ReviewView:
    require_role(principal, Role.SCHOOL_REGISTRAR, *REVIEWER_LEVEL)
    item, decisions = await _item_in_jurisdiction(ctx, principal, item_id)
    return review_view(item, ctx.today(), decisions)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "reject"]
    opinion: PlainText = Field("", max_length=500, description="审核意见; required for a rejection")


def _require_opinion(body: DecisionBody) -> None:
    if body.decision == "reject" and not body.opinion:
        raise field_problem("opinion", "a rejection needs the reason", "退回时必须填写原因")


async def _locked_item(uow: UnitOfWork, principal: Principal, item_id: str) -> ReviewItem:
    """A review item inside the caller's jurisdiction, locked for the change about to be made."""
    item = await uow.session.scalar(
        select(ReviewItem)
        .where(ReviewItem.id == item_id, jurisdiction_filter(principal, REVIEW_ORG))
        .with_for_update()
    )
    if item is None:
        raise not_found(f"review {item_id}")
    return item


def _refused(exc: ReviewNotAllowed) -> Problem:
    return Problem(409, "Conflict", title_zh=exc.reason_zh, slug="review-state", detail=exc.reason)


async def _decide_one(ctx: Context, principal: Principal, item_id: str, body: DecisionBody) -> ReviewItem:
    """One item, one unit of work: the decision, the business effect and its events commit
    together. An effect that needs the population registry gets its verdict between attempts,
    never while the item and the student are locked (identity_recheck.with_identity_checks)."""

    async def attempt(checks: IdentityChecks) -> ReviewItem:
        async with ctx.uow() as uow:
            item = await _locked_item(uow, principal, item_id)
            await decide(ctx, uow, item, ReviewAction(body.decision), body.opinion, principal, checks)
            await uow.commit()
        return item

    with tracer.start_as_current_span("decide review", attributes={ATTR_REVIEW_ID: item_id}):
        return await with_identity_checks(deps_of(ctx).registry, attempt)


@router.post(
    "/reviews/{item_id}/decision", summary="Approve or reject at the caller's level", responses=RESPONSES
)
async def decide_review(
    item_id: Annotated[str, Path(max_length=40)],
    body: DecisionBody,
    principal: CurrentPrincipal,
    ctx: Context,
) -> ReviewView:
    require_role(principal, *REVIEWER_LEVEL)
    _require_opinion(body)
    try:
        await _decide_one(ctx, principal, item_id, body)
    except ItemSkipped as exc:
        raise Problem(
            exc.status,
            "Cannot decide",
            title_zh=exc.reason_zh,
            slug="review-not-decidable",
            detail=exc.reason,
        ) from None
    item, decisions = await _item_in_jurisdiction(ctx, principal, item_id)
    return review_view(item, ctx.today(), decisions)


class BatchBody(DecisionBody):
    item_ids: list[Annotated[str, Field(max_length=40)]] | None = Field(None, max_length=1000)
    all_pending: bool = Field(False, description="全部审核: every item waiting for my level")
    business_type: str | None = Field(None, max_length=60)


class BatchLine(BaseModel):
    id: str
    outcome: Literal["approved", "forwarded", "returned", "skipped"]
    reason: str | None = None


class BatchResult(BaseModel):
    done: int
    skipped: int
    summary: str = Field(description="N 条通过，M 条跳过（原因）")
    items: list[BatchLine]


@router.post("/reviews/decisions", summary="Decide many items at once (全部审核)", responses=RESPONSES)
async def decide_many(body: BatchBody, principal: CurrentPrincipal, ctx: Context) -> BatchResult:
    require_role(principal, *REVIEWER_LEVEL)
    _require_opinion(body)
    if (body.item_ids is None) == (not body.all_pending):
        raise field_problem(
            "item_ids", "give item_ids or all_pending, not both", "请指定待审核条目或选择全部审核"
        )
    ids = body.item_ids or []
    if body.all_pending:
        conditions = [
            jurisdiction_filter(principal, REVIEW_ORG),
            ReviewItem.state == ReviewState.PENDING.value,
            ReviewItem.current_level == REVIEWER_LEVEL[principal.role],
        ]
        if body.business_type:
            conditions.append(ReviewItem.business_type == body.business_type)
        async with ctx.sessionmaker() as session:
            ids = list(
                await session.scalars(
                    select(ReviewItem.id).where(*conditions).order_by(ReviewItem.id).limit(1000)
                )
            )
    lines: list[BatchLine] = []
    for item_id in dict.fromkeys(ids):  # each item once, in the order given
        try:
            item = await _decide_one(ctx, principal, item_id, body)
        except ItemSkipped as exc:
            lines.append(BatchLine(id=item_id, outcome="skipped", reason=exc.reason_zh))
        except (ReviewNotAllowed, Problem) as exc:
            reason = exc.reason_zh if isinstance(exc, ReviewNotAllowed) else exc.title_zh
            lines.append(BatchLine(id=item_id, outcome="skipped", reason=reason))
        else:
            outcome = {"approved": "approved", "pending": "forwarded", "returned": "returned"}[item.state]
            lines.append(BatchLine(id=item_id, outcome=outcome))
    skipped = [line.reason or "" for line in lines if line.outcome == "skipped"]
    done = len(lines) - len(skipped)
    verb = "通过" if body.decision == "approve" else "退回"
    return BatchResult(
        done=done, skipped=len(skipped), summary=batch_summary(done, skipped, verb=verb), items=lines
    )


class ResubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] | None = Field(None, description="the corrected request, as first submitted")
    evidence_ids: list[Annotated[str, Field(max_length=40)]] | None = Field(None, max_length=20)


@router.post(
    "/reviews/{item_id}/resubmit", summary="Edit a returned item and submit it again", responses=RESPONSES
)
async def resubmit_review(
    item_id: Annotated[str, Path(max_length=40)],
    body: ResubmitBody,
    principal: CurrentPrincipal,
    ctx: Context,
) -> ReviewView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    async with ctx.uow() as uow:
        item = await _locked_item(uow, principal, item_id)
        if body.evidence_ids is not None:
            await check_evidence(uow.session, body.evidence_ids, item.school_code)
        try:
            await resubmit(uow, item, body.payload, body.evidence_ids, principal, ctx.today(), calendar(ctx))
        except ReviewNotAllowed as exc:
            raise _refused(exc) from None
        await uow.commit()
    item, decisions = await _item_in_jurisdiction(ctx, principal, item_id)
    return review_view(item, ctx.today(), decisions)


@router.post("/reviews/{item_id}/cancel", summary="Withdraw an item not yet approved", responses=RESPONSES)
async def cancel_review(
    item_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> ReviewView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    async with ctx.uow() as uow:
        item = await _locked_item(uow, principal, item_id)
        try:
            await cancel(uow, item, principal)
        except ReviewNotAllowed as exc:
            raise _refused(exc) from None
        await uow.commit()
    item, decisions = await _item_in_jurisdiction(ctx, principal, item_id)
    return review_view(item, ctx.today(), decisions)


async def check_evidence(session: Any, evidence_ids: list[str], school_code: str) -> None:
    """Every evidence id names a file the school uploaded (never another school's)."""
    if not evidence_ids:
        raise field_problem("evidence_ids", "upload at least one evidence file", "请上传至少一份佐证材料")
    found = set(
        await session.scalars(
            select(EvidenceFile.id).where(
                EvidenceFile.id.in_(evidence_ids), EvidenceFile.school_code == school_code
            )
        )
    )
    missing = [e for e in evidence_ids if e not in found]
    if missing:
        raise field_problem("evidence_ids", f"unknown evidence {missing[0]}", "佐证材料不存在或不属于本校")
