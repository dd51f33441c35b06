"""Who is using the console: identity's tokens kept in cookies the page's scripts cannot read.

The access token (15 minutes) is verified here with identity's published keys only to know the
user's role and organisation for the layout; every service verifies it again. When it has
expired the refresh token is traded once for new ones. Identity treats a refresh token used
twice as stolen and ends the session, and a page fires several requests at once: so trading is
done once per refresh token, under a lock, and the answer is kept for a minute for the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from services.console.upstream import Upstream, UpstreamProblem
from shared.auth import JwksVerifier, Principal
from shared.problems import Problem

ACCESS_COOKIE = "xueji_access"
REFRESH_COOKIE = "xueji_refresh"
REFRESH_COOKIE_DAYS = 14
TRADED_ANSWER_SECONDS = 60.0


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    expires_in: int


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    token: str

    @property
    def is_student(self) -> bool:
        return self.principal.role == "student"


class Sessions:
    def __init__(self, upstream: Upstream, verifier: JwksVerifier) -> None:
        self._upstream = upstream
        self._verifier = verifier
        self._lock = asyncio.Lock()
        self._traded: dict[str, tuple[Tokens, float]] = {}

    async def sign_in(self, username: str, password: str, client_address: str | None) -> Tokens:
        """Identity's answer; :class:`UpstreamProblem` (401 for any wrong pair) passes through.
        Identity limits failed sign-ins per address too: the browser's, or twenty wrong
        passwords anywhere would lock everyone out."""
        response = await self._upstream.request(
            "identity",
            "POST",
            "/api/v1/auth/token",
            token=None,
            data={"grant_type": "password", "username": username, "password": password},
            client_address=client_address,
        )
        return _tokens(response.json())

    async def refresh(self, refresh_token: str) -> Tokens | None:
        async with self._lock:
            now = time.monotonic()
            self._traded = {k: v for k, v in self._traded.items() if v[1] > now}
            if refresh_token in self._traded:
                return self._traded[refresh_token][0]
            try:
                response = await self._upstream.request(
                    "identity",
                    "POST",
                    "/api/v1/auth/refresh",
                    token=None,
                    data={"refresh_token": refresh_token},
                )
            except UpstreamProblem:
                return None
            tokens = _tokens(response.json())
            self._traded[refresh_token] = (tokens, now + TRADED_ANSWER_SECONDS)
            return tokens

    async def revoke(self, refresh_token: str, client_address: str | None = None) -> bool:
        """Ends the token's session at identity, so a copied refresh cookie dies with sign-out.
        Best effort (False when identity could not be told): signing out must work even when
        identity is down; the cookies are forgotten anyway and the session then runs out."""
        async with self._lock:
            self._forget_traded(refresh_token)
        try:
            await self._upstream.request(
                "identity",
                "POST",
                "/api/v1/auth/revoke",
                token=None,
                data={"refresh_token": refresh_token, "token_type_hint": "refresh_token"},
                client_address=client_address,  # for identity's audit entry: the browser's
            )
        except UpstreamProblem:  # ServiceUnavailable (unreachable) is one too
            return False
        return True

    def _forget_traded(self, refresh_token: str) -> None:
        """Drops the kept answers of the revoked session: an older refresh token of it, still
        within its minute, would otherwise be handed a fresh (and offline-valid) access token."""
        doomed = {refresh_token}
        while True:
            found = {k for k, (tokens, _) in self._traded.items() if k in doomed or tokens.refresh in doomed}
            if found <= doomed:
                break
            doomed |= found
        for key in doomed:
            self._traded.pop(key, None)

    async def viewer(self, request: Request) -> Viewer | None:
        """The signed-in user, trading the refresh token when the access token has run out."""
        token = request.cookies.get(ACCESS_COOKIE)
        if token:
            with contextlib.suppress(Problem):  # expired or altered: the refresh token decides
                return Viewer(await self._verifier.verify(token), token)
        refresh_token = request.cookies.get(REFRESH_COOKIE)
        if not refresh_token:
            return None
        tokens = await self.refresh(refresh_token)
        if tokens is None:
            return None
        try:
            principal = await self._verifier.verify(tokens.access)
        except Problem:
            return None
        request.state.new_tokens = tokens
        return Viewer(principal, tokens.access)


def _tokens(body: dict[str, object]) -> Tokens:
    return Tokens(str(body["access_token"]), str(body["refresh_token"]), int(str(body["expires_in"])))


def store_tokens(response: Response, tokens: Tokens, *, secure: bool) -> None:
    for name, value, max_age in (
        (ACCESS_COOKIE, tokens.access, tokens.expires_in),
        (REFRESH_COOKIE, tokens.refresh, REFRESH_COOKIE_DAYS * 86400),
    ):
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/"
        )


def forget_tokens(response: Response) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/")
