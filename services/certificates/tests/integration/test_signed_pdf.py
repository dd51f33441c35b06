"""The electronic certificate's PAdES signature: signed under the demo CA, verified, and refused
when its bytes, its page or its signer are not what the province issued."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typst
from asn1crypto import x509
from cryptography import x509 as pyca_x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from deploy.local.certificate_ca import CertificatePaths, ensure_demo_ca
from services.certificates.signing.pades import (
    FIELD_NAME,
    REASON,
    CertificatePdfSigner,
    SignedPdfRefused,
    load_trust_roots,
    verify_signed_pdf,
    verify_signed_pdf_async,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificatePaths:
    return ensure_demo_ca(tmp_path_factory.mktemp("ca"), "41")


@pytest.fixture(scope="module")
def signer(ca: CertificatePaths) -> CertificatePdfSigner:
    return CertificatePdfSigner.from_files(ca.signing_cert, ca.signing_key)


@pytest.fixture(scope="module")
def roots(ca: CertificatePaths) -> list[x509.Certificate]:
    return load_trust_roots(ca.root_cert)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    source = tmp_path_factory.mktemp("typ") / "one.typ"
    source.write_text("#set page(width: 120mm, height: 60mm)\n毕业证书 2026410102414101000112345678 张𬌗\n")
    result: bytes = typst.compile(str(source))
    return result


@pytest.fixture(scope="module")
def signed(signer: CertificatePdfSigner, pdf: bytes) -> bytes:
    return signer.sign(pdf)


def _signed_ranges(signed: bytes) -> list[tuple[int, int]]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert match is not None
    a, b, c, d = (int(group) for group in match.groups())
    return [(a, a + b), (c, c + d)]


def _flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


def test_verify_signed_pdf__signed_certificate_verifies(signed: bytes, roots: list[x509.Certificate]) -> None:
    report = verify_signed_pdf(signed, roots)
    assert (report.intact, report.valid, report.trusted) == (True, True, True)
    assert "province 41" in report.signer_subject
    assert report.modification_level == "NONE"
    assert report.field_name == FIELD_NAME
    assert report.signed_at is not None
    assert abs(report.signed_at - datetime.now(UTC)) < timedelta(minutes=10)


def test_sign__pades_profile_and_reason(signed: bytes) -> None:
    signature = PdfFileReader(io.BytesIO(signed), strict=False).embedded_regular_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == REASON


def test_sign__one_signer_signs_many(
    signer: CertificatePdfSigner, pdf: bytes, roots: list[x509.Certificate]
) -> None:
    first, second = signer.sign(pdf), signer.sign(pdf)
    assert verify_signed_pdf(first, roots).valid
    assert verify_signed_pdf(second, roots).valid


async def test_sign_async__inside_the_event_loop(
    signer: CertificatePdfSigner, pdf: bytes, roots: list[x509.Certificate]
) -> None:
    report = await verify_signed_pdf_async(await signer.sign_async(pdf), roots)
    assert report.trusted


def test_verify_signed_pdf__byte_changed_in_a_stream_refused_as_tampered(
    signed: bytes, pdf: bytes, roots: list[x509.Certificate]
) -> None:
    # A byte inside the first stream of the original revision: the file still parses, only the
    # digest can tell.
    start = signed.index(b"stream", signed.index(b" obj")) + len(b"stream\n") + 8
    assert start < len(pdf)
    with pytest.raises(SignedPdfRefused) as refused:
        verify_signed_pdf(_flip(signed, start), roots)
    assert refused.value.kind == "tampered"


@pytest.mark.parametrize(
    ("marker", "at"),
    [
        (b"/Type /Sig", 6),  # "/Type .Sig": pyHanko raised decimal.InvalidOperation
        (b"/Size", 2),  # "/Sjze" in the last trailer: pyHanko raised KeyError
    ],
)
def test_verify_signed_pdf__damaged_structure_refused_not_crashed(
    signed: bytes, roots: list[x509.Certificate], marker: bytes, at: int
) -> None:
    # Found by the property below; a crash here would be a 500 on the verification endpoint.
    with pytest.raises(SignedPdfRefused):
        verify_signed_pdf(_flip(signed, signed.rindex(marker) + at), roots)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_verify_signed_pdf__any_byte_changed_in_signed_range_refused(
    signed: bytes, roots: list[x509.Certificate], data: st.DataObject
) -> None:
    (a_start, a_end), (b_start, b_end) = _signed_ranges(signed)
    offset = data.draw(st.integers(a_start, a_end - 1) | st.integers(b_start, b_end - 1))
    with pytest.raises(SignedPdfRefused):
        verify_signed_pdf(_flip(signed, offset), roots)


def test_verify_signed_pdf__incremental_update_changing_the_page_refused(
    signed: bytes, roots: list[x509.Certificate]
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    overprint = writer.add_object(generic.StreamObject(stream_data=b"1 1 1 rg 0 0 200 200 re f"))
    # pyHanko leaves these two untyped.
    writer.add_stream_to_page(0, overprint)  # type: ignore[no-untyped-call]
    changed = io.BytesIO()
    writer.write(changed)  # type: ignore[no-untyped-call]
    assert changed.getvalue().startswith(signed)  # the signed revision itself is untouched
    with pytest.raises(SignedPdfRefused) as refused:
        verify_signed_pdf(changed.getvalue(), roots)
    assert refused.value.kind == "modified"


def test_verify_signed_pdf__signer_outside_the_trust_root_refused(
    tmp_path: Path, pdf: bytes, roots: list[x509.Certificate]
) -> None:
    stranger = ensure_demo_ca(tmp_path / "other-ca", "41")
    forged = CertificatePdfSigner.from_files(stranger.signing_cert, stranger.signing_key).sign(pdf)
    with pytest.raises(SignedPdfRefused) as refused:
        verify_signed_pdf(forged, roots)
    assert refused.value.kind == "untrusted"
    # …and it does verify for whoever trusts that other root: the refusal is about trust.
    assert verify_signed_pdf(forged, load_trust_roots(stranger.root_cert)).trusted


def test_verify_signed_pdf__unsigned_pdf_refused(pdf: bytes, roots: list[x509.Certificate]) -> None:
    with pytest.raises(SignedPdfRefused) as refused:
        verify_signed_pdf(pdf, roots)
    assert refused.value.kind == "unsigned"


def test_verify_signed_pdf__not_a_pdf_refused(roots: list[x509.Certificate]) -> None:
    with pytest.raises(SignedPdfRefused) as refused:
        verify_signed_pdf(b"%PDF-1.7\nnothing else", roots)
    assert refused.value.kind == "unreadable"


def test_ensure_demo_ca__second_run_keeps_every_file(tmp_path: Path) -> None:
    first = ensure_demo_ca(tmp_path, "41")
    before = {path: path.read_bytes() for path in vars(first).values()}
    second = ensure_demo_ca(tmp_path, "41")
    assert {path: path.read_bytes() for path in vars(second).values()} == before


def test_ensure_demo_ca__new_root_reissues_the_signing_certificate(tmp_path: Path) -> None:
    first = ensure_demo_ca(tmp_path, "41")
    old_signing = first.signing_cert.read_bytes()
    first.root_key.unlink()
    again = ensure_demo_ca(tmp_path, "41")
    assert again.signing_cert.read_bytes() != old_signing
    signing, root = pyca_x509.load_pem_x509_certificates(again.signing_cert.read_bytes())
    signing.verify_directly_issued_by(pyca_x509.load_pem_x509_certificate(again.root_cert.read_bytes()))
    assert root.subject == signing.issuer


def test_ensure_demo_ca__keys_private_to_the_owner(tmp_path: Path) -> None:
    paths = ensure_demo_ca(tmp_path, "41")
    for key in (paths.root_key, paths.signing_key, paths.payload_key):
        assert key.stat().st_mode & 0o077 == 0


def test_ensure_demo_ca__province_code_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ensure_demo_ca(tmp_path, "henan")
