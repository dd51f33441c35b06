"""The identity service: accounts, roles, sign-in (JWT + JWKS); later activation and faces."""

from __future__ import annotations

from pathlib import Path

from services.identity.api import OWN_VERIFIER, TOKEN_ISSUER, router
from services.identity.handlers import subscriptions
from services.identity.keys import token_issuer
from services.identity.passwords import prepare
from services.identity.seeding import read_seed_accounts, seed_accounts
from shared.auth import StaticJwksVerifier
from shared.service import ServiceContext, ServiceSpec


async def start(ctx: ServiceContext) -> None:
    issuer = token_issuer(ctx.settings)
    ctx.extras[TOKEN_ISSUER] = issuer
    ctx.extras[OWN_VERIFIER] = StaticJwksVerifier(issuer.jwks(), ctx.settings.province)
    await prepare()
    if ctx.settings.seed_file is not None:
        async with ctx.uow() as uow:
            await seed_accounts(uow, ctx.settings.province, read_seed_accounts(ctx.settings.seed_file))


SPEC = ServiceSpec(
    name="identity",
    title="Identity",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    subscriptions=subscriptions,
    on_start=start,
)
