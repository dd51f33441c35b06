"""The console process: pages for registrars, counselors and bureaus, and the student's phone
page under ``/m/``. It owns no data: every page is built from the services' APIs called with
the signed-in user's token (WEB.md)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.middleware.base import RequestResponseEndpoint

from services.console import assets, signin, tree
from services.console.i18n import Languages
from services.console.menu import current_href, menu_for
from services.console.session import Sessions, store_tokens
from services.console.settings import ConsoleSettings
from services.console.upstream import FieldReason, Upstream, UpstreamProblem
from services.console.web import SignInRequired, WrongAudience, render
from shared.auth import JwksVerifier

SERVICES = ("identity", "enrollment", "checkin", "transfer", "certificates")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# No inline scripts: every script is a file from the allow-list (assets.py). Inline styles are
# allowed because ECharts' SVG renderer writes style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
    # The same URL answers htmx with a fragment and a browser with a page: a cache (and Back)
    # must tell them apart (WEB.md).
    "Vary": "HX-Request, Cookie, Accept-Language",
}


def _area_modules() -> list[ModuleType]:
    """Every module of ``pages/`` and ``mobile/`` that declares a ``router``: an area is added by
    adding its module, without editing this file."""
    from services.console import mobile, pages

    found = []
    for package in (pages, mobile):
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            if hasattr(module, "router"):
                found.append(module)
    return found


def _same_origin(request: Request) -> bool:
    """Cookies are SameSite=Strict; this refuses a cross-site form post as well, for browsers or
    proxies that do not honour it."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].split("/", 1)[0] == host


def create_app(settings: ConsoleSettings, *, verifier: JwksVerifier | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        urls = {service: settings.service_url(service) for service in SERVICES}
        upstream = Upstream(urls, timeout=settings.upstream_timeout_seconds)
        jwks = verifier or JwksVerifier(f"{settings.identity_url}/.well-known/jwks.json", settings.province)
        app.state.upstream = upstream
        app.state.sessions = Sessions(upstream, jwks)
        app.state.settings = settings
        try:
            yield
        finally:
            await upstream.aclose()

    app = FastAPI(
        title=f"XueJi console ({settings.province})", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.languages = Languages(
        configure=lambda env: env.globals.update(menu_for=menu_for, current_href=current_href)
    )

    @app.middleware("http")
    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.method in UNSAFE_METHODS and not _same_origin(request):
            response: Response = JSONResponse(
                {"title": "Cross-site request refused", "title_zh": "拒绝跨站请求", "status": 403},
                status_code=403,
                media_type="application/problem+json",
            )
        else:
            response = await call_next(request)
        new_tokens = getattr(request.state, "new_tokens", None)
        if new_tokens is not None:
            store_tokens(response, new_tokens, secure=request.url.scheme == "https")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        target = "/m/signin" if exc.student else "/signin"
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"{target}?next={here}" if request.method == "GET" else target
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    @app.exception_handler(WrongAudience)
    async def other_part(request: Request, exc: WrongAudience) -> Response:
        return RedirectResponse("/" if exc.student_page else "/m/", status_code=303)

    @app.exception_handler(UpstreamProblem)
    async def service_said_no(request: Request, exc: UpstreamProblem) -> Response:
        template = "_problem.html" if request.headers.get("HX-Request") == "true" else "error.html"
        headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
        return render(request, template, {"problem": exc}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_form(request: Request, exc: RequestValidationError) -> Response:
        problem = UpstreamProblem(
            422,
            "Invalid field",
            "数据校验未通过",
            errors=[
                FieldReason(str(error["loc"][-1]), str(error["msg"]), str(error["msg"]))
                for error in exc.errors()
            ],
        )
        template = "_problem.html" if request.headers.get("HX-Request") == "true" else "error.html"
        return render(request, template, {"problem": problem}, status_code=422)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    app.include_router(assets.router)
    app.include_router(signin.router)
    app.include_router(tree.router)
    for module in _area_modules():
        app.include_router(module.router)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,assets")
    return app
