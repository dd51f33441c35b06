"""Naming identity's JWT signing keys."""

from __future__ import annotations

import hashlib


def key_id_for(province: str, public_key: bytes) -> str:
    """``<province>-<first 8 hex of SHA-256 of the raw public key>``: stable for one key, new for a
    rotated one, and it says whose key it is (DESIGN.md: signatures name their key id). The same
    derivation as the inter-province signing keys in ``deploy/local/provision.py``."""
    return f"{province}-{hashlib.sha256(public_key).hexdigest()[:8]}"
