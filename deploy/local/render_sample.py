"""The sample certificate under ``docs/certificates/``: a fictional student, 王𬌗 (a name with an
Extension E character, the case that breaks fonts without full CJK coverage), rendered by the
service's own renderer as issued (no draft watermark), with a drawn stand-in for an ID photo so
no real person's face is committed.

    python -m deploy.local.render_sample docs/certificates

writes ``sample-certificate.pdf`` and ``sample-certificate.png`` (the page at 100 dpi, by
poppler's pdftoppm, as a reader of the docs sees it).
"""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw

from services.certificates.domain.certificate_face import qr_claims
from services.certificates.domain.certificate_number import Series, compose
from services.certificates.printing.face import CertificateFace, PrintLayout, RenderItem
from services.certificates.printing.render import CertificateRenderer
from services.certificates.signing.qr_payload import seal
from shared.signing import key_id_of

# A fixed, published key: the sample's QR verifies against it and nothing else trusts it.
SAMPLE_PAYLOAD_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
SAMPLE_VERIFY_URL = "HTTPS://VERIFY.XUEJI.EXAMPLE/C/"

SAMPLE_FACE = CertificateFace(
    kind="graduation",
    number=compose(2027, "410102", "4141010001", Series.graduation, 4821),
    name="王𬌗",
    sex="M",
    birth_date=date(2009, 5, 1),
    id_number="41010220090501123X",
    study_start=date(2024, 9, 1),
    study_end=date(2027, 6, 30),
    major_name="计算机应用",
    skill_direction="网络技术",
    study_length=3,
    study_form="full_time",
    outcome="graduated",
    school_name="郑州市信息技术中等职业学校",
    issued_on=date(2027, 6, 11),
    issuer="河南省教育厅",
)


def sample_qr_text() -> str:
    """A real sealed payload (COSE_Sign1, Ed25519 signatures are deterministic, so the sample
    does not change between runs) under the sample key."""
    kid = key_id_of("41", SAMPLE_PAYLOAD_KEY)
    return seal(qr_claims(SAMPLE_FACE, "41"), SAMPLE_PAYLOAD_KEY, kid, base_url=SAMPLE_VERIFY_URL)


def stand_in_photo() -> bytes:
    """A 2-inch ID photo's proportions and blue background, with a drawn head and shoulders."""
    image = Image.new("RGB", (330, 480), (67, 142, 219))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 330, 290, 600), fill=(40, 48, 64))  # shoulders
    draw.rectangle((140, 270, 190, 350), fill=(226, 192, 164))  # neck
    draw.ellipse((95, 110, 235, 290), fill=(236, 204, 176))  # face
    draw.chord((88, 90, 242, 230), 180, 360, fill=(30, 30, 34))  # hair
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def write_sample(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    pdf_path, png_path = directory / "sample-certificate.pdf", directory / "sample-certificate.png"
    with CertificateRenderer() as renderer:
        item = RenderItem(face=SAMPLE_FACE, qr_text=sample_qr_text(), photo=stand_in_photo())
        pdf_path.write_bytes(renderer.render_one(item, PrintLayout(draft=False, photo_mode="id_photo")))
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", "-singlefile", str(pdf_path), str(png_path.with_suffix(""))],
        check=True,
    )
    return pdf_path, png_path


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m deploy.local.render_sample DIRECTORY")
    for path in write_sample(Path(sys.argv[1])):
        print(path)


if __name__ == "__main__":
    main()
