"""审核: the caller's review queues as tabs (``?queue=``), single and batch decisions with an
opinion, overdue steps marked, and one item's record with every step.

The services decide everything: which items wait for the caller, whether a decision is still
allowed (each item of a batch is re-checked by enrollment), who may see an item. Transfers and
graduation lists are only listed here: they are decided on their own pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse

from services.console.pages import reviews_queues as queues
from services.console.paging import page_number, page_slice
from services.console.upstream import UpstreamProblem
from services.console.web import BUREAU_ROLES, Page, StaffPage
from shared.auth import Role
from shared.china_time import today_in_china

router = APIRouter(include_in_schema=False)
REVIEWER_ROLES = frozenset({Role.SCHOOL_LEADER, Role.COUNTY, Role.CITY, Role.PROVINCE})
ItemId = Annotated[str, Path(pattern=r"^[0-9A-Za-z-]{1,40}$")]


@dataclass
class Listing:
    """What one source answered: its rows, or the problem it gave instead."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problem: UpstreamProblem | None = None

    @property
    def count(self) -> int | None:
        return None if self.problem else len(self.rows)


async def _listing(page: Page, service: Any, path: str, params: dict[str, Any] | None = None) -> Listing:
    try:
        found = await page.get(service, path, params=params)
    except UpstreamProblem as problem:
        return Listing(problem=problem)
    rows = found if isinstance(found, list) else found.get("items", [])
    return Listing(rows=list(rows))


async def _enrollment_items(page: Page, state: str | None) -> Listing:
    """Every enrollment item waiting for the caller (a registrar: the school's items in
    ``state``), page by page: the tabs split them by business family."""
    rows: list[dict[str, Any]] = []
    for number in range(queues.FETCH_PAGES):
        params: dict[str, Any] = {"limit": queues.FETCH_LIMIT, "offset": number * queues.FETCH_LIMIT}
        params.update(queues.scope_params(page.scope))
        if state:
            params["state"] = state
        try:
            found = await page.get("enrollment", "/api/v1/reviews", params=params)
        except UpstreamProblem as problem:
            return Listing(problem=problem)
        rows.extend(found["items"])
        if len(rows) >= found["total"] or not found["items"]:
            break
    return Listing(rows=rows)


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

    enrollment = await _enrollment_items(page, None if reviewer else registrar_state)
    by_family = queues.split_by_family(enrollment.rows)
    transfer = await _listing(page, "transfer", "/api/v1/transfers/queue")
    graduation = await _listing(page, "certificates", "/api/v1/graduation-reviews", {"limit": 500})
    overdue = await _listing(page, "enrollment", "/api/v1/reviews/overdue") if bureau else Listing()

    counts: dict[str, int | None] = {}
    for queue in available:
        if queue.source == "enrollment":
            counts[queue.key] = None if enrollment.problem else len(by_family.get(queue.family or "", []))
        else:
            counts[queue.key] = {"transfer": transfer, "graduation": graduation, "overdue": overdue}[
                queue.source
            ].count

    if current.source == "enrollment":
        chosen = Listing(rows=list(by_family.get(current.family or "", [])), problem=enrollment.problem)
    else:
        chosen = {"transfer": transfer, "graduation": graduation, "overdue": overdue}[current.source]

    awaiting = Listing()
    if current.key == "problem_record" and bureau:
        # Cases a bureau decides on the record itself (identity confirmation, arbitration).
        awaiting = await _listing(page, "enrollment", "/api/v1/problem-records", {"awaiting_me": "true"})

    number = page_number(params.get("page"))
    return {
        "queues": available,
        "queue": current,
        "counts": counts,
        "rows": page_slice(chosen.rows, number, queues.PAGE_SIZE),
        "total": len(chosen.rows),
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
    before = await _enrollment_items(page, None)
    titles = {row["id"]: row["title"] for row in before.rows}
    answer: queues.BatchAnswer | None = None
    problem: UpstreamProblem | None = None
    if ids:
        try:
            result = await page.post(
                "enrollment",
                "/api/v1/reviews/decisions",
                json={"decision": "approve", "opinion": opinion, "item_ids": ids},
            )
            for line in result.get("items", [])[:50]:
                if line["id"] not in titles:  # left the queue meanwhile: named all the same
                    titles[line["id"]] = await _title(page, line["id"])
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
