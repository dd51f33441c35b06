from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from services.identity.keys import load_or_create_key, token_issuer
from shared.settings import Settings


def _raw_public(key_file: Path) -> bytes:
    return (
        load_or_create_key(key_file)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def test_load_or_create_key__creates_a_private_file_once(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "jwt.pem"
    first = _raw_public(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert _raw_public(key_file) == first  # the second start reuses it


def test_token_issuer__key_id_names_province_and_key(tmp_path: Path) -> None:
    settings = Settings(
        service="identity",
        province="37",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/unused",
        jwt_key_file=tmp_path / "jwt.pem",
        access_token_minutes=5,
    )
    issuer = token_issuer(settings)
    assert re.fullmatch(r"37-[0-9a-f]{8}", issuer.current)
    assert list(issuer.keys) == [issuer.current]
    assert issuer.lifetime.total_seconds() == 300
    assert issuer.jwks()["keys"][0]["kid"] == issuer.current
