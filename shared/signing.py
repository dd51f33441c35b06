"""Signatures on inter-province events.

Each province signs what it sends with its Ed25519 key and names the algorithm and key id in
headers, so keys can rotate and the algorithm can change (e.g. to SM2) without a protocol
change (DESIGN.md "Cross-cutting"). The signed bytes bind the body to its destination province,
so an event addressed to one partner cannot be replayed into another.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_HEADER = "x-xueji-sig-alg"
KEY_ID_HEADER = "x-xueji-key-id"
SIGNATURE_HEADER = "x-xueji-signature"
TO_PROVINCE_HEADER = "x-xueji-to-province"
ED25519 = "Ed25519"
_DOMAIN = b"xueji-interprovince-v1\n"


class UntrustedEvent(Exception):
    """An inter-province event that must not be applied; ``reason`` goes to the dead-letter queue."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _signed_bytes(to_province: str, body: bytes) -> bytes:
    return _DOMAIN + to_province.encode() + b"\n" + body


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def generate_private_key_file(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


def key_id_for(province: str, public_key: bytes) -> str:
    """``<province>-<first 8 hex of SHA-256 of the raw public key>``: stable for one key, new for
    a rotated one, and it says whose key it is. Used for JWT and inter-province keys alike."""
    return f"{province}-{hashlib.sha256(public_key).hexdigest()[:8]}"


def key_id_of(province: str, key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key_id_for(province, raw)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Signer:
    province: str
    key_id: str
    key: Ed25519PrivateKey

    def headers_for(self, to_province: str, body: bytes) -> dict[str, str]:
        signature = self.key.sign(_signed_bytes(to_province, body))
        return {
            ALG_HEADER: ED25519,
            KEY_ID_HEADER: self.key_id,
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TO_PROVINCE_HEADER: to_province,
        }


@dataclass(frozen=True)
class TrustedKey:
    province: str
    alg: str
    public_key: Ed25519PublicKey


class TrustStore:
    """The partner provinces' public keys this province accepts, by key id."""

    def __init__(self, keys: dict[str, TrustedKey]) -> None:
        self._keys = keys

    @classmethod
    def from_file(cls, path: Path | None) -> TrustStore:
        if path is None or not path.exists():
            return cls({})
        raw: dict[str, dict[str, str]] = json.loads(path.read_text())
        keys = {
            key_id: TrustedKey(
                province=entry["province"],
                alg=entry["alg"],
                public_key=Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public_key"])),
            )
            for key_id, entry in raw.items()
        }
        return cls(keys)

    def verify(
        self, headers: dict[str, Any], body: bytes, *, my_province: str, claimed_province: str
    ) -> None:
        """Raise ``UntrustedEvent`` unless the body was signed for us by the province it claims."""
        key_id = headers.get(KEY_ID_HEADER)
        signature_b64 = headers.get(SIGNATURE_HEADER)
        if not key_id or not signature_b64:
            raise UntrustedEvent("unsigned: no signature or key id header")
        key = self._keys.get(str(key_id))
        if key is None:
            raise UntrustedEvent(f"unknown signing key {key_id!r}: not a trusted partner province")
        if headers.get(ALG_HEADER) != key.alg or key.alg != ED25519:
            raise UntrustedEvent(f"algorithm {headers.get(ALG_HEADER)!r} does not match key {key_id!r}")
        if key.province != claimed_province:
            raise UntrustedEvent(
                f"key {key_id!r} belongs to province {key.province}, event claims {claimed_province}"
            )
        # The signature already binds the destination; this check only names the cause, so a
        # misrouted event (a shovel pointed at the wrong partner) doesn't read as a forgery.
        addressed_to = headers.get(TO_PROVINCE_HEADER)
        if addressed_to is not None and str(addressed_to) != my_province:
            raise UntrustedEvent(f"addressed to province {addressed_to}, not {my_province}")
        try:
            signature = base64.b64decode(str(signature_b64), validate=True)
            key.public_key.verify(signature, _signed_bytes(my_province, body))
        except (InvalidSignature, ValueError) as exc:
            raise UntrustedEvent(f"bad signature from key {key_id!r}") from exc
