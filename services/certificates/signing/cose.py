"""COSE_Sign1 (RFC 9052 §4.2), just what a certificate's QR payload needs.

Written here rather than taken from ``pycose``: pycose 1.1.0 breaks with cbor2 ≥ 6, and the
message is one CBOR array (STACK.md "Certificates"). The algorithm and the key id (``kid``) sit
in the *protected* header, so both are covered by the signature: a verifier cannot be talked
into another algorithm or key (DESIGN.md "Cross-cutting": signatures name algorithm and key id).

Algorithms live in one table, ``ALGORITHMS``. Adding one (the national SM2 with SM3 profile is
the likely next) is one entry: its COSE number, its key types, a sign and a verify function.
IANA has registered no COSE number for SM2, so such an entry would use a private-use value
(below -65536) agreed with the verifiers. No SM2 code exists yet.

Deliberately strict, because only our own payloads are read: a tagged (18) array of four, a
protected header of exactly ``alg`` and ``kid``, no external AAD, nothing after the message.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_KID = 4
EDDSA = -8  # IANA COSE Algorithms: "EdDSA" (here always Ed25519)

RefusalKind = Literal["malformed", "unknown_algorithm", "unknown_key", "wrong_key_type", "bad_signature"]


class CoseRefused(Exception):
    """A message that must not be believed; ``kind`` is stable for callers, ``reason`` for people."""

    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: RefusalKind = kind
        self.reason = reason


@dataclass(frozen=True)
class CoseAlgorithm:
    name: str
    cose_id: int
    private_key_type: type
    public_key_type: type
    sign: Callable[[Any, bytes], bytes]
    # Raises cryptography's InvalidSignature on a bad signature.
    verify: Callable[[Any, bytes, bytes], None]


def _sign_eddsa(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def _verify_eddsa(key: Ed25519PublicKey, signature: bytes, data: bytes) -> None:
    key.verify(signature, data)


ALGORITHMS: Mapping[int, CoseAlgorithm] = {
    EDDSA: CoseAlgorithm(
        name="EdDSA",
        cose_id=EDDSA,
        private_key_type=Ed25519PrivateKey,
        public_key_type=Ed25519PublicKey,
        sign=_sign_eddsa,
        verify=_verify_eddsa,
    ),
    # SM2 with SM3 (GB/T 32918, GM/T 0009): one entry here, with a private-use COSE number.
}


@dataclass(frozen=True)
class VerifiedMessage:
    payload: bytes
    kid: bytes
    algorithm: str


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    # RFC 9052 §4.4: the bytes actually signed; external_aad is empty.
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(payload: bytes, key: PrivateKeyTypes, kid: bytes, alg: int = EDDSA) -> bytes:
    algorithm = ALGORITHMS.get(alg)
    if algorithm is None:
        raise ValueError(f"COSE algorithm {alg} is not supported")
    if not isinstance(key, algorithm.private_key_type):
        raise TypeError(f"{type(key).__name__} cannot sign with {algorithm.name}")
    protected = cbor2.dumps({HEADER_ALG: alg, HEADER_KID: kid}, canonical=True)
    signature = algorithm.sign(key, _sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def _decode_exactly(data: bytes, what: str) -> Any:
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(stream, allow_indefinite=False, allow_duplicate_keys=False).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CoseRefused("malformed", f"{what} is not valid CBOR: {exc}") from exc
    if stream.tell() != len(data):
        raise CoseRefused("malformed", f"{what} is followed by {len(data) - stream.tell()} stray bytes")
    return value


def _protected_header(protected: bytes) -> tuple[int, bytes]:
    header = _decode_exactly(protected, "protected header")
    if not isinstance(header, Mapping):
        raise CoseRefused("malformed", "protected header is not a map")
    if set(header) != {HEADER_ALG, HEADER_KID}:
        raise CoseRefused(
            "malformed", f"protected header must hold alg and kid only, has {sorted(map(repr, header))}"
        )
    alg, kid = header[HEADER_ALG], header[HEADER_KID]
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise CoseRefused("malformed", "alg is not an integer")
    if not isinstance(kid, bytes):
        raise CoseRefused("malformed", "kid is not a byte string")
    return alg, kid


def verify1(message: bytes, trusted_keys: Mapping[bytes, PublicKeyTypes]) -> VerifiedMessage:
    """The payload of ``message`` if a trusted key signed it with the algorithm it names; else
    ``CoseRefused``."""
    decoded = _decode_exactly(message, "message")
    if not isinstance(decoded, cbor2.CBORTag) or decoded.tag != COSE_SIGN1_TAG:
        raise CoseRefused("malformed", "not a tagged COSE_Sign1 message")
    parts = decoded.value
    # cbor2 ≥ 6 gives a tag's content immutable: a tuple, maps as frozendict.
    if not isinstance(parts, tuple | list) or len(parts) != 4:
        raise CoseRefused("malformed", "COSE_Sign1 is not an array of four")
    protected, unprotected, payload, signature = parts
    if not (isinstance(protected, bytes) and isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise CoseRefused("malformed", "protected header, payload and signature must be byte strings")
    if not isinstance(unprotected, Mapping):
        raise CoseRefused("malformed", "unprotected header is not a map")
    alg, kid = _protected_header(protected)
    algorithm = ALGORITHMS.get(alg)
    if algorithm is None:
        raise CoseRefused("unknown_algorithm", f"COSE algorithm {alg} is not accepted")
    key = trusted_keys.get(kid)
    if key is None:
        raise CoseRefused("unknown_key", f"key {kid.decode(errors='replace')!r} is not a trusted key")
    if not isinstance(key, algorithm.public_key_type):
        raise CoseRefused(
            "wrong_key_type", f"key {kid.decode(errors='replace')!r} is not a {algorithm.name} key"
        )
    try:
        algorithm.verify(key, signature, _sig_structure(protected, payload))
    except InvalidSignature as exc:
        raise CoseRefused(
            "bad_signature", f"signature does not match key {kid.decode(errors='replace')!r}"
        ) from exc
    return VerifiedMessage(payload=payload, kid=kid, algorithm=algorithm.name)
