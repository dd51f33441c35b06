"""Identity's routes, one module per area."""

from fastapi import APIRouter

from services.identity.api import accounts, activation, auth, faces, overview, sessions
from services.identity.api.common import OWN_VERIFIER, TOKEN_ISSUER

ROUTERS: list[APIRouter] = [
    auth.router,
    accounts.router,
    sessions.router,
    activation.router,
    faces.router,
    overview.router,
]

__all__ = ["OWN_VERIFIER", "ROUTERS", "TOKEN_ISSUER"]
