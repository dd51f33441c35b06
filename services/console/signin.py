"""Sign-in and sign-out for both parts (the console at ``/signin``, the phone page at
``/m/signin``), and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.i18n import LANGUAGE_COOKIE, LANGUAGES
from services.console.session import REFRESH_COOKIE, Sessions, forget_tokens, store_tokens
from services.console.upstream import UpstreamProblem
from services.console.web import render

router = APIRouter(include_in_schema=False)


def local_path(candidate: str | None, default: str) -> str:
    """Only a path of this site: never another host (``//evil``, ``https://…``, ``/\\evil``)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    return candidate


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def _signin_template(student: bool) -> str:
    return "mobile/signin.html" if student else "signin.html"


async def _show(request: Request, student: bool) -> HTMLResponse:
    home = "/m/" if student else "/"
    return render(
        request, _signin_template(student), {"next": local_path(request.query_params.get("next"), home)}
    )


async def _sign_in(request: Request, username: str, password: str, next_path: str, student: bool) -> Response:
    home = "/m/" if student else "/"
    sessions: Sessions = request.app.state.sessions
    try:
        tokens = await sessions.sign_in(username, password, request.client.host if request.client else None)
    except UpstreamProblem as problem:
        context = {"next": local_path(next_path, home), "problem": problem, "username": username}
        return render(request, _signin_template(student), context, status_code=problem.status)
    response = RedirectResponse(local_path(next_path, home), status_code=303)
    store_tokens(response, tokens, secure=is_https(request))
    return response


@router.get("/signin")
async def signin_page(request: Request) -> HTMLResponse:
    return await _show(request, student=False)


@router.post("/signin")
async def signin(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    return await _sign_in(request, username, password, next_path, student=False)


@router.get("/m/signin")
async def student_signin_page(request: Request) -> HTMLResponse:
    return await _show(request, student=True)


@router.post("/m/signin")
async def student_signin(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    next_path: Annotated[str, Form(alias="next")] = "/m/",
) -> Response:
    return await _sign_in(request, username, password, next_path, student=True)


@router.post("/signout")
async def signout(request: Request) -> Response:
    student = request.query_params.get("from") == "m"
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if refresh_token:
        sessions: Sessions = request.app.state.sessions
        await sessions.revoke(refresh_token, request.client.host if request.client else None)
    response = RedirectResponse("/m/signin" if student else "/signin", status_code=303)
    forget_tokens(response)
    return response


@router.get("/lang/{language}")
async def switch_language(request: Request, language: str) -> Response:
    response = RedirectResponse(local_path(request.query_params.get("next"), "/"), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", secure=is_https(request)
        )
    return response
