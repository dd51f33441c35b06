"""The electronic certificate (电子证照, seed 004 art. 1): a PDF signed with the province's
signing certificate, and the check that refuses a tampered or altered one.

Profile: PAdES baseline B-B (ETSI EN 319 142-1): a CAdES detached signature (SubFilter
``ETSI.CAdES.detached``) with the signing-certificate-v2 attribute and the chain embedded, no
timestamp. B-T and beyond need a timestamping authority the province does not run yet. The
consequence: ``verify_signed_pdf`` judges the chain at the present moment, so a signature stops
verifying when the signing certificate expires or is revoked. A certificate's decades-long
verifiability rests on the QR payload and the register, not on the PDF, until the province adds
a TSA and moves to B-LTA (pyHanko does both).

pyHanko's plain functions wrap its coroutines in ``asyncio.run``, which fails inside a running
event loop: in the service use ``sign_async`` / ``verify_signed_pdf_async``, in a worker
process or thread the plain ones. ``CertificatePdfSigner`` loads the key and chain once; build
it once per process and reuse it for every certificate.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from asn1crypto import x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pyhanko.keys import load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

FIELD_NAME = "XueJiCertificateSignature"
REASON = "电子毕业证书"
# What may follow our signature: nothing, or what long-term archival adds (a document security
# store, document timestamps). Form filling, extra signatures, annotations and page changes are
# all refused: nobody has a reason to change an issued certificate.
ALLOWED_AFTER_SIGNING = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)

RefusalKind = Literal["unreadable", "unsigned", "tampered", "modified", "untrusted", "invalid"]


class SignedPdfRefused(Exception):
    """A PDF that is not an intact, trusted electronic certificate; ``kind`` is stable."""

    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(reason)
        self.kind: RefusalKind = kind
        self.reason = reason


@dataclass(frozen=True)
class SignedPdfReport:
    intact: bool
    valid: bool
    trusted: bool
    signer_subject: str
    signed_at: datetime | None  # the signer's own /M time: B-B has no trusted timestamp
    modification_level: str  # "NONE", or "LTA_UPDATES" after archival updates
    field_name: str


class _PreloadedKeySigner(SimpleSigner):
    """pyHanko's SimpleSigner parses its key again for every signature; for RSA that re-runs
    OpenSSL's key check, about 55 ms here, twice per PDF (the size estimate signs too): over
    100 ms a certificate, where the whole budget is about 23 ms (85/s on 2 cores). A key
    parsed once signs in 0.7 ms."""

    def __init__(self, *, private_key: PrivateKeyTypes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self._private_key
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, RSAPrivateKey):
            return key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        if mechanism == "ecdsa" and isinstance(key, EllipticCurvePrivateKey):
            return key.sign(data, ECDSA(get_pyca_cryptography_hash(digest_algorithm)))
        result: bytes = super().sign_raw(data, digest_algorithm)  # others (PSS, EdDSA): pyHanko's way
        return result


class CertificatePdfSigner:
    """Signs certificate PDFs with one province signing certificate; reusable and cheap per call."""

    def __init__(self, signer: SimpleSigner, *, field_name: str = FIELD_NAME, reason: str = REASON) -> None:
        metadata = PdfSignatureMetadata(
            field_name=field_name,
            reason=reason,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        self._pdf_signer = PdfSigner(metadata, signer)
        # Room for the CMS, fixed once: left unset, pyHanko sizes it by signing a dummy first,
        # half the cost of every signature. The embedded chain dominates the CMS; 2 KiB more
        # holds the signature, the signed attributes and the signer id even for a 4096-bit key
        # (about 1.2 KiB). pyHanko counts the reserve in hex digits: twice the CMS bytes. Too
        # little fails the signing loudly, never a PDF.
        chain = [signer.signing_cert, *signer.cert_registry]
        self._bytes_reserved = 2 * (2048 + sum(len(certificate.dump()) for certificate in chain))

    @classmethod
    def from_files(cls, cert_file: Path, key_file: Path) -> CertificatePdfSigner:
        """``cert_file``: the signing certificate first, then its chain (all embedded in each
        PDF so a verifier needs only the root); ``key_file``: its unencrypted PEM key."""
        certificates = _certificates(cert_file)
        if not certificates:
            raise ValueError(f"{cert_file} holds no certificate")
        # pyHanko leaves the store's constructor untyped.
        chain = SimpleCertificateStore.from_certs(certificates[1:])  # type: ignore[no-untyped-call]
        signer = _PreloadedKeySigner(
            private_key=serialization.load_pem_private_key(key_file.read_bytes(), password=None),
            signing_cert=certificates[0],
            signing_key=load_private_key_from_pemder(str(key_file), passphrase=None),
            cert_registry=chain,
        )
        return cls(signer)

    def sign(self, pdf: bytes) -> bytes:
        """Outside an event loop (a worker process or thread)."""
        return asyncio.run(self.sign_async(pdf))

    async def sign_async(self, pdf: bytes) -> bytes:
        output = io.BytesIO()
        # Strict parsing: the PDF is our own (Typst, PDF/A-2b included, passes), and a
        # malformed one should fail here rather than be signed.
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        await self._pdf_signer.async_sign_pdf(writer, bytes_reserved=self._bytes_reserved, output=output)
        return output.getvalue()


def _certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file, as the asn1crypto objects pyHanko takes."""
    return [
        x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
        for certificate in pyca_x509.load_pem_x509_certificates(path.read_bytes())
    ]


def load_trust_roots(path: Path) -> list[x509.Certificate]:
    return _certificates(path)


def verify_signed_pdf(pdf: bytes, trust_roots: Sequence[x509.Certificate]) -> SignedPdfReport:
    """Outside an event loop; see ``verify_signed_pdf_async``."""
    return asyncio.run(verify_signed_pdf_async(pdf, trust_roots))


def _first_signature(pdf: bytes) -> Any:
    try:
        # Lenient parsing: the signature digest, not the parser, decides what was tampered with.
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
    except Exception as exc:
        # Broad on purpose: on a damaged file pyHanko's parser raises its own errors but also
        # AssertionError, KeyError, TypeError… and a damaged file is a refusal, never a 500.
        raise SignedPdfRefused("unreadable", f"not a readable PDF: {exc!r}") from exc
    if not signatures:
        raise SignedPdfRefused("unsigned", "the PDF carries no signature")
    # The earliest signature is the issuer's; anything signed after it counts as a modification.
    return signatures[0]


async def verify_signed_pdf_async(pdf: bytes, trust_roots: Sequence[x509.Certificate]) -> SignedPdfReport:
    """The report on the issuer's signature if the PDF is byte-for-byte what was signed (or
    only archival updates follow), the signature is valid and its certificate chains to one of
    ``trust_roots``; ``SignedPdfRefused`` otherwise."""
    embedded = _first_signature(pdf)
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    try:
        status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
    except Exception as exc:
        # Broad for the same reason as in _first_signature: the bytes are the caller's.
        raise SignedPdfRefused("invalid", f"the signature cannot be validated: {exc!r}") from exc
    if not status.intact:
        raise SignedPdfRefused("tampered", "the signed bytes were changed after signing")
    if not status.valid:
        raise SignedPdfRefused("invalid", "the signature does not match the signing certificate")
    level = status.modification_level
    if level is None or level not in ALLOWED_AFTER_SIGNING:
        shown = level.name if level is not None else "undetermined"
        raise SignedPdfRefused("modified", f"the PDF was changed after signing (modification level {shown})")
    if not status.trusted:
        raise SignedPdfRefused(
            "untrusted",
            f"signer {status.signing_cert.subject.human_friendly!r} does not chain to a trusted root",
        )
    return SignedPdfReport(
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        signer_subject=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        modification_level=level.name,
        field_name=embedded.field_name,
    )
