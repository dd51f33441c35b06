"""Activation on the phone (/m/activate): real-name check → the code sent to the phone →
password and the device key.

The device key is made in the browser (WebCrypto Ed25519, non-extractable, kept in IndexedDB by
static/mobile-activate.js); only its public half passes through here. Identity's activation
endpoints take no token (the student has no account yet), so these routes call identity with
none, then sign the student in with the new password so the next step (consent) follows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, JSONResponse

from services.console.mobile.answers import problem_json
from services.console.session import Sessions, store_tokens
from services.console.signin import is_https
from services.console.upstream import Upstream, UpstreamProblem
from services.console.web import render

router = APIRouter(include_in_schema=False)


@router.get("/m/activate")
async def activate_page(request: Request) -> HTMLResponse:
    return render(request, "mobile/activate.html")


@router.post("/m/activate/code")
async def send_code(
    request: Request,
    name: Annotated[str, Body(min_length=1, max_length=100)],
    id_number: Annotated[str, Body(min_length=15, max_length=20)],
    phone: Annotated[str, Body(min_length=11, max_length=11)],
) -> JSONResponse:
    upstream: Upstream = request.app.state.upstream
    body = {"name": name.strip(), "id_number": id_number.strip().upper(), "phone": phone.strip()}
    try:
        response = await upstream.request(
            "identity", "POST", "/api/v1/activation/code", token=None, json=body
        )
    except UpstreamProblem as problem:
        return problem_json(request, problem)
    sent = response.json()
    return JSONResponse({"ticket": sent["ticket"], "expires_in": sent["expires_in"]})


@router.post("/m/activate")
async def finish(
    request: Request,
    ticket: Annotated[str, Body(min_length=10, max_length=100)],
    code: Annotated[str, Body(pattern=r"^[0-9]{6}$")],
    password: Annotated[str, Body(min_length=1, max_length=256)],
    device_public_key: Annotated[str, Body(min_length=40, max_length=100)],
) -> JSONResponse:
    upstream: Upstream = request.app.state.upstream
    sessions: Sessions = request.app.state.sessions
    body = {"ticket": ticket, "code": code, "password": password, "device_public_key": device_public_key}
    try:
        response = await upstream.request("identity", "POST", "/api/v1/activation", token=None, json=body)
        username = str(response.json()["username"])
        tokens = await sessions.sign_in(username, password, request.client.host if request.client else None)
    except UpstreamProblem as problem:
        return problem_json(request, problem)
    answer = JSONResponse({"username": username, "next": "/m/consent"})
    store_tokens(answer, tokens, secure=is_https(request))
    return answer
