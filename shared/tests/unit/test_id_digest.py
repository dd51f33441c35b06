"""The ID digest is a contract between provinces and services: the same key and number must
give the same digest everywhere, and the ID type must keep different kinds of number apart."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from shared.id_digest import id_digest, load_digest_key

KEY = b"k" * 32
NUMBER = "11010519491231002X"


def test_id_digest__is_hmac_sha256_of_type_and_number() -> None:
    expected = hmac.new(KEY, f"resident_id:{NUMBER}".encode(), hashlib.sha256).hexdigest()
    assert id_digest(KEY, "resident_id", NUMBER) == expected


def test_id_digest__a_passport_never_collides_with_a_resident_id() -> None:
    assert id_digest(KEY, "passport", NUMBER) != id_digest(KEY, "resident_id", NUMBER)


def test_load_digest_key__none_configured_is_none() -> None:
    assert load_digest_key(None) is None


def test_load_digest_key__a_short_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.key"
    path.write_bytes(b"short\n")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        load_digest_key(path)


def test_load_digest_key__reads_the_key_without_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.key"
    path.write_bytes(KEY + b"\n")
    assert load_digest_key(path) == KEY
