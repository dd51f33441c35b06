"""A demo certificate authority for electronic certificates, and a province's keys under it.

python -m deploy.local.certificate_ca DIR --province 41

Makes, once (existing valid files are kept, so it can run on every start):

- ``DIR/root-ca.pem`` and ``root-ca.key.pem``: the demo root, what verifiers trust
  (``XUEJI_CERTIFICATE_TRUST_ROOTS_FILE``). A real province uses the certificate its CA issues.
- ``DIR/<province>/certificate-signing.pem`` (its certificate, then the root: the chain goes
  into every signed PDF) and ``certificate-signing.key.pem``: what signs the PDFs
  (``XUEJI_CERTIFICATE_SIGNING_CERT_FILE`` / ``_KEY_FILE``).
- ``DIR/<province>/certificate-payload.pem``: the Ed25519 key sealing QR payloads
  (``XUEJI_CERTIFICATE_PAYLOAD_KEY_FILE``).

RSA 2048 for the PDF signature, not ECDSA P-256, though P-256 signs faster: RSA with SHA-256 is
what every PDF signature validator handles (Acrobat/Reader, Foxit, poppler/NSS), while ECDSA
support came later and older readers lack it; an RSA signature costs about a millisecond, small
next to rendering the PDF.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from shared.signing import generate_private_key_file, load_private_key

ROOT_YEARS = 20
SIGNING_YEARS = 5
RSA_BITS = 2048


@dataclass(frozen=True)
class CertificatePaths:
    root_cert: Path  # the trust roots file
    root_key: Path
    signing_cert: Path  # signing certificate, then the root
    signing_key: Path
    payload_key: Path  # Ed25519, seals QR payloads


def paths_for(directory: Path, province: str) -> CertificatePaths:
    mine = directory / province
    return CertificatePaths(
        root_cert=directory / "root-ca.pem",
        root_key=directory / "root-ca.key.pem",
        signing_cert=mine / "certificate-signing.pem",
        signing_key=mine / "certificate-signing.key.pem",
        payload_key=mine / "certificate-payload.pem",
    )


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    # Write beside, then rename: a reader (a service starting) never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.write_bytes(data)
    if secret:
        staged.chmod(0o600)
    staged.replace(path)


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_rsa_key(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


def _load_first_certificate(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())[0]
    except (OSError, ValueError, IndexError):
        return None


def _same_key(certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> bool:
    return certificate.public_key() == key.public_key()


def _is_current(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc - timedelta(days=30)


def _ensure_root(paths: CertificatePaths, now: datetime) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _load_rsa_key(paths.root_key)
    certificate = _load_first_certificate(paths.root_cert)
    if (
        key is not None
        and certificate is not None
        and _same_key(certificate, key)
        and _is_current(certificate, now)
    ):
        return certificate, key
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "XueJi demo 学籍演示"),
            x509.NameAttribute(NameOID.COMMON_NAME, "XueJi demo root CA 学籍演示根证书"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * ROOT_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(paths.root_key, _private_pem(key), secret=True)
    _write(paths.root_cert, certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _ensure_signing(
    paths: CertificatePaths, province: str, root: x509.Certificate, root_key: rsa.RSAPrivateKey, now: datetime
) -> None:
    key = _load_rsa_key(paths.signing_key)
    certificate = _load_first_certificate(paths.signing_cert)
    if (
        key is not None
        and certificate is not None
        and _same_key(certificate, key)
        and _issued_by(certificate, root)
        and _is_current(certificate, now)
    ):
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"XueJi demo province {province}"),
                    x509.NameAttribute(
                        NameOID.COMMON_NAME,
                        f"电子证照签章 electronic certificates, province {province} (demo)",
                    ),
                ]
            )
        )
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=365 * SIGNING_YEARS), root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # non-repudiation (content commitment) is what pyHanko, like Acrobat, expects of a
            # document signing certificate.
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    _write(paths.signing_key, _private_pem(key), secret=True)
    chain = certificate.public_bytes(serialization.Encoding.PEM) + root.public_bytes(
        serialization.Encoding.PEM
    )
    _write(paths.signing_cert, chain)


def _ensure_payload_key(paths: CertificatePaths) -> None:
    try:
        load_private_key(paths.payload_key)
    except (OSError, ValueError):
        generate_private_key_file(paths.payload_key)


def ensure_demo_ca(directory: Path, province: str, *, now: datetime | None = None) -> CertificatePaths:
    """The demo root and ``province``'s signing certificate and payload key under
    ``directory``, made if missing, broken, expiring within 30 days or (for the signing
    certificate) not issued by the current root; otherwise left as they are."""
    if not (province.isdigit() and len(province) == 2):
        raise ValueError(f"province must be a two-digit GB/T 2260 code, not {province!r}")
    moment = now or datetime.now(UTC)
    paths = paths_for(directory, province)
    root, root_key = _ensure_root(paths, moment)
    _ensure_signing(paths, province, root, root_key, moment)
    _ensure_payload_key(paths)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--province", required=True, help="two-digit code, e.g. 41")
    args = parser.parse_args(argv)
    paths = ensure_demo_ca(args.directory, args.province)
    for label, path in vars(paths).items():
        print(f"{label}: {path}")


if __name__ == "__main__":
    main()
