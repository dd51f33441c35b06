from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shared.signing import key_id_for

# RFC 8032 §7.1 test 1: a published Ed25519 public key, and its SHA-256 prefix pinned here so a
# change of the derivation (hashing the DER form instead of the raw key, say) is caught.
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


def test_key_id_for__province_then_first_8_hex_of_sha256_of_raw_key() -> None:
    assert key_id_for("41", RFC8032_PUBLIC) == "41-21fe31df"
    assert key_id_for("37", RFC8032_PUBLIC) == "37-21fe31df"


@given(st.sampled_from(["41", "37"]), st.binary(min_size=32, max_size=32))
def test_key_id_for__shape(province: str, public_key: bytes) -> None:
    assert re.fullmatch(rf"{province}-[0-9a-f]{{8}}", key_id_for(province, public_key))
