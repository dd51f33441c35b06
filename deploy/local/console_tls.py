"""The local certificate the demo's consoles serve HTTPS with, so a phone on the same network
can open the student page by this machine's name or address (a camera and a position need a
secure context; only ``localhost`` is one over plain HTTP).

A small certificate authority of its own signs one server certificate naming this machine:
``localhost``, its host name, ``<host>.local`` and its addresses. Install ``local-ca.pem`` on
the phone (or accept the warning once). Made once; remade when the machine's names changed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 825  # the longest server certificate lifetime phones accept


def machine_names() -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    host = socket.gethostname()
    names = sorted({"localhost", host, f"{host}.local"})
    addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = {ipaddress.ip_address("127.0.0.1")}
    with contextlib.suppress(OSError):  # no resolvable host name: the certificate still names localhost
        for info in socket.getaddrinfo(host, None):
            addresses.add(ipaddress.ip_address(info[4][0]))
    # The address other machines reach us by: the one the default route leaves from.
    # No route at all: the local names are all there is.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent by a UDP connect
        addresses.add(ipaddress.ip_address(probe.getsockname()[0]))
    return names, sorted(addresses, key=str)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "XueJi demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def _names_in(certificate_file: Path) -> set[str]:
    certificate = x509.load_pem_x509_certificate(certificate_file.read_bytes())
    sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in sans.get_values_for_type(x509.DNSName)} | {
        str(v) for v in sans.get_values_for_type(x509.IPAddress)
    }


def ensure_console_certificate(directory: Path) -> Path:
    """``console.pem``/``console.key`` under ``directory``, signed by ``local-ca.pem``; returns the
    CA certificate's path (what a phone installs)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = (
        directory / "local-ca.pem",
        directory / "console.pem",
        directory / "console.key",
    )
    names, addresses = machine_names()
    wanted = set(names) | {str(a) for a in addresses}
    if cert_file.exists() and key_file.exists() and ca_file.exists() and _names_in(cert_file) >= wanted:
        return ca_file
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"XueJi local CA ({socket.gethostname()})")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    alternative_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alternative_names += [x509.IPAddress(a) for a in addresses]
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(socket.gethostname()))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        # Phones and strict verifiers (RFC 5280 profiles) want the key identifiers linking the two.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key_file, server_key)
    cert_file.write_bytes(
        server.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca_file
