"""What every identity route needs: the caller checked against identity's own keys, the keys of
``ServiceContext.extras`` the start hook fills, and the client's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.identity.keys import key_file_stamp, token_issuer
from shared.auth import JwksVerifier, Principal, StaticJwksVerifier, TokenIssuer
from shared.problems import unauthorized
from shared.service import Context, ServiceContext

# Keys of ``ServiceContext.extras`` that startup.py fills.
TOKEN_ISSUER = "token_issuer"
OWN_VERIFIER = "own_jwt_verifier"
TEMPLATE_KEYS = "face_template_keys"
NOTIFIER = "notifier"
ID_DIGEST_KEY = "id_digest_key"

_bearer = HTTPBearer(auto_error=False)


KEY_STAMP = "jwt_key_stamp"


def refresh_issuer(ctx: ServiceContext) -> None:
    """(Re)load the signing keys when the key file changed (a rotation by this or another
    identity process), so every process signs with and publishes the same keys."""
    stamp = key_file_stamp(ctx.settings)
    if ctx.extras.get(KEY_STAMP) == stamp and TOKEN_ISSUER in ctx.extras:
        return
    issuer = token_issuer(ctx.settings)
    ctx.extras[TOKEN_ISSUER] = issuer
    ctx.extras[OWN_VERIFIER] = StaticJwksVerifier(issuer.jwks(), ctx.settings.province)
    ctx.extras[KEY_STAMP] = stamp


def issuer_of(ctx: ServiceContext) -> TokenIssuer:
    refresh_issuer(ctx)
    issuer: TokenIssuer = ctx.extras[TOKEN_ISSUER]
    return issuer


async def _own_principal(
    ctx: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Like ``shared.auth.CurrentPrincipal``, but checked against the keys identity holds rather
    than fetched from its own JWKS over HTTP (which would make identity call itself)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("sign in first: send 'Authorization: Bearer <token>'")
    refresh_issuer(ctx)
    verifier: JwksVerifier = ctx.extras[OWN_VERIFIER]
    return await verifier.verify(credentials.credentials)


OwnPrincipal = Annotated[Principal, Depends(_own_principal)]


def client_address(request: Request) -> str:
    # The deployment's proxy sets the peer; X-Forwarded-For is not trusted here (anyone could
    # send one to dodge the per-address limit).
    return request.client.host if request.client else "unknown"
