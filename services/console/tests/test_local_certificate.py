"""The certificate the demo's console serves HTTPS with (deploy/local/console_tls.py): a phone
that installed the local CA accepts it for this machine's names and addresses, and it is made
once, not on every start."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.x509 import DNSName, IPAddress
from cryptography.x509.verification import PolicyBuilder, Store

from deploy.local.console_tls import ensure_console_certificate, machine_names


def _chain(directory: Path) -> tuple[x509.Certificate, Store]:
    leaf = x509.load_pem_x509_certificates((directory / "console.pem").read_bytes())[0]
    store = Store(x509.load_pem_x509_certificates((directory / "local-ca.pem").read_bytes()))
    return leaf, store


def test_the_certificate_verifies_for_every_name_of_this_machine(tmp_path: Path) -> None:
    ensure_console_certificate(tmp_path)
    leaf, store = _chain(tmp_path)
    names, addresses = machine_names()
    now = datetime.now(UTC)
    for name in names:
        verifier = PolicyBuilder().store(store).time(now).build_server_verifier(DNSName(name))
        verifier.verify(leaf, [])
    for address in addresses:
        verifier = PolicyBuilder().store(store).time(now).build_server_verifier(IPAddress(address))
        verifier.verify(leaf, [])
    assert socket.gethostname() in names
    assert ipaddress.ip_address("127.0.0.1") in addresses


def test_it_is_made_once(tmp_path: Path) -> None:
    ensure_console_certificate(tmp_path)
    first = (tmp_path / "console.pem").read_bytes()
    ensure_console_certificate(tmp_path)
    assert (tmp_path / "console.pem").read_bytes() == first
    assert (tmp_path / "console.key").stat().st_mode & 0o077 == 0


def test_another_name_is_refused(tmp_path: Path) -> None:
    ensure_console_certificate(tmp_path)
    leaf, store = _chain(tmp_path)
    verifier = (
        PolicyBuilder().store(store).time(datetime.now(UTC)).build_server_verifier(DNSName("evil.example"))
    )
    try:
        verifier.verify(leaf, [])
    except x509.verification.VerificationError:
        return
    raise AssertionError("a certificate for this machine verified for another name")
