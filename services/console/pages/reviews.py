"""审核: the caller's review queues as tabs (``?queue=``), single and batch decisions with an
opinion, overdue steps marked, and one item's record with every step.

The services decide everything: which items wait for the caller, whether a decision is still
allowed (each item of a batch is re-checked by enrollment), who may see an item. Transfers and
graduation lists are only listed here: they are decided on their own pages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from services.console.pages import reviews_queues as queues
from services.console.paging import page_number, page_slice, paged
from services.console.upstream import UpstreamProblem
from services.console.web import BUREAU_ROLES, Page, PathId, StaffPage
from shared.auth import Role
from shared.china_time import today_in_china

router = APIRouter(include_in_schema=False)
REVIEWER_ROLES = frozenset({Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE})
ItemId = PathId


@dataclass
class Listing:
    """What one source answered: its rows (one page of them where ``total`` is given), or the
    problem it gave instead."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problem: UpstreamProblem | None = None
    total: int | None = None  # every row the source holds, when it pages them itself

    @property
    def count(self) -> int | None:
        if self.problem:
            return None
        return len(self.rows) if self.total is None else self.total


async def _listing(page: Page, service: Any, path: str, params: dict[str, Any] | None = None) -> Listing:
    try:
        found = await page.get(service, path, params=params)
    except UpstreamProblem as problem:
        return Listing(problem=problem)
    rows = found if isinstance(found, list) else found.get("items", [])
    return Listing(rows=list(rows))


async def _nothing() -> Listing:
    return Listing()


def _enrollment_query(page: Page, state: str | None) -> dict[str, Any]:
    """What selects the caller's enrollment items: a reviewer's queue, or a registrar's school's
    items in ``state``; narrowed by the tree's scope."""
    query: dict[str, Any] = queues.scope_params(page.scope)
    if state:
        query["state"] = state
    return query


async def _family_counts(page: Page, state: str | None) -> tuple[dict[str, int], UpstreamProblem | None]:
    """Every tab's count at once: enrollment counts its items per business family."""
    try:
        found = await page.get(
            "enrollment", "/api/v1/reviews/families", params=_enrollment_query(page, state)
        )
    except UpstreamProblem as problem:
        return {}, problem
    return dict(found["counts"]), None


async def _family_page(page: Page, family: str, state: str | None, number: int) -> Listing:
    """One page of one family's items, paged by enrollment."""
    params = paged({**_enrollment_query(page, state), "family": family}, number, queues.PAGE_SIZE)
    try:
        found = await page.get("enrollment", "/api/v1/reviews", params=params)
    except UpstreamProblem as problem:
        return Listing(problem=problem)
    return Listing(rows=list(found["items"]), total=int(found["total"]))


def _role(page: Page) -> Role:
    return Role(page.viewer.principal.role)


async def _queue_context(page: Page, queue_key: str | None) -> dict[str, Any]:
    """Every tab's count and the chosen tab's rows (one page of them)."""
    role = _role(page)
    bureau = role in BUREAU_ROLES
    available = queues.queues_for(bureau)
    current = queues.queue_named(queue_key, available)
    params = page.request.query_params
    registrar_state = params.get("state") or "pending"
    if registrar_state not in ("pending", "returned", "approved", "cancelled"):
        registrar_state = "pending"
    reviewer = role in REVIEWER_ROLES

    number = page_number(params.get("page"))
    state = None if reviewer else registrar_state
    (family_counts, counts_problem), transfer, graduation, overdue = await asyncio.gather(
        _family_counts(page, state),
        _listing(page, "transfer", "/api/v1/transfers/queue", queues.node_params(page.scope)),
        _listing(
            page,
            "certificates",
            "/api/v1/graduation-reviews",
            {"limit": 500, **queues.node_params(page.scope)},
        ),
        _listing(page, "enrollment", "/api/v1/reviews/overdue") if bureau else _nothing(),
    )
    others = {"transfer": transfer, "graduation": graduation, "overdue": overdue}

    counts: dict[str, int | None] = {}
    for queue in available:
        if queue.source == "enrollment":
            counts[queue.key] = None if counts_problem else family_counts.get(queue.family or "", 0)
        else:
            counts[queue.key] = others[queue.source].count

    if current.source == "enrollment":
        chosen = await _family_page(page, current.family or "", state, number)
        rows = chosen.rows
    else:
        chosen = others[current.source]
        rows = page_slice(chosen.rows, number, queues.PAGE_SIZE)

    awaiting = Listing()
    if current.key == "problem_record" and (bureau or role is Role.SCHOOL_REGISTRAR):
        # Cases waiting on the record itself: a school's turn, a bureau's confirmation or arbitration.
        awaiting = await _listing(page, "enrollment", "/api/v1/problem-records", {"awaiting_me": "true"})

    return {
        "queues": available,
        "queue": current,
        "counts": counts,
        "rows": rows,
        "total": chosen.count or 0,
        "page": number,
        "size": queues.PAGE_SIZE,
        "problem": chosen.problem,
        "awaiting": awaiting,
        "may_decide": reviewer and current.source == "enrollment",
        "registrar_state": None if reviewer else registrar_state,
        "today": today_in_china(),
        "is_overdue": queues.is_overdue,
        "answer": None,
    }


@router.get("/reviews")
async def review_queues(page: StaffPage) -> HTMLResponse:
    context = await _queue_context(page, page.request.query_params.get("queue"))
    template = "reviews/_queue.html" if page.is_htmx else "reviews/queues.html"
    return page.render(template, context)


@router.post("/reviews/batch")
async def batch_approve(
    page: StaffPage,
    queue: Annotated[str, Form(max_length=40)],
    item_id: Annotated[list[str] | None, Form()] = None,
    opinion: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """批量通过 of the checked items. Enrollment re-checks each one and answers per item; the
    page shows that answer above the queue as it now stands."""
    ids = queues.checked_ids(item_id or [])
    titles: dict[str, str] = {}
    answer: queues.BatchAnswer | None = None
    problem: UpstreamProblem | None = None
    if ids:
        try:
            result = await page.post(
                "enrollment",
                "/api/v1/reviews/decisions",
                json={"decision": "approve", "opinion": opinion, "item_ids": ids},
            )
            named = [str(line["id"]) for line in result.get("items", [])[: queues.NAMED_IN_ANSWER]]
            titles = dict(zip(named, await asyncio.gather(*(_title(page, i) for i in named)), strict=True))
            answer = queues.batch_answer(result, titles)
        except UpstreamProblem as refused:
            problem = refused
    context = await _queue_context(page, queue)
    context.update(answer=answer, batch_problem=problem, nothing_checked=not ids)
    template = "reviews/_queue.html" if page.is_htmx else "reviews/queues.html"
    return page.render(template, context, status_code=problem.status if problem else 200)


async def _title(page: Page, item_id: str) -> str:
    try:
        return str((await _item(page, item_id))["title"])
    except UpstreamProblem:
        return item_id


async def _item(page: Page, item_id: str) -> dict[str, Any]:
    item: dict[str, Any] = await page.get("enrollment", f"/api/v1/reviews/{item_id}")
    return item


@router.post("/reviews/{item_id}/decision")
async def decide(
    page: StaffPage,
    item_id: ItemId,
    decision: Annotated[Literal["approve", "reject"], Form()],
    opinion: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    """One item approved or rejected with its opinion; the row (or the record page's decision
    box) shows the outcome, or the service's reason in place."""
    problem: UpstreamProblem | None = None
    try:
        item = await page.post(
            "enrollment",
            f"/api/v1/reviews/{item_id}/decision",
            json={"decision": decision, "opinion": opinion},
        )
        decided: str | None = decision
    except UpstreamProblem as refused:
        if refused.status not in (409, 422):
            raise
        problem, decided = refused, None
        item = await _item(page, item_id)
    context = {
        "row": item,
        "may_decide": True,
        "decided": decided,
        "problem": problem,
        "opinion": opinion,
        "today": today_in_china(),
        "is_overdue": queues.is_overdue,
    }
    status = problem.status if problem else 200
    if page.is_htmx:
        return page.render("reviews/_row.html", context, status_code=status)
    return page.render("reviews/item.html", {**context, "item": item}, status_code=status)


@router.get("/reviews/{item_id}")
async def review_item(page: StaffPage, item_id: ItemId) -> HTMLResponse:
    item = await _item(page, item_id)
    mine = _role(page) in REVIEWER_ROLES and item["state"] == "pending"
    return page.render(
        "reviews/item.html",
        {
            "item": item,
            "row": item,
            "may_decide": mine,
            "decided": None,
            "problem": None,
            "opinion": "",
            "today": today_in_china(),
            "is_overdue": queues.is_overdue,
        },
    )
