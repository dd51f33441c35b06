"""The sealed QR payload: claims survive the trip, and anything altered or unknown is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import cbor2
import pytest
import zint
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.qr_claims import (
    KIND_CODES,
    OUTCOME_CODES,
    QR_ALPHANUMERIC,
    QrClaims,
    QrPayloadRefused,
    claims_from_cbor,
    claims_to_cbor,
    payload_from_text,
    payload_url,
)
from services.certificates.signing.cose import EDDSA, sign1
from services.certificates.signing.qr_payload import open_sealed, seal
from shared.signing import key_id_of

BASE_URL = "https://verify.xueji.example/c/"
KEY = Ed25519PrivateKey.generate()
KID = key_id_of("41", KEY)
TRUSTED = {KID: KEY.public_key()}

claims_strategy = st.builds(
    QrClaims,
    number=st.text(min_size=1, max_size=40),
    name=st.text(min_size=1, max_size=30),
    school_name=st.text(min_size=1, max_size=60),
    issued_on=st.dates(),
    outcome=st.sampled_from(list(OUTCOME_CODES)),
    kind=st.sampled_from(list(KIND_CODES)),
    province=st.sampled_from(["11", "41", "44", "65"]),
)

SAMPLE = QrClaims(
    number="2026410102414101000112345678",
    name="张𬌗",
    school_name="河南省郑州市第一中等专业学校",
    issued_on=date(2026, 6, 11),
    outcome="graduated",
    kind="graduation",
    province="41",
)


def _qr_version(text: str) -> int:
    symbol = zint.Symbol()
    symbol.symbology = zint.Symbology.QRCODE
    symbol.option_1 = 2  # error correction M
    symbol.encode(text)
    return (symbol.rows - 17) // 4


def _with_protected(url: str, header: dict[int, object]) -> str:
    """The same message with another protected header (the signature left as it was)."""
    message = cbor2.loads(payload_from_text(url))
    _, unprotected, payload, signature = message.value
    forged = cbor2.CBORTag(18, [cbor2.dumps(header, canonical=True), dict(unprotected), payload, signature])
    return payload_url(BASE_URL, cbor2.dumps(forged))


@given(claims_strategy)
def test_open_sealed__any_claims_roundtrip(claims: QrClaims) -> None:
    assert open_sealed(seal(claims, KEY, KID, base_url=BASE_URL), TRUSTED) == claims


@given(claims_strategy, st.data())
def test_open_sealed__any_flipped_bit_refused(claims: QrClaims, data: st.DataObject) -> None:
    signed = payload_from_text(seal(claims, KEY, KID, base_url=BASE_URL))
    bit = data.draw(st.integers(0, len(signed) * 8 - 1))
    flipped = bytearray(signed)
    flipped[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(QrPayloadRefused):
        open_sealed(payload_url(BASE_URL, bytes(flipped)), TRUSTED)


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=20) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.integers() | st.text(max_size=3), inner),
    max_leaves=12,
)


@given(st.binary(max_size=300))
def test_open_sealed__any_bytes_refused(garbage: bytes) -> None:
    with pytest.raises(QrPayloadRefused):
        open_sealed(payload_url(BASE_URL, garbage), TRUSTED)


@given(st.lists(cbor_values, min_size=4, max_size=4), cbor_values)
def test_open_sealed__any_cose_shaped_forgery_refused(parts: list[object], header: object) -> None:
    # Four arbitrary parts under the COSE_Sign1 tag, some with a (forged) header in the
    # protected slot: never a crash, never accepted.
    for protected in (parts[0], cbor2.dumps(header)):
        forged = cbor2.dumps(cbor2.CBORTag(18, [protected, *parts[1:]]))
        with pytest.raises(QrPayloadRefused):
            open_sealed(payload_url(BASE_URL, forged), TRUSTED)


def test_open_sealed__unknown_kid_refused() -> None:
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(url, {"41-00000000": KEY.public_key()})
    assert refused.value.kind == "unknown_key"
    assert KID in refused.value.reason


def test_open_sealed__another_key_under_the_trusted_kid_refused() -> None:
    url = seal(SAMPLE, Ed25519PrivateKey.generate(), KID, base_url=BASE_URL)
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(url, TRUSTED)
    assert refused.value.kind == "bad_signature"


def test_open_sealed__alg_swapped_refused() -> None:
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(_with_protected(url, {1: -7, 4: KID.encode()}), TRUSTED)  # ES256
    assert refused.value.kind == "unknown_algorithm"


def test_open_sealed__kid_swapped_refused() -> None:
    # Another trusted kid in the header: the header is signed, so the signature no longer fits.
    other = Ed25519PrivateKey.generate()
    other_kid = key_id_of("41", other)
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(
            _with_protected(url, {1: EDDSA, 4: other_kid.encode()}), {**TRUSTED, other_kid: KEY.public_key()}
        )
    assert refused.value.kind == "bad_signature"


def test_open_sealed__trusted_key_of_another_algorithm_refused() -> None:
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(url, {KID: generate_private_key(SECP256R1()).public_key()})
    assert refused.value.kind == "wrong_key_type"


def test_open_sealed__extra_header_refused() -> None:
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(_with_protected(url, {1: EDDSA, 2: [99], 4: KID.encode()}), TRUSTED)  # crit
    assert refused.value.kind == "malformed"


def test_open_sealed__trailing_bytes_refused() -> None:
    signed = payload_from_text(seal(SAMPLE, KEY, KID, base_url=BASE_URL))
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(payload_url(BASE_URL, signed + b"\x00"), TRUSTED)
    assert refused.value.kind == "malformed"


def test_open_sealed__untagged_message_refused() -> None:
    signed = payload_from_text(seal(SAMPLE, KEY, KID, base_url=BASE_URL))
    untagged = cbor2.dumps(list(cbor2.loads(signed).value))
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(payload_url(BASE_URL, untagged), TRUSTED)
    assert refused.value.kind == "malformed"


def test_open_sealed__signed_non_claims_refused() -> None:
    url = payload_url(BASE_URL, sign1(cbor2.dumps({1: "only a number"}), KEY, KID.encode()))
    with pytest.raises(QrPayloadRefused) as refused:
        open_sealed(url, TRUSTED)
    assert refused.value.kind == "malformed"


def test_claims_from_cbor__unknown_key_ignored() -> None:
    encoded = cbor2.loads(claims_to_cbor(SAMPLE))
    assert claims_from_cbor(cbor2.dumps({**encoded, 99: "from a newer issuer"})) == SAMPLE


@pytest.mark.parametrize(
    ("change", "key"), [({5: 9}, "outcome"), ({6: True}, "kind"), ({4: "2026-06-11"}, "issued_on")]
)
def test_claims_from_cbor__bad_value_refused(change: dict[int, object], key: str) -> None:
    encoded = cbor2.loads(claims_to_cbor(SAMPLE))
    with pytest.raises(QrPayloadRefused, match=key):
        claims_from_cbor(cbor2.dumps({**encoded, **change}))


def test_claims_from_cbor__missing_claim_refused() -> None:
    encoded = dict(cbor2.loads(claims_to_cbor(SAMPLE)))
    del encoded[2]
    with pytest.raises(QrPayloadRefused, match="name"):
        claims_from_cbor(cbor2.dumps(encoded))


def test_payload_url__upper_case_https_in_qr_alphanumeric_mode() -> None:
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    assert url.startswith("HTTPS://VERIFY.XUEJI.EXAMPLE/C/")
    assert set(url) <= QR_ALPHANUMERIC
    assert "=" not in url


@pytest.mark.parametrize("base_url", ["http://verify.example/c/", "https://verify.example/c_v/"])
def test_payload_url__base_outside_https_or_alphanumeric_refused(base_url: str) -> None:
    with pytest.raises(ValueError):
        payload_url(base_url, b"x")


@pytest.mark.parametrize(
    "shape",
    [
        lambda url: url,
        lambda url: url.lower(),
        lambda url: url.rsplit("/", 1)[1],
        lambda url: f"  {url}?from=camera#top\n",
        lambda url: url + "/",
    ],
)
def test_payload_from_text__url_or_bare_base32(shape: Callable[[str], str]) -> None:
    url = seal(SAMPLE, KEY, KID, base_url=BASE_URL)
    assert open_sealed(shape(url), TRUSTED) == SAMPLE


@pytest.mark.parametrize("text", ["", "https://verify.example/c/", "NOT-BASE32!", "A", "A" * 5000])
def test_payload_from_text__not_a_payload_refused(text: str) -> None:
    with pytest.raises(QrPayloadRefused) as refused:
        payload_from_text(text)
    assert refused.value.kind == "not_a_payload"


@pytest.mark.parametrize(
    ("name", "school"),
    [
        ("张𬌗", "河南省郑州市第一中等专业学校"),
        ("欧阳𬌗䶮", "河南省郑州市中原区第一职业技术中等专业学校"),
        # a transliterated minority name with the same long school: 100 bytes of name + school
        ("买买提·艾力·阿不都热合曼", "河南省郑州市中原区第一职业技术中等专业学校"),
    ],
)
def test_seal__long_chinese_claims_fit_qr_version_12_at_ec_m(name: str, school: str) -> None:
    claims = QrClaims(
        number="2026410102414101000112345678",
        name=name,
        school_name=school,
        issued_on=date(2026, 6, 11),
        outcome="left_without_completing",
        kind="education_certificate",
        province="41",
    )
    url = seal(claims, KEY, KID, base_url=BASE_URL)
    assert _qr_version(url) <= 12
