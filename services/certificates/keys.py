"""The certificates service's keys: the Ed25519 key sealing QR payloads, the public keys a QR
payload is believed under, and the PAdES signer of electronic certificates.

The payload key is created on first use (0600), like the province's event-signing key, and named
``<province>-<sha8 of its public key>`` (shared/signing.py ``key_id_of``): a rotated key gets a
new id, and a payload names the key that sealed it. Two processes starting together on an empty
directory must not each make a key (one of them would seal QR codes nobody can open), so the new
key is written beside the target and linked into place: the loser of the race loads the winner's.

The PAdES signer exists only when the province's signing certificate and key are configured;
without them electronic certificates wait (the worker does not start) and the API answers 503
for a PDF it cannot yet have, instead of signing with something verifiers would refuse.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.certificates.signing.pades import CertificatePdfSigner
from shared.secret_files import create_once
from shared.settings import Settings
from shared.signing import key_id_of, load_private_key, private_key_pem


class KeysNotConfigured(RuntimeError):
    """A key the certificates service needs has no file configured."""


@dataclass(frozen=True)
class PayloadKey:
    kid: str
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``path``; made (0600) if the file does not exist yet."""
    if not path.exists():
        create_once(path, private_key_pem(Ed25519PrivateKey.generate()))
    return load_private_key(path)


def payload_key(settings: Settings) -> PayloadKey:
    """The key sealing this province's QR payloads; read again only when its file changes
    (verification asks for it on every request)."""
    path = settings.certificate_payload_key_file
    if path is None:
        raise KeysNotConfigured("XUEJI_CERTIFICATE_PAYLOAD_KEY_FILE is not set: QR payloads cannot be sealed")
    if not path.exists():
        load_or_create_key(path)
    return _payload_key(settings.province, path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _payload_key(province: str, path: Path, mtime_ns: int) -> PayloadKey:
    key = load_private_key(path)
    return PayloadKey(kid=key_id_of(province, key), key=key)


def trusted_payload_keys(settings: Settings) -> Mapping[str, Ed25519PublicKey]:
    """The keys a QR payload is believed under, by key id: this province's current key.

    Not yet: the province's retired keys (certificates sealed before a rotation stay readable
    only while their key is listed here) and partner provinces' keys (a registry like
    shared/partner_registry.py's, for verifying another province's certificate offline). Both
    are future work; until then a rotation must keep the old key file listed by hand."""
    current = payload_key(settings)
    return {current.kid: current.public_key}


class PdfSigner(Protocol):
    """Signs a finished PDF (PAdES) with the province's document-signing certificate."""

    def sign(self, pdf: bytes) -> bytes: ...


def pdf_signer(settings: Settings) -> CertificatePdfSigner | None:
    """The PAdES signer of electronic certificates; None when no signing certificate is
    configured (electronic certificates then wait). Half a configuration is an error: a
    certificate without its key (or the reverse) is a deployment mistake, not a choice."""
    cert_file, key_file = settings.certificate_signing_cert_file, settings.certificate_signing_key_file
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise KeysNotConfigured(
            "set both XUEJI_CERTIFICATE_SIGNING_CERT_FILE and XUEJI_CERTIFICATE_SIGNING_KEY_FILE, or neither"
        )
    return CertificatePdfSigner.from_files(cert_file, key_file)
