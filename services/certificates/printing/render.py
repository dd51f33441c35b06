"""Certificates and graduate lists as PDFs through Typst, and the graduate list as xlsx.

One warm ``typst.Compiler`` per renderer and per template: fonts are loaded once, and Typst's
memoisation reuses the layout of everything that did not change between certificates (the
template, the labels), which is what makes a full single-certificate PDF cost milliseconds.
STACK.md: the template is given as a file path (a bytes template only compiles once) and each
certificate's data travels as JSON in ``sys_inputs``, never pasted into markup.

Typst reads images only from files under its root, so each renderer owns a temporary directory
holding a copy of the templates and the photos and QR symbols of the batch being rendered. They
go to fixed names (``photos/<position>.<ext>``, ``qr/<position>.png``) rather than one name per
student: the compiler's world keeps what it read per path, and a name per student could grow a
long-running worker by ~30 KB per certificate. Typst re-reads a file whose content changed since
the previous compile (a test renders three photos in turn under one name).

A renderer is not for concurrent use (shared photo names, one compiler); a lock serialises
callers that share one, and throughput comes from one renderer per worker process (a compile
kept one core busy in the measurements).

PDF/A-2b: on. Fonts are embedded and subset (archival requirement, and what lets any viewer show
a rare name character such as 𬌗); the photo is a JPEG or PNG (PDF/A refuses PDF images, which
are never accepted as photos here); the QR is a PNG; the draft watermark's transparency is
allowed from PDF/A-2 on. STACK.md measured no cost for it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import typst

from services.certificates.printing.coverage import NOTO_CJK_DIR
from services.certificates.printing.face import (
    GRADUATE_LIST_HEADER,
    GraduateListRow,
    PrintLayout,
    RenderItem,
    certificate_fields,
    chinese_date,
    graduate_list_cells,
    graduate_list_title,
)
from services.certificates.printing.qr import qr_png
from shared.xlsx import workbook_bytes

TEMPLATES = Path(__file__).parent / "templates"
# Typst's bundled Latin fonts and the system's others are left out (coverage.NOTO_CJK_DIR only), so
# no glyph can silently come from a font without the CJK coverage.
PDF_STANDARD: Final = "a-2b"

_PHOTO_SIGNATURES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))


def photo_extension(photo: bytes) -> str:
    """The file type Typst is told, from the photo's own signature; only JPEG and PNG are
    accepted (PDF/A-2b embeds both as they are)."""
    for signature, extension in _PHOTO_SIGNATURES:
        if photo.startswith(signature):
            return extension
    raise ValueError("the photo is neither a JPEG nor a PNG")


class CertificateRenderer:
    def __init__(self, *, font_dir: Path = NOTO_CJK_DIR) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="xueji-print-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, True)
        for template in TEMPLATES.glob("*.typ"):
            shutil.copy(template, self._root / template.name)
        (self._root / "photos").mkdir()
        (self._root / "qr").mkdir()
        self._fonts = typst.Fonts(
            include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(font_dir)]
        )
        self._certificates = self._compiler("certificate.typ")
        self._graduate_list: typst.Compiler | None = None  # rarely used: made on first list
        self._lock = threading.Lock()

    def _compiler(self, template: str) -> typst.Compiler:
        return typst.Compiler(input=str(self._root / template), root=str(self._root), font_paths=self._fonts)

    def close(self) -> None:
        self._cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def render_one(self, item: RenderItem, layout: PrintLayout) -> bytes:
        """One certificate, one PDF: the file kept per student, which becomes the electronic
        certificate; it is tagged (structure for screen readers, ~7 KB)."""
        return self._render([item], layout, tagged=True)

    def render_many(self, items: Sequence[RenderItem], layout: PrintLayout) -> bytes:
        """One PDF, one page per certificate in the given order: the printer's file. Untagged:
        nobody reads it on a screen, and tags cost time and ~7 KB a page."""
        return self._render(items, layout, tagged=False)

    def _render(self, items: Sequence[RenderItem], layout: PrintLayout, *, tagged: bool) -> bytes:
        if not items:
            raise ValueError("nothing to render")
        with self._lock:
            certificates = [self._certificate_input(i, item, layout) for i, item in enumerate(items)]
            data = {"layout": _layout_input(layout), "certificates": certificates}
            return _compile(self._certificates, data, tagged=tagged)

    def render_graduate_list(
        self, school_name: str, year: int, rows: Sequence[GraduateListRow], issued_on: date
    ) -> bytes:
        """The school's list of graduates (art. 18), to check, stamp with the school's seal and
        keep for good: one table over as many pages as needed, the header repeated on each,
        and the place for the seal after the last row."""
        with self._lock:
            if self._graduate_list is None:
                self._graduate_list = self._compiler("graduate_list.typ")
            data = {
                "title": graduate_list_title(school_name, year),
                "school_name": school_name,
                "issued_on": chinese_date(issued_on),
                "header": list(GRADUATE_LIST_HEADER),
                "rows": [graduate_list_cells(n, row) for n, row in enumerate(rows, start=1)],
            }
            return _compile(self._graduate_list, data, tagged=True)

    def _certificate_input(self, position: int, item: RenderItem, layout: PrintLayout) -> dict[str, Any]:
        photo = None
        if layout.photo_mode == "id_photo" and item.photo is not None:
            photo = self._write_photo(position, item.photo)
        qr = self._write(f"qr/{position}.png", qr_png(item.qr_text))
        return {"fields": certificate_fields(item.face), "qr": qr, "photo": photo}

    def _write_photo(self, position: int, photo: bytes) -> str:
        return self._write(f"photos/{position}.{photo_extension(photo)}", photo)

    def _write(self, name: str, content: bytes) -> str:
        (self._root / name).write_bytes(content)
        return name


def graduate_list_xlsx(
    school_name: str, year: int, rows: Sequence[GraduateListRow], issued_on: date
) -> bytes:
    """The same list as a workbook, for the school's own records and corrections."""
    heading = f"{graduate_list_title(school_name, year)}（{chinese_date(issued_on)}）"
    cells = (graduate_list_cells(n, row) for n, row in enumerate(rows, start=1))
    return workbook_bytes("毕业生名单", heading, GRADUATE_LIST_HEADER, cells)


def _layout_input(layout: PrintLayout) -> dict[str, Any]:
    return {
        "offset_x_mm": layout.offset_x_mm,
        "offset_y_mm": layout.offset_y_mm,
        "draft": layout.draft,
        "photo_mode": layout.photo_mode,
    }


def _compile(compiler: typst.Compiler, data: dict[str, Any], *, tagged: bool) -> bytes:
    pdf = compiler.compile(
        sys_inputs={"data": json.dumps(data, ensure_ascii=False)},
        pdf_standards=[PDF_STANDARD],
        pdf_tags=tagged,
    )
    if not isinstance(pdf, bytes):  # pragma: no cover - bytes whenever no output path is given
        raise TypeError("Typst returned no PDF")
    return pdf
