"""The keyed digest of an ID number that services compare without exchanging the number:
HMAC-SHA256 of ``<id type>:<normalised number>`` under a key every province shares
(``XUEJI_DEDUPE_HMAC_KEY_FILE``). Enrollment announces it to partners for the cross-province
duplicate check; identity matches an activation against the record enrollment holds. Without
the key a digest cannot be reversed by trying the ~10^9 plausible resident IDs, which a plain
hash would allow."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

MIN_KEY_BYTES = 32


def load_digest_key(path: Path | None) -> bytes | None:
    """The shared key, or None when none is configured (single-province setups)."""
    if path is None:
        return None
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{path}: the ID digest key must be at least {MIN_KEY_BYTES} bytes")
    return key


def id_digest(key: bytes, id_type: str, id_number: str) -> str:
    """Hex digest: the same person gives the same digest in every province and service, and
    a passport and a resident ID never collide."""
    return hmac.new(key, f"{id_type}:{id_number}".encode(), hashlib.sha256).hexdigest()
