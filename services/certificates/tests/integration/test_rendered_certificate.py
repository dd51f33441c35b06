"""A rendered certificate checked as a person would (issue 8): the PDF is read back with the tools
a printer's operator or a verifier has (poppler's pdffonts, pdftotext, pdfimages, pdfinfo;
pdftoppm to an image and zbarimg to read its QR). No database: printing is pure rendering."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from services.certificates.printing.face import GraduateListRow, PrintLayout, RenderItem
from services.certificates.printing.qr import qr_png
from services.certificates.printing.render import CertificateRenderer, graduate_list_xlsx, photo_extension
from services.certificates.tests.faces import FACE

FACES = Path("/work/shared/data/faces")
MM = 72 / 25.4  # PDF points per millimetre


def qr_text_for(seed: str) -> str:
    """A realistic verification URL: upper case (QR alphanumeric mode) with a ~250-character
    base32 payload, the size of a signed COSE claim set (STACK.md)."""
    payload = base64.b32encode(hashlib.shake_256(seed.encode()).digest(156)).decode().rstrip("=")
    return f"HTTPS://VERIFY.XUEJI.EXAMPLE/C/{payload}"


def id_photo(source: str, size: tuple[int, int] = (330, 480)) -> bytes:
    """A ~30 KB JPEG ID photo cut from a real portrait in the shared data."""
    with Image.open(FACES / source) as image:
        portrait = image.convert("RGB").resize(size)
    out = io.BytesIO()
    portrait.save(out, "JPEG", quality=85)
    return out.getvalue()


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def pdf_file(tmp_path: Path, pdf: bytes, name: str = "c.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def text_of(path: Path, *options: str) -> str:
    """The page text with whitespace removed: Typst spaces CJK from Latin ("2027 年 6 月"), a
    reader does not care."""
    return "".join(run("pdftotext", *options, str(path), "-").split())


def images_of(path: Path) -> list[tuple[int, int]]:
    """(width, height) of every image ``pdfimages -list`` shows."""
    rows = run("pdfimages", "-list", str(path)).splitlines()[2:]
    return [(int(row.split()[3]), int(row.split()[4])) for row in rows]


def word_box(path: Path, word: str) -> tuple[float, float]:
    """(xMin, yMin) of ``word`` in ``pdftotext -bbox`` output, in points."""
    html = run("pdftotext", "-bbox", str(path), "-")
    found = re.search(rf'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>{re.escape(word)}</word>', html)
    assert found, f"{word} not on the page"
    return float(found[1]), float(found[2])


@pytest.fixture(scope="module")
def renderer() -> Iterator[CertificateRenderer]:
    with CertificateRenderer() as warm:
        yield warm


@pytest.fixture(scope="module")
def photo() -> bytes:
    return id_photo("kit_harington/kit2.jpeg")


ISSUED = PrintLayout(draft=False, photo_mode="id_photo")


def test_rendered_certificate__fonts_embedded_and_subset(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(FACE, qr_text_for("a"), photo), ISSUED))
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "no fonts listed"
    for font in fonts:
        name, emb, sub, uni = font.split()[0], *font.split()[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), font
        assert re.match(r"[A-Z]{6}\+Noto(Serif|Sans)CJK", name), font


def test_rendered_certificate__text_holds_rare_name_number_and_every_field(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(FACE, qr_text_for("b"), photo), ISSUED))
    text = text_of(path)
    for printed in (
        "毕业证书",
        "王𬌗",
        "2027-410102-4141010001-0000123-45",
        "性别男",
        "出生日期2009年5月1日",
        "身份证号41010220090501123X",
        "学习起止年月2024年9月至2027年6月",
        "计算机应用（网络技术）",
        "学制三年",
        "学习形式全日制",
        "毕（结）业毕业",
        "郑州市信息技术中等职业学校",
        "河南省教育厅",
        "2027年6月11日",
        "准予毕业",
    ):
        assert printed in text, printed


def test_rendered_certificate__second_rare_name_prints_too(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    face = replace(FACE, name="李䶮", sex="F", number="2027-410102-4141010001-0000124-18")
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(face, qr_text_for("c"), photo), ISSUED))
    text = text_of(path)
    assert "李䶮" in text and "2027-410102-4141010001-0000124-18" in text and "性别女" in text


def test_rendered_certificate__qr_read_back_from_the_page_image(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    qr_text = qr_text_for("d")
    assert 280 <= len(qr_text) <= 300
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(FACE, qr_text, photo), ISSUED))
    run("pdftoppm", "-r", "200", "-png", "-singlefile", str(path), str(tmp_path / "page"))
    assert run("zbarimg", "--raw", "-q", str(tmp_path / "page.png")).rstrip("\n") == qr_text


def test_rendered_certificate__watermark_only_on_drafts(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    item = RenderItem(FACE, qr_text_for("e"), photo)
    draft = text_of(pdf_file(tmp_path, renderer.render_one(item, replace(ISSUED, draft=True)), "draft.pdf"))
    issued = text_of(pdf_file(tmp_path, renderer.render_one(item, ISSUED), "issued.pdf"))
    assert "草稿" in draft and "DRAFT" in draft
    assert "草稿" not in issued and "DRAFT" not in issued and "稿" not in issued
    assert "王𬌗" in draft and "王𬌗" in issued


def test_rendered_certificate__empty_frame_has_no_photo(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    item = RenderItem(FACE, qr_text_for("f"), photo)
    with_photo = pdf_file(tmp_path, renderer.render_one(item, ISSUED), "photo.pdf")
    frame = pdf_file(
        tmp_path, renderer.render_one(item, replace(ISSUED, photo_mode="empty_frame")), "frame.pdf"
    )
    qr_size = Image.open(io.BytesIO(qr_png(item.qr_text))).size
    assert sorted(images_of(with_photo)) == sorted([(330, 480), qr_size])
    assert images_of(frame) == [qr_size]  # the QR symbol is the only raster left
    assert "照片粘贴处" in text_of(frame) and "照片粘贴处" not in text_of(with_photo)


def test_rendered_certificate__no_photo_given_prints_the_empty_frame(
    renderer: CertificateRenderer, tmp_path: Path
) -> None:
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(FACE, qr_text_for("g"), None), ISSUED))
    assert len(images_of(path)) == 1
    assert "照片粘贴处" in text_of(path)


def test_rendered_certificate__photo_embedded_unchanged_and_replaced_under_the_same_name(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    """A warm renderer reuses the photo's file name; the second certificate must carry its own
    student's photo, byte for byte (JPEG is embedded as it is)."""
    other = id_photo("biden/biden1.jpg")
    for n, expected in enumerate((photo, other, photo)):
        path = pdf_file(tmp_path, renderer.render_one(RenderItem(FACE, qr_text_for("h"), expected), ISSUED))
        run("pdfimages", "-j", str(path), str(tmp_path / f"out{n}"))
        jpegs = sorted(tmp_path.glob(f"out{n}-*.jpg"))
        assert [p.read_bytes() for p in jpegs] == [expected]


def test_rendered_certificate__png_photo_accepted(renderer: CertificateRenderer, tmp_path: Path) -> None:
    png = io.BytesIO()
    Image.new("RGB", (330, 480), (200, 180, 160)).save(png, "PNG")
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(FACE, qr_text_for("i"), png.getvalue()), ISSUED))
    assert (330, 480) in images_of(path)


def test_photo_extension__only_jpeg_and_png() -> None:
    assert photo_extension(b"\xff\xd8\xff\xe0rest") == "jpg"
    assert photo_extension(b"\x89PNG\r\n\x1a\nrest") == "png"
    with pytest.raises(ValueError, match="neither"):
        photo_extension(b"%PDF-1.7")


def test_render_many__one_page_per_certificate_in_order(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    names = ["王𬌗", "李䶮", "张一帆", "刘雨桐", "陈子墨"]
    items = [
        RenderItem(
            replace(FACE, name=name, number=f"2027-410102-4141010001-000020{n}-00"), qr_text_for(name), photo
        )
        for n, name in enumerate(names)
    ]
    path = pdf_file(tmp_path, renderer.render_many(items, replace(ISSUED, draft=True)))
    assert re.search(r"^Pages:\s+5$", run("pdfinfo", str(path)), re.MULTILINE)
    for page, name in enumerate(names, start=1):
        text = text_of(path, "-f", str(page), "-l", str(page))
        assert name in text and f"000020{page - 1}-00" in text and "草稿" in text


def test_render_many__nothing_to_render_refused(renderer: CertificateRenderer) -> None:
    with pytest.raises(ValueError, match="nothing"):
        renderer.render_many([], ISSUED)


def test_rendered_certificate__offset_moves_the_content(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    item = RenderItem(FACE, qr_text_for("j"), photo)
    at_zero = pdf_file(tmp_path, renderer.render_one(item, ISSUED), "zero.pdf")
    moved = pdf_file(
        tmp_path, renderer.render_one(item, replace(ISSUED, offset_x_mm=10, offset_y_mm=-5)), "m.pdf"
    )
    x0, y0 = word_box(at_zero, FACE.number)
    x1, y1 = word_box(moved, FACE.number)
    assert x1 - x0 == pytest.approx(10 * MM, abs=0.05)
    assert y1 - y0 == pytest.approx(-5 * MM, abs=0.05)  # pdftotext measures y downwards, as the offset


def test_rendered_certificate__data_is_printed_never_run_as_markup(
    renderer: CertificateRenderer, photo: bytes, tmp_path: Path
) -> None:
    face = replace(FACE, name='#panic("x") *王* $a$', major_name="<b>计算机</b> // 注释")
    path = pdf_file(tmp_path, renderer.render_one(RenderItem(face, qr_text_for("k"), photo), ISSUED))
    text = text_of(path)
    assert '#panic("x")*王*$a$' in text and "<b>计算机</b>//注释" in text


def test_rendered_certificate__pdf_a_2b(renderer: CertificateRenderer, photo: bytes, tmp_path: Path) -> None:
    path = pdf_file(tmp_path, renderer.render_many([RenderItem(FACE, qr_text_for("l"), photo)], ISSUED))
    metadata = run("pdfinfo", "-meta", str(path))
    assert re.search(r"pdfaid:part[^0-9]*2", metadata) and re.search(r"pdfaid:conformance[^A-Z]*B", metadata)
    run("qpdf", "--check", str(path))


def test_qr_png__too_long_for_a_symbol_refused() -> None:
    with pytest.raises(ValueError, match="cannot be encoded"):
        qr_png("A" * 5000)


ROWS = [
    GraduateListRow(
        name=name,
        sex="M" if n % 2 else "F",
        id_number=f"4101022009050{n:04d}X"[:18],
        major_name="计算机应用",
        skill_direction="网络技术" if n % 3 else None,
        outcome="completed" if n == 7 else "graduated",
        certificate_number=f"2027-410102-4141010001-{n:07d}-00",
    )
    for n, name in enumerate(["王𬌗", "李䶮", *(f"学生{i}" for i in range(58))], start=1)
]


def test_graduate_list__pages_masked_ids_numbers_and_seal(
    renderer: CertificateRenderer, tmp_path: Path
) -> None:
    path = pdf_file(
        tmp_path, renderer.render_graduate_list("郑州市信息技术中等职业学校", 2027, ROWS, date(2027, 6, 11))
    )
    pages = int(re.search(r"^Pages:\s+(\d+)$", run("pdfinfo", str(path)), re.MULTILINE)[1])  # type: ignore[index]
    assert pages >= 2
    text = text_of(path)
    assert "郑州市信息技术中等职业学校2027年中等职业学校毕业生名单" in text
    assert "王𬌗" in text and "李䶮" in text and "学生57" in text
    for row in ROWS:
        assert row.certificate_number in text
        assert row.id_number not in text  # printed masked
    assert "4101**********001X" in text
    assert "学校（盖章）" in text and "共60人" in text
    last_page = text_of(path, "-f", str(pages), "-l", str(pages))
    assert "负责人（签字）" in last_page  # the seal and signature follow the last row
    assert "身份证号" in text_of(path, "-f", "2", "-l", "2")  # header repeated on each page
    for font in run("pdffonts", str(path)).splitlines()[2:]:
        assert font.split()[-5:-3] == ["yes", "yes"], font


def test_graduate_list_xlsx__same_rows_masked() -> None:
    book = load_workbook(
        io.BytesIO(graduate_list_xlsx("郑州市信息技术中等职业学校", 2027, ROWS, date(2027, 6, 11)))
    )
    sheet = book.active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "郑州市信息技术中等职业学校2027年中等职业学校毕业生名单（2027年6月11日）"
    assert rows[1] == ["序号", "姓名", "性别", "身份证号", "专业（专业技能方向）", "毕（结）业", "证书编号"]
    assert rows[2] == [
        "1",
        "王𬌗",
        "男",
        "4101**********001X",
        "计算机应用（网络技术）",
        "毕业",
        ROWS[0].certificate_number,
    ]
    assert rows[8][5] == "结业"
    assert len(rows) == 2 + len(ROWS)
