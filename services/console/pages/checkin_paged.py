"""How the check-in screens' paged lists (leave, internships, prompts, appeals) are read and shown:
one page of the service's list for the URL's ``page``, rendered with its pager, the outcome of
the last action (``done``) and the service's problem, if any."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import HTMLResponse

from services.console.pages import checkin_labels as labels
from services.console.paging import page_number, paged
from services.console.upstream import UpstreamProblem
from services.console.web import Page


def state_filter(page: Page, allowed: Mapping[str, str]) -> str:
    """The URL's ``state`` when it is one of ``allowed``; otherwise no filter."""
    state = page.request.query_params.get("state", "")
    return state if state in allowed else ""


async def list_page(
    page: Page,
    path: str,
    query: Mapping[str, Any],
    template: str,
    context: Mapping[str, Any],
    problem: UpstreamProblem | None = None,
) -> HTMLResponse:
    current = page_number(page.request.query_params.get("page"), labels.LAST_PAGE)
    found = await page.get("checkin", path, params=paged(query, current, labels.PAGE_SIZE))
    return page.render(
        template,
        {
            "when": labels.china_time,
            "rows": found["items"],
            "total": found["total"],
            "page": current,
            "size": labels.PAGE_SIZE,
            "done": page.request.query_params.get("done", ""),
            "problem": problem,
            **context,
        },
        status_code=problem.status if problem else 200,
    )
