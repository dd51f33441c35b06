"""The dual-post (双岗) export flow, written once for every service that exports personal data:
a user asks for a filtered list with a reason → a second user of the same school or bureau
approves → the requester downloads it once, within the window (rules: shared/dual_post.py).

A service brings its export-request table (the columns of ``ExportRequestColumns``, plus an id
and any of its own), how a request's body and filter are read, how many rows a stored filter
selects, how the workbook is built from the stored filter and the downloader's jurisdiction, and
its audit call; ``DualPostExports.router()`` gives the routes:

    POST {prefix}                      ask (201)
    GET  {prefix}?view=mine|to_approve  the school's or bureau's requests, newest first
    GET  {prefix}/{id}                 one request
    POST {prefix}/{id}/approval        a second user approves
    GET  {prefix}/{id}/download        the requester downloads, once

The workbook is built at download, not at request: it holds what the filter selects then, inside
the requester's jurisdiction then, so a moved or withdrawn office loses what it no longer sees.

No ``from __future__ import annotations`` here on purpose: the routes are made inside
``router()`` and their annotations name the service's types, which FastAPI must see as objects.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy import DateTime, Integer, String, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.dual_post import DOWNLOAD_WINDOW, Account, ExportState, export_state, may_approve_export
from shared.problems import Problem, conflict, field_problem, forbidden, not_found
from shared.service import Context
from shared.telemetry import ATTR_EXPORT_ID
from shared.xlsx import XLSX_MEDIA_TYPE

EXPORT_ROLES = (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE)
LIST_LIMIT = 200

tracer = trace.get_tracer("xueji.exports")

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "Not a user who may request, approve or download this", **_PROBLEM},
    404: {"description": "No such export of the caller's school or bureau", **_PROBLEM},
    409: {"description": "Not approved yet, already downloaded, or expired", **_PROBLEM},
    422: {"description": "A field is invalid; the body names it", **_PROBLEM},
}


class ExportRequestColumns:
    """The columns the flow reads and writes; a service's table adds ``id`` and its own.

    ``requester_role`` is kept because the rule compares school with bureau accounts, and the
    requester's token is gone by the time someone approves."""

    requested_by: Mapped[str] = mapped_column(String(100), index=True)
    requester_name: Mapped[str] = mapped_column(String(100))
    requester_role: Mapped[str] = mapped_column(String(30))
    org: Mapped[str] = mapped_column(String(10), index=True)  # the school or bureau it belongs to
    province: Mapped[str] = mapped_column(String(2))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(String(200))
    count_at_request: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    downloaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class NewExport:
    """A request as the service read it from the HTTP request."""

    filters: dict[str, Any]  # the stored form: read again at download, so it must say everything
    reason: str
    columns: dict[str, Any] = field(default_factory=dict)  # the service's own (check-in: round, kind)


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    rows: int


@dataclass(frozen=True)
class ExportStep:
    """One audited step: ``export.requested``, ``export.approved`` or ``export.downloaded``."""

    action: str
    request: Any  # the service's export-request row
    rows: int  # at request: the count then; at download: the rows in the file


@dataclass(frozen=True)
class ListNoun:
    """What the list holds, for the too-many problem: ("cases", "转学申请", "条")."""

    noun: str
    noun_zh: str
    unit_zh: str


class ExportView(BaseModel):
    id: str
    state: ExportState
    requested_by: str
    requester_name: str
    org: str
    filters: dict[str, Any]
    reason: str
    count_at_request: int
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    downloaded_at: datetime | None
    download_until: datetime | None


def account_of(principal: Principal) -> Account:
    return Account(principal.account_id, principal.org, principal.province, principal.role in SCHOOL_ROLES)


def requester_of(row: Any) -> Account:
    return Account(row.requested_by, row.org, row.province, Role(row.requester_role) in SCHOOL_ROLES)


def state_of(row: Any, now: datetime) -> ExportState:
    return export_state(approved_at=row.approved_at, downloaded_at=row.downloaded_at, now=now)


def view_fields(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "state": state_of(row, now),
        "requested_by": row.requested_by,
        "requester_name": row.requester_name,
        "org": row.org,
        "filters": row.filters,
        "reason": row.reason,
        "count_at_request": row.count_at_request,
        "requested_at": row.requested_at,
        "approved_by": row.approved_by,
        "approved_at": row.approved_at,
        "downloaded_at": row.downloaded_at,
        "download_until": row.approved_at + DOWNLOAD_WINDOW if row.approved_at else None,
    }


def dual_post_refused(reason: str) -> Problem:
    return Problem(
        403, "Forbidden", title_zh="须由同单位的另一名用户审批（双岗）", slug="dual-post", detail=reason
    )


ExportIdParam = Annotated[str, Path(min_length=1, max_length=40)]
Counter = Callable[[AsyncSession, Principal, NewExport], Awaitable[int]]
Builder = Callable[[AsyncSession, Principal, Any, datetime], Awaitable[ExportFile]]
Auditor = Callable[[AsyncSession, Principal, ExportStep], Awaitable[None]]


@dataclass
class DualPostExports:
    """One service's exports under dual post. Not frozen: a test lowers ``max_rows``."""

    model: type[Any]  # the export-request table: ExportRequestColumns' columns and an ``id``
    prefix: str  # e.g. "/api/v1/transfers/exports"
    tag: str
    asked: Callable[..., Any]  # a FastAPI dependency giving a NewExport (body, query, ...)
    count: Counter  # rows the filter selects in the caller's jurisdiction
    build: Builder  # the workbook, from the stored filter and the downloader's jurisdiction
    audit: Auditor  # written in the step's transaction
    noun: ListNoun
    max_rows: int
    roles: tuple[Role, ...] = EXPORT_ROLES
    parse_id: Callable[[str], Any] = str  # the path's id as the table's key (raise ValueError)
    view_type: type[ExportView] = ExportView
    view_extra: Callable[[Any], dict[str, Any]] = lambda _row: {}

    def view(self, row: Any, now: datetime | None = None) -> ExportView:
        return self.view_type.model_validate(
            {**view_fields(row, now or datetime.now(UTC)), **self.view_extra(row)}
        )

    def key(self, raw: str) -> Any:
        try:
            return self.parse_id(raw)
        except ValueError as exc:
            raise field_problem("export_id", "is not an export id", "导出申请编号不正确") from exc

    async def of_my_org(self, session: AsyncSession, raw_id: str, principal: Principal) -> Any:
        row = await session.get(self.model, self.key(raw_id))
        # Another office's request is as absent as a missing one: its existence is not shown.
        if row is None or (row.org, row.province) != (principal.org, principal.province):
            raise not_found(f"export {raw_id}")
        return row

    async def request(self, asked: NewExport, principal: Principal, session: AsyncSession) -> Any:
        """Adds the request and its audit entry to ``session``; the caller commits."""
        require_role(principal, *self.roles)
        count = await self.count(session, principal, asked)
        if count > self.max_rows:
            n = self.noun
            raise field_problem(
                "filters",
                f"the list has {count} {n.noun}, more than {self.max_rows} for one workbook: "
                "narrow the filter",
                f"符合条件的{n.noun_zh} {count} {n.unit_zh}，超过单个文件上限 {self.max_rows} {n.unit_zh}，"
                "请缩小查询范围",
            )
        row = self.model(
            requested_by=principal.account_id,
            requester_name=principal.username,
            requester_role=principal.role.value,
            org=principal.org,
            province=principal.province,
            filters=asked.filters,
            reason=asked.reason,
            count_at_request=count,
            requested_at=datetime.now(UTC),
            **asked.columns,
        )
        session.add(row)
        await session.flush()  # the id, if the table makes it, for the audit entry
        await self.audit(session, principal, ExportStep("export.requested", row, count))
        return row

    async def approve(self, raw_id: str, principal: Principal, session: AsyncSession) -> Any:
        require_role(principal, *self.roles)
        requested = await self.of_my_org(session, raw_id, principal)
        refusal = may_approve_export(requester_of(requested), account_of(principal))
        if refusal is not None:
            raise dual_post_refused(refusal)
        # Only a pending request moves; a concurrent second approval finds nothing to update.
        approved = await session.scalar(
            update(self.model)
            .where(self.model.id == requested.id, self.model.approved_at.is_(None))
            .values(approved_by=principal.account_id, approved_at=datetime.now(UTC))
            .returning(self.model)
            .execution_options(populate_existing=True)
        )
        if approved is None:
            raise conflict("the export is already approved", slug="export-state")
        await self.audit(
            session, principal, ExportStep("export.approved", approved, approved.count_at_request)
        )
        return approved

    async def download(self, raw_id: str, principal: Principal, session: AsyncSession) -> ExportFile:
        require_role(principal, *self.roles)
        requested = await self.of_my_org(session, raw_id, principal)
        if requested.requested_by != principal.account_id:
            raise forbidden("only the user who requested the export may download it")
        now = datetime.now(UTC)
        state = state_of(requested, now)
        if state is not ExportState.APPROVED:
            raise conflict(
                f"the export is {state.value}: it can be downloaded once, after approval, within 24 hours",
                slug="export-state",
            )
        with tracer.start_as_current_span(
            f"export {self.noun.noun}", attributes={ATTR_EXPORT_ID: str(requested.id)}
        ):
            # Claim the single download first: two concurrent downloads cannot both get the file,
            # and a failed build rolls the claim back with everything else.
            claimed = await session.scalar(
                update(self.model)
                .where(self.model.id == requested.id, self.model.downloaded_at.is_(None))
                .values(downloaded_at=now)
                .returning(self.model.id)
            )
            if claimed is None:
                raise conflict("the export was already downloaded", slug="export-state")
            made = await self.build(session, principal, requested, now)
            await self.audit(session, principal, ExportStep("export.downloaded", requested, made.rows))
        return made

    def router(self) -> APIRouter:
        router = APIRouter(prefix=self.prefix, tags=[self.tag])
        flow = self
        asked_dependency = Depends(self.asked)

        @router.post(
            "",
            status_code=201,
            response_model=self.view_type,
            summary="Ask for an xlsx of a filtered list (双岗: a second user of your office approves)",
            responses=RESPONSES,
        )
        async def request_export(
            asked: Annotated[NewExport, asked_dependency], principal: CurrentPrincipal, ctx: Context
        ) -> ExportView:
            async with ctx.uow() as uow:
                row = await flow.request(asked, principal, uow.session)
                await uow.commit()
            return flow.view(row)

        @router.get(
            "",
            response_model=list[self.view_type],  # type: ignore[name-defined]
            summary="Export requests of your school or bureau: yours, or those waiting for you",
            responses=RESPONSES,
        )
        async def list_exports(
            principal: CurrentPrincipal,
            ctx: Context,
            view: Annotated[
                Literal["all", "mine", "to_approve"],
                Query(description="mine: asked by you; to_approve: pending, asked by someone else"),
            ] = "all",
        ) -> list[ExportView]:
            require_role(principal, *flow.roles)
            model = flow.model
            query = select(model).where(model.org == principal.org, model.province == principal.province)
            if view == "mine":
                query = query.where(model.requested_by == principal.account_id)
            elif view == "to_approve":
                query = query.where(model.requested_by != principal.account_id, model.approved_at.is_(None))
            async with ctx.sessionmaker() as session:
                rows = list(
                    await session.scalars(
                        query.order_by(model.requested_at.desc(), model.id.desc()).limit(LIST_LIMIT)
                    )
                )
            if view == "to_approve":
                me = account_of(principal)
                rows = [row for row in rows if may_approve_export(requester_of(row), me) is None]
            now = datetime.now(UTC)
            return [flow.view(row, now) for row in rows]

        @router.get(
            "/{export_id}", response_model=self.view_type, summary="One export request", responses=RESPONSES
        )
        async def get_export(
            export_id: ExportIdParam, principal: CurrentPrincipal, ctx: Context
        ) -> ExportView:
            require_role(principal, *flow.roles)
            async with ctx.sessionmaker() as session:
                return flow.view(await flow.of_my_org(session, export_id, principal))

        @router.post(
            "/{export_id}/approval",
            response_model=self.view_type,
            summary="A second user of the same school or bureau approves the export",
            responses=RESPONSES,
        )
        async def approve_export(
            export_id: ExportIdParam, principal: CurrentPrincipal, ctx: Context
        ) -> ExportView:
            async with ctx.uow() as uow:
                approved = await flow.approve(export_id, principal, uow.session)
                await uow.commit()
            return flow.view(approved)

        @router.get(
            "/{export_id}/download",
            summary="The requester downloads the approved workbook, once, within 24 hours",
            response_class=Response,
            responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}, **RESPONSES},
        )
        async def download_export(
            export_id: ExportIdParam, principal: CurrentPrincipal, ctx: Context
        ) -> Response:
            async with ctx.uow() as uow:
                made = await flow.download(export_id, principal, uow.session)
                await uow.commit()
            return Response(
                made.content,
                media_type=XLSX_MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
            )

        return router
