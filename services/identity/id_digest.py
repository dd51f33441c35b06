"""The keyed digest of an ID number, computed as enrollment computes ``id_number_digest``:
hex HMAC-SHA256 of ``<id type>:<normalised number>`` under the province's digest key
(``XUEJI_DEDUPE_HMAC_KEY_FILE``, the same file enrollment reads)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path


def load_digest_key(path: Path | None) -> bytes | None:
    if path is None or not path.exists():
        return None
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise ValueError(f"{path}: the ID digest key must be at least 32 bytes")
    return key


def resident_id_digest(key: bytes, normalised_number: str) -> str:
    return hmac.new(key, f"resident_id:{normalised_number}".encode(), hashlib.sha256).hexdigest()
