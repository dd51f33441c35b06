"""What identity sets up at start: signing keys, face-template keys, the notifier, seed accounts."""

from __future__ import annotations

import logging
from pathlib import Path

from services.identity.api.common import ID_DIGEST_KEY, NOTIFIER, TEMPLATE_KEYS, refresh_issuer
from services.identity.faces.templates import load_or_create_key_file
from services.identity.id_digest import load_digest_key
from services.identity.notify import LogSender
from services.identity.passwords import prepare
from services.identity.seeding import read_seed_accounts, seed_accounts
from services.identity.template_sweeper import start_template_sweeper
from shared.service import ServiceContext
from shared.settings import Settings

log = logging.getLogger(__name__)


def face_key_path(settings: Settings) -> Path:
    """XUEJI_FACE_KEY_FILE, or a file beside the JWT key, so deployments that predate face
    capture keep starting (the key is generated on first use either way)."""
    if settings.face_key_file is not None:
        return settings.face_key_file
    if settings.jwt_key_file is None:
        raise RuntimeError("identity needs XUEJI_FACE_KEY_FILE (or XUEJI_JWT_KEY_FILE beside it)")
    return settings.jwt_key_file.parent / "face-templates.json"


async def start(ctx: ServiceContext) -> None:
    refresh_issuer(ctx)
    try:
        ctx.extras[TEMPLATE_KEYS] = load_or_create_key_file(face_key_path(ctx.settings))
    except OSError as exc:
        # Keys mounted read-only (compose volume, Kubernetes secret) without a face key yet:
        # identity still serves sign-in; face endpoints answer 503 until the key is provisioned.
        log.error("face template keys unavailable (%s): face capture and checks are off", exc)
        ctx.extras[TEMPLATE_KEYS] = None
    ctx.extras.setdefault(NOTIFIER, LogSender())
    ctx.extras[ID_DIGEST_KEY] = load_digest_key(ctx.settings.dedupe_hmac_key_file)
    await prepare()
    # Graduates' templates fall due day by day: the sweeper deletes those whose day has come,
    # at start and every hour after.
    start_template_sweeper(ctx)
    if ctx.settings.seed_file is not None:
        async with ctx.uow() as uow:
            await seed_accounts(uow, ctx.settings.province, read_seed_accounts(ctx.settings.seed_file))
