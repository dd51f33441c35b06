"""The keyed digest of a resident ID, as enrollment computes ``id_number_digest``
(shared/id_digest.py), to match an activation against the record enrollment holds."""

from __future__ import annotations

from pathlib import Path

from shared import id_digest


def load_digest_key(path: Path | None) -> bytes | None:
    """None also when the file is absent: identity then activates without the digest check."""
    return id_digest.load_digest_key(path if path is not None and path.exists() else None)


def resident_id_digest(key: bytes, normalised_number: str) -> str:
    return id_digest.id_digest(key, "resident_id", normalised_number)
