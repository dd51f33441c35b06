"""How the phone page's scripts hear back from the console: JSON, with a service's problem in the
reader's language (the scripts show ``title`` and each field's ``reason`` as they are)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from services.console.i18n import pick_language
from services.console.upstream import UpstreamProblem


def problem_body(problem: UpstreamProblem, chinese: bool) -> dict[str, Any]:
    """The parts of a service's problem a student reads, in one language."""
    return {
        "title": problem.title_zh if chinese else problem.title,
        "detail": problem.detail,
        "errors": [
            {"field": e.field, "reason": e.reason_zh if chinese and e.reason_zh else e.reason}
            for e in problem.errors
        ],
    }


def problem_json(request: Request, problem: UpstreamProblem) -> JSONResponse:
    chinese = pick_language(request) == "zh"
    return JSONResponse(problem_body(problem, chinese), status_code=problem.status)
