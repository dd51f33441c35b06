"""Seal a certificate's QR claims, and open a sealed payload with the keys a verifier trusts.

The payload key is the province's Ed25519 key (``certificate_payload_key_file``), loaded with
``shared.signing.load_private_key``; its ``kid`` is ``shared.signing.key_id_of(province, key)``
(``41-1a2b3c4d``), so one key id scheme serves events, JWTs and certificates, and a rotated key
gets a new id while certificates sealed with the old one keep verifying as long as verifiers
list it. Offline verification (issue 8) needs only the public keys by kid.
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from services.certificates.domain.qr_claims import (
    QrClaims,
    QrPayloadRefused,
    claims_from_cbor,
    claims_to_cbor,
    payload_from_text,
    payload_url,
)
from services.certificates.signing.cose import EDDSA, CoseRefused, sign1, verify1


def seal(claims: QrClaims, key: PrivateKeyTypes, kid: str, *, base_url: str, alg: int = EDDSA) -> str:
    """The QR text: ``base_url`` upper-cased with the signed claims in base32 after it."""
    return payload_url(base_url, sign1(claims_to_cbor(claims), key, kid.encode(), alg))


def open_sealed(text: str, trusted_keys: Mapping[str, PublicKeyTypes]) -> QrClaims:
    """The claims of a scanned URL or typed base32, if a trusted key sealed them; else
    ``QrPayloadRefused`` naming why (tampered, unknown key, unknown algorithm, not a payload).
    Whether the certificate was voided since is the caller's question (the register knows)."""
    message = payload_from_text(text)
    by_kid = {kid.encode(): key for kid, key in trusted_keys.items()}
    try:
        verified = verify1(message, by_kid)
    except CoseRefused as exc:
        raise QrPayloadRefused(exc.kind, exc.reason) from exc
    return claims_from_cbor(verified.payload)
