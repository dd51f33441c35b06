"""RFC 9457 problem details: every error a client sees names the field and the reason, in Chinese
and English, with ``application/problem+json``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Chinese reasons for the validation errors pydantic reports most often.
_ZH_REASONS = {
    "missing": "缺少必填字段",
    "string_pattern_mismatch": "格式不正确",
    "string_too_short": "长度太短",
    "string_too_long": "长度太长",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "uuid_parsing": "应为 UUID",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "json_invalid": "不是合法的 JSON",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值不正确",
}

_TITLES_ZH = {
    400: "请求有误",
    401: "未登录或登录已失效",
    403: "无权操作",
    404: "未找到",
    405: "不支持的方法",
    409: "状态冲突",
    415: "不支持的内容类型",
    422: "数据校验未通过",
    429: "请求过于频繁",
    503: "服务暂不可用",
}


@dataclass(frozen=True)
class FieldIssue:
    field: str
    reason: str
    reason_zh: str


class Problem(Exception):
    """Raise anywhere on a request path; the handler renders it as problem details."""

    def __init__(
        self,
        status: int,
        title: str,
        *,
        title_zh: str | None = None,
        detail: str | None = None,
        slug: str | None = None,
        errors: list[FieldIssue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.title_zh = title_zh or _TITLES_ZH.get(status, title)
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors = errors or []
        self.headers = headers

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:xueji:problem:{self.slug}",
            "title": self.title,
            "title_zh": self.title_zh,
            "status": self.status,
            "instance": instance,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = [e.__dict__ for e in self.errors]
        return body


def field_problem(field: str, reason: str, reason_zh: str, *, status: int = 422) -> Problem:
    return Problem(
        status,
        "Invalid field",
        slug="invalid-field",
        detail=f"{field}: {reason}",
        errors=[FieldIssue(field, reason, reason_zh)],
    )


def not_found(what: str) -> Problem:
    return Problem(
        404, "Not found", slug="not-found", detail=f"{what} does not exist or is outside your jurisdiction"
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", slug="forbidden", detail=detail)


def conflict(detail: str, *, slug: str = "conflict") -> Problem:
    return Problem(409, "Conflict", slug=slug, detail=detail)


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "Unauthorized", slug="unauthorized", detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def _render(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body(request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return _render(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        issues = [
            FieldIssue(
                field=".".join(str(p) for p in err.get("loc", ())) or "(body)",
                reason=str(err.get("msg", "invalid")),
                reason_zh=_ZH_REASONS.get(str(err.get("type")), "取值不正确"),
            )
            for err in exc.errors()
        ]
        detail = "; ".join(f"{i.field}: {i.reason}" for i in issues)
        return _render(
            request, Problem(422, "Validation failed", slug="validation", detail=detail, errors=issues)
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}.get(
            exc.status_code, "Error"
        )
        return _render(
            request,
            Problem(
                exc.status_code,
                title,
                detail=str(exc.detail),
                headers=dict(exc.headers) if exc.headers else None,
            ),
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return _render(request, Problem(500, "Internal error", title_zh="服务器内部错误", slug="internal"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
