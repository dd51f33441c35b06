"""Writing a list as an xlsx workbook: a heading row saying what was exported, a header row,
the rows. Write-only mode keeps memory flat for a list of tens of thousands of rows."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cells(values: Iterable[Any]) -> list[Any]:
    """Text starting with = + - @ would be a formula in Excel (CSV/formula injection, OWASP):
    such a cell is written with a leading apostrophe, Excel's text marker."""
    return [f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in values]


def workbook_bytes(
    sheet_title: str, heading: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    sheet.append([heading])
    sheet.append(list(header))
    for row in rows:
        sheet.append(safe_cells(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
