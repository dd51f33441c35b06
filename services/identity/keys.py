"""Identity's JWT signing keys: the current Ed25519 PEM file (created on first start if the
deployment did not provision one) and the retired ones beside it.

Rotation (``python -m services.identity.rotate_keys`` or the province admin's API call) moves
the current key to ``<key dir>/retired/<kid>.pem`` and generates a new one. A retired key keeps
being published in the JWKS until every token it signed has expired (access-token lifetime plus
a margin), so nobody is signed out by a rotation; after that it is deleted.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import TokenIssuer
from shared.settings import Settings
from shared.signing import generate_private_key_file, key_id_of, load_private_key

log = logging.getLogger(__name__)
# Verifiers cache the JWKS for up to 5 minutes (its Cache-Control): a retired key outlives the
# last token it signed by more than that.
RETIREMENT_MARGIN = timedelta(minutes=10)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_private_key(path)
    log.warning("no JWT signing key at %s: generating one (mode 600)", path)
    return generate_private_key_file(path)


def _retired_dir(current: Path) -> Path:
    return current.parent / "retired"


def _still_published(settings: Settings, current: Path) -> dict[str, Ed25519PrivateKey]:
    keep_for = (timedelta(minutes=settings.access_token_minutes) + RETIREMENT_MARGIN).total_seconds()
    keys: dict[str, Ed25519PrivateKey] = {}
    folder = _retired_dir(current)
    for path in sorted(folder.glob("*.pem")) if folder.exists() else []:
        if time.time() - path.stat().st_mtime > keep_for:
            path.unlink(missing_ok=True)  # every token it signed has expired
            continue
        key = load_private_key(path)
        keys[key_id_of(settings.province, key)] = key
    return keys


def token_issuer(settings: Settings) -> TokenIssuer:
    if settings.jwt_key_file is None:
        raise RuntimeError("identity needs XUEJI_JWT_KEY_FILE: the Ed25519 PEM that signs its tokens")
    key = load_or_create_key(settings.jwt_key_file)
    kid = key_id_of(settings.province, key)
    return TokenIssuer(
        province=settings.province,
        keys={**_still_published(settings, settings.jwt_key_file), kid: key},
        current=kid,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )


def rotate_signing_key(settings: Settings) -> str:
    """Retire the current key and make a new one; returns the new key id."""
    if settings.jwt_key_file is None:
        raise RuntimeError("identity needs XUEJI_JWT_KEY_FILE")
    current = settings.jwt_key_file
    old = load_or_create_key(current)
    retired = _retired_dir(current) / f"{key_id_of(settings.province, old)}.pem"
    retired.parent.mkdir(parents=True, exist_ok=True)
    # Copy the old key aside first and swap the new one in with an atomic rename: another
    # process never finds the key file missing (it would generate a key of its own).
    retired.write_bytes(current.read_bytes())
    retired.chmod(0o600)
    staged = current.with_name(current.name + ".new")
    new = generate_private_key_file(staged)
    staged.replace(current)
    return key_id_of(settings.province, new)


def key_file_stamp(settings: Settings) -> float:
    """Changes when any process rotates the key: processes reload their issuer when it does."""
    path = settings.jwt_key_file
    return path.stat().st_mtime_ns if path is not None and path.exists() else 0.0
