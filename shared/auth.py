"""Authentication: identity signs short-lived EdDSA JWTs; every other service verifies them with
identity's JWKS. Claims carry the role and the organisation the account belongs to."""

from __future__ import annotations

import asyncio
import base64
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import forbidden, unauthorized

JWT_ALGORITHM = "EdDSA"  # PyJWT's name for Ed25519 (STACK.md)
AUDIENCE = "xueji"


class Role(StrEnum):
    # The Ministry of Education's records office: arbitrates cross-province problem records
    # (seed 002 跨省问题学籍: "需要教育部仲裁") and sees every province's cases it may decide.
    MINISTRY = "ministry"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    SCHOOL_REGISTRAR = "school_registrar"
    SCHOOL_LEADER = "school_leader"
    COUNSELOR = "counselor"
    STUDENT = "student"


SCHOOL_ROLES = frozenset({Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER})
BUREAU_ROLES = frozenset({Role.PROVINCE, Role.CITY, Role.COUNTY})


@dataclass(frozen=True)
class Principal:
    """The caller, as the token says. ``org`` is a region code (province 2 digits, city 4, county
    6) or a 10-digit school code; a counselor's and a student's org is their school."""

    account_id: str
    username: str
    role: Role
    org: str
    province: str
    student_id: str | None = None


def issuer_for(province: str) -> str:
    return f"xueji-identity-{province}"


def issuer_province(issuer: str) -> str:
    return issuer.removeprefix("xueji-identity-")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: Ed25519PrivateKey, key_id: str) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(raw),
        "kid": key_id,
        "alg": JWT_ALGORITHM,
        "use": "sig",
    }


@dataclass(frozen=True)
class TokenIssuer:
    """Identity's signer. ``keys`` maps key id to key; ``current`` signs, all are published."""

    province: str
    keys: dict[str, Ed25519PrivateKey]
    current: str
    lifetime: timedelta = timedelta(minutes=15)

    def issue(self, principal: Principal, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": issuer_for(self.province),
            "aud": AUDIENCE,
            "sub": principal.account_id,
            "preferred_username": principal.username,
            "role": principal.role.value,
            "org": principal.org,
            "province": principal.province,
            "iat": int(issued.timestamp()),
            "exp": int((issued + self.lifetime).timestamp()),
        }
        if principal.student_id:
            claims["student_id"] = principal.student_id
        return jwt.encode(
            claims, self.keys[self.current], algorithm=JWT_ALGORITHM, headers={"kid": self.current}
        )

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [public_jwk(key, kid) for kid, key in self.keys.items()]}


VERIFIED_CACHE_SIZE = 10_000


class JwksVerifier:
    """Verifies bearer tokens against identity's JWKS, refetched when an unknown key id shows up
    (key rotation) but at most every ``min_refresh`` seconds (a flood of forged kids can't make
    us hammer identity).

    A token that verified once is remembered, by its exact text, until its ``exp``: a client
    sends the same token with every request for up to its 15 minutes, and the Ed25519 check and
    claim parsing were the largest part of a small request's cost. Only tokens that passed every
    check are remembered (a forged or altered token differs in its text, so it never matches),
    the expiry is checked again on every hit, and the memory is bounded (least recently used out).
    """

    def __init__(
        self,
        jwks_url: str,
        province: str,
        *,
        min_refresh: float = 30.0,
        cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        self._url = jwks_url
        self._issuer = issuer_for(province)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._min_refresh = min_refresh
        self._lock = asyncio.Lock()
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self._min_refresh and self._keys:
                return
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self._url)
                response.raise_for_status()
            self._keys = {k["kid"]: jwt.PyJWK(k) for k in response.json()["keys"]}
            self._fetched_at = time.monotonic()

    async def _key_for(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys and time.monotonic() - self._fetched_at >= self._min_refresh:
            try:
                await self._refresh()
            except httpx.HTTPError as exc:
                raise unauthorized("the token's signing keys cannot be fetched right now") from exc
        return self._keys.get(kid)

    async def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires = remembered
            if time.time() < expires:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]  # expired: the full check below says so
        principal, expires = await self._verify_fully(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify_fully(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise unauthorized("malformed token") from exc
        key = await self._key_for(str(header.get("kid", "")))
        if key is None:
            raise unauthorized("token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[JWT_ALGORITHM],
                audience=AUDIENCE,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("token expired") from exc
        except jwt.PyJWTError as exc:
            raise unauthorized(f"invalid token: {exc}") from exc
        try:
            principal = Principal(
                account_id=str(claims["sub"]),
                username=str(claims.get("preferred_username", "")),
                role=Role(claims["role"]),
                org=str(claims["org"]),
                province=str(claims["province"]),
                student_id=claims.get("student_id"),
            )
            return principal, float(claims["exp"])
        except (KeyError, ValueError) as exc:
            raise unauthorized("token lacks role or organisation") from exc


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("sign in first: send 'Authorization: Bearer <token>'")
    verifier: JwksVerifier = request.app.state.jwt_verifier
    return await verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise forbidden(f"this action needs one of the roles: {allowed}")


class StaticJwksVerifier(JwksVerifier):
    """A verifier for a JWKS document given in configuration rather than fetched (tests, and
    deployments that pin identity's keys)."""

    def __init__(
        self, jwks: dict[str, list[dict[str, str]]], province: str, *, cache_size: int = VERIFIED_CACHE_SIZE
    ) -> None:
        super().__init__("", province, cache_size=cache_size)
        self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
        self._fetched_at = float("inf")  # never refetch

    async def _key_for(self, kid: str) -> jwt.PyJWK | None:
        return self._keys.get(kid)


def require_service_token(expected: str | None, authorization: str | None) -> None:
    """Internal endpoints: the province's services send ``Authorization: Service <token>``
    (``XUEJI_SERVICE_TOKEN``); with no token configured, internal endpoints refuse everyone."""
    scheme, _, token = (authorization or "").partition(" ")
    if expected is None or scheme != "Service" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise unauthorized("internal endpoint: send 'Authorization: Service <token>'")
