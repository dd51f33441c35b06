"""Inter-province signatures: what a partner signed for us verifies; anything changed does not."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from shared.signing import (
    ALG_HEADER,
    ED25519,
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    TO_PROVINCE_HEADER,
    Signer,
    TrustedKey,
    TrustStore,
    UntrustedEvent,
    generate_private_key_file,
    load_private_key,
    public_key_b64,
)

PARTNER = Signer("37", "37-k1", Ed25519PrivateKey.generate())
TRUST = TrustStore({PARTNER.key_id: TrustedKey("37", ED25519, PARTNER.key.public_key())})
BODY = b'{"type":"transfer.case.opened","province":"37","data":{"transfer_id":"t-1"}}'


def _verify(headers: dict[str, str], body: bytes = BODY, *, me: str = "41", claimed: str = "37") -> None:
    TRUST.verify(headers, body, my_province=me, claimed_province=claimed)


def _reason(headers: dict[str, str], body: bytes = BODY, *, me: str = "41", claimed: str = "37") -> str:
    with pytest.raises(UntrustedEvent) as caught:
        _verify(headers, body, me=me, claimed=claimed)
    return caught.value.reason


def test_signing__signed_for_us_verifies() -> None:
    headers = PARTNER.headers_for("41", BODY)
    assert headers[ALG_HEADER] == ED25519
    assert headers[KEY_ID_HEADER] == "37-k1"
    assert headers[TO_PROVINCE_HEADER] == "41"
    _verify(headers)


@given(
    position=st.integers(min_value=0, max_value=len(BODY) - 1), flip=st.integers(min_value=1, max_value=255)
)
def test_signing__any_changed_byte_fails(position: int, flip: int) -> None:
    tampered = bytearray(BODY)
    tampered[position] ^= flip
    assert "bad signature" in _reason(PARTNER.headers_for("41", BODY), bytes(tampered))


def test_signing__appended_bytes_fail() -> None:
    assert "bad signature" in _reason(PARTNER.headers_for("41", BODY), BODY + b" ")


def test_signing__tampered_signature_fails() -> None:
    headers = PARTNER.headers_for("41", BODY)
    raw = bytearray(base64.b64decode(headers[SIGNATURE_HEADER]))
    raw[0] ^= 1
    assert "bad signature" in _reason({**headers, SIGNATURE_HEADER: base64.b64encode(bytes(raw)).decode()})
    assert "bad signature" in _reason({**headers, SIGNATURE_HEADER: "not base64!"})


def test_signing__signed_for_another_province_fails() -> None:
    headers = PARTNER.headers_for("44", BODY)
    assert _reason(headers) == "addressed to province 44, not 41"
    # Rewriting the unsigned destination header does not help: the signature binds it.
    assert "bad signature" in _reason({**headers, TO_PROVINCE_HEADER: "41"})


def test_signing__unsigned_fails() -> None:
    assert _reason({}).startswith("unsigned")
    headers = PARTNER.headers_for("41", BODY)
    assert _reason({k: v for k, v in headers.items() if k != SIGNATURE_HEADER}).startswith("unsigned")


def test_signing__unknown_key_fails() -> None:
    stranger = Signer("37", "37-k9", Ed25519PrivateKey.generate())
    assert "unknown signing key '37-k9'" in _reason(stranger.headers_for("41", BODY))


def test_signing__someone_elses_key_under_a_trusted_key_id_fails() -> None:
    impostor = Signer("37", PARTNER.key_id, Ed25519PrivateKey.generate())
    assert "bad signature" in _reason(impostor.headers_for("41", BODY))


def test_signing__claimed_province_must_own_the_key() -> None:
    reason = _reason(PARTNER.headers_for("41", BODY), claimed="11")
    assert reason == "key '37-k1' belongs to province 37, event claims 11"


def test_signing__algorithm_must_match_the_key() -> None:
    headers = {**PARTNER.headers_for("41", BODY), ALG_HEADER: "SM2"}
    assert "algorithm 'SM2'" in _reason(headers)


def test_signing__empty_trust_store_trusts_nobody(tmp_path: Path) -> None:
    for store in (TrustStore.from_file(None), TrustStore.from_file(tmp_path / "missing.json")):
        with pytest.raises(UntrustedEvent, match="unknown signing key"):
            store.verify(PARTNER.headers_for("41", BODY), BODY, my_province="41", claimed_province="37")


def test_signing__key_files_round_trip(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "37-k2.pem"
    generated = generate_private_key_file(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    signer = Signer("37", "37-k2", load_private_key(key_file))
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(
        json.dumps({"37-k2": {"province": "37", "alg": ED25519, "public_key": public_key_b64(generated)}})
    )
    TrustStore.from_file(trust_file).verify(
        signer.headers_for("41", BODY), BODY, my_province="41", claimed_province="37"
    )


def test_signing__only_ed25519_private_keys_load(tmp_path: Path) -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "ec.pem").write_bytes(pem)
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        load_private_key(tmp_path / "ec.pem")
