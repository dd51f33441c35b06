"""The identity service: accounts, roles, sign-in (JWT + JWKS), activation, faces, audit."""

from __future__ import annotations

from pathlib import Path

from services.identity.api import ROUTERS
from services.identity.handlers import subscriptions
from services.identity.startup import start
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="identity",
    title="Identity",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=ROUTERS,
    subscriptions=subscriptions,
    on_start=start,
)
