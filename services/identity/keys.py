"""Identity's JWT signing key: an Ed25519 PEM file, created on first start if the deployment
did not provision one."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import TokenIssuer
from shared.settings import Settings
from shared.signing import generate_private_key_file, key_id_of, load_private_key

log = logging.getLogger(__name__)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_private_key(path)
    log.warning("no JWT signing key at %s: generating one (mode 600)", path)
    return generate_private_key_file(path)


def token_issuer(settings: Settings) -> TokenIssuer:
    if settings.jwt_key_file is None:
        raise RuntimeError("identity needs XUEJI_JWT_KEY_FILE: the Ed25519 PEM that signs its tokens")
    key = load_or_create_key(settings.jwt_key_file)
    kid = key_id_of(settings.province, key)
    return TokenIssuer(
        province=settings.province,
        keys={kid: key},
        current=kid,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
