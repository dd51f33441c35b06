"""Signatures on inter-province events.

Each province signs what it sends with its Ed25519 key and names the algorithm and key id in
headers, so keys can rotate and the algorithm can change (e.g. to SM2) without a protocol
change (DESIGN.md "Cross-cutting"). The signed bytes bind the body to its destination province,
so an event addressed to one partner cannot be replayed into another.

Rotation (docs/configuration.md "Partner provinces"): the partners' registries list the new key
from now and the old one until the end of an overlap; the signing key file is then replaced.
A ``Signer`` built on a key file and a ``TrustStore`` built on a registry file both notice a
changed file within seconds, so no process restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from shared.partner_registry import PartnerRegistry, read_registry

log = logging.getLogger(__name__)

ALG_HEADER = "x-xueji-sig-alg"
KEY_ID_HEADER = "x-xueji-key-id"
SIGNATURE_HEADER = "x-xueji-signature"
TO_PROVINCE_HEADER = "x-xueji-to-province"
ED25519 = "Ed25519"
_DOMAIN = b"xueji-interprovince-v1\n"
# How often a changed key or registry file is looked for: a stat per interval, not per message.
FILE_CHECK_SECONDS = 2.0


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


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def generate_private_key_file(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_key_pem(key))
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


@dataclass(eq=False)  # mutable (it reloads its key) yet hashable by identity
class Signer:
    """Signs for one province. Built with ``from_key_file``, it re-reads the file when it changes
    (the key id is then derived from the new key), so a rotation needs no restart."""

    province: str
    key_id: str
    key: Ed25519PrivateKey
    key_file: Path | None = None
    check_every: float = FILE_CHECK_SECONDS
    _file_mtime: int = field(default=0, repr=False)
    _checked_at: float = field(default=0.0, repr=False)

    @classmethod
    def from_key_file(cls, province: str, path: Path, key_id: str | None = None) -> Signer:
        key = load_private_key(path)
        signer = cls(province, key_id or key_id_of(province, key), key, key_file=path)
        signer._file_mtime = path.stat().st_mtime_ns
        signer._checked_at = time.monotonic()
        return signer

    def _refresh(self) -> None:
        if self.key_file is None or time.monotonic() - self._checked_at < self.check_every:
            return
        self._checked_at = time.monotonic()
        try:
            mtime = self.key_file.stat().st_mtime_ns
            if mtime == self._file_mtime:
                return
            key = load_private_key(self.key_file)
        except (OSError, ValueError) as exc:
            # Mid-replacement or broken: keep signing with the key we have (partners still trust
            # it during the overlap) rather than stop sending.
            log.error("signing key file %s unreadable, keeping key %s: %s", self.key_file, self.key_id, exc)
            return
        self.key, self.key_id, self._file_mtime = key, key_id_of(self.province, key), mtime
        log.info("province %s now signs with key %s", self.province, self.key_id)

    def headers_for(self, to_province: str, body: bytes) -> dict[str, str]:
        self._refresh()
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
    not_before: datetime | None = None
    not_after: datetime | None = None  # None: until a later registry edit ends it


def _public_key(b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))


def keys_of(registry: PartnerRegistry) -> dict[str, TrustedKey]:
    return {
        key.key_id: TrustedKey(
            partner.code, key.alg, _public_key(key.public_key), key.not_before, key.not_after
        )
        for partner in registry.partners
        for key in partner.keys
    }


class TrustStore:
    """The partner provinces and their public keys this province accepts, by key id.

    ``partners`` None (a bare trust file) accepts any province that owns a listed key; from a
    registry it is the registry's province list, and anything else is refused by name.
    """

    def __init__(
        self,
        keys: dict[str, TrustedKey],
        *,
        partners: frozenset[str] | None = None,
        registry_file: Path | None = None,
        check_every: float = FILE_CHECK_SECONDS,
    ) -> None:
        self._keys = keys
        self._partners = partners
        self._registry_file = registry_file
        self._check_every = check_every
        self._file_mtime = 0
        self._checked_at = 0.0

    @classmethod
    def from_file(cls, path: Path | None) -> TrustStore:
        """The older trust file: ``{key id: {province, alg, public_key}}``, no windows."""
        if path is None or not path.exists():
            return cls({})
        raw: dict[str, dict[str, str]] = json.loads(path.read_text())
        keys = {
            key_id: TrustedKey(
                province=entry["province"], alg=entry["alg"], public_key=_public_key(entry["public_key"])
            )
            for key_id, entry in raw.items()
        }
        return cls(keys)

    @classmethod
    def from_registry(cls, path: Path, *, check_every: float = FILE_CHECK_SECONDS) -> TrustStore:
        """Trust as the registry file says, re-read when it changes. A missing file trusts no
        one until it appears; an unreadable one at start is an error (a typo must not start a
        province that silently dead-letters every partner event)."""
        store = cls({}, partners=frozenset(), registry_file=path, check_every=check_every)
        if path.exists():
            store._load(read_registry(path), path.stat().st_mtime_ns)
        return store

    @property
    def partners(self) -> frozenset[str] | None:
        return self._partners

    def _load(self, registry: PartnerRegistry, mtime: int) -> None:
        self._keys, self._partners, self._file_mtime = keys_of(registry), frozenset(registry.codes), mtime

    def reload_if_changed(self, *, force: bool = False) -> None:
        path = self._registry_file
        if path is None or (not force and time.monotonic() - self._checked_at < self._check_every):
            return
        self._checked_at = time.monotonic()
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._file_mtime:
                return
            registry = read_registry(path)
            self._load(registry, mtime)
        except (OSError, ValueError, ValidationError) as exc:
            # Keep the last good registry: a half-made edit must not drop every partner.
            log.error("partner registry %s unreadable, keeping the previous one: %s", path, exc)
            return
        log.info("partner registry %s reloaded: partners %s", path, sorted(self._partners or ()))

    def verify(
        self,
        headers: dict[str, Any],
        body: bytes,
        *,
        my_province: str,
        claimed_province: str,
        now: datetime | None = None,
    ) -> None:
        """Raise ``UntrustedEvent`` unless the body was signed for us by the province it claims,
        with a key valid at ``now`` (default: the current time)."""
        self.reload_if_changed()
        key_id = headers.get(KEY_ID_HEADER)
        signature_b64 = headers.get(SIGNATURE_HEADER)
        if self._partners is not None and claimed_province not in self._partners:
            self.reload_if_changed(force=True)  # a partner added a moment ago
        if self._partners is not None and claimed_province not in self._partners:
            raise UntrustedEvent(f"province {claimed_province} is not a configured partner province")
        if not key_id or not signature_b64:
            raise UntrustedEvent("unsigned: no signature or key id header")
        key = self._keys.get(str(key_id))
        if key is None:
            # The partner may have just published a rotated key: look before refusing.
            self.reload_if_changed(force=True)
            key = self._keys.get(str(key_id))
        if key is None:
            raise UntrustedEvent(
                f"unknown signing key {key_id!r} (event claims province {claimed_province}): "
                "not a trusted partner key"
            )
        if headers.get(ALG_HEADER) != key.alg or key.alg != ED25519:
            raise UntrustedEvent(f"algorithm {headers.get(ALG_HEADER)!r} does not match key {key_id!r}")
        if key.province != claimed_province:
            raise UntrustedEvent(
                f"key {key_id!r} belongs to province {key.province}, event claims {claimed_province}"
            )
        moment = now or datetime.now(UTC)
        if key.not_before is not None and moment < key.not_before:
            raise UntrustedEvent(
                f"key {key_id!r} of province {key.province} is not valid before {key.not_before.isoformat()}"
            )
        if key.not_after is not None and moment > key.not_after:
            raise UntrustedEvent(
                f"key {key_id!r} of province {key.province} expired at {key.not_after.isoformat()}"
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
