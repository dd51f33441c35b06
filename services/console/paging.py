"""How every list of the console pages: the URL's ``page`` as a number, and a page as the
services' ``limit``/``offset`` (or as a slice of rows the console already holds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

Row = TypeVar("Row")

# The services refuse offsets above 100 000; a list of bigger pages passes its own last page.
LAST_PAGE = 100_000


def page_number(raw: str | None, last: int = LAST_PAGE) -> int:
    """The ``page`` of the URL: anything but a number is the first page, a number past ``last``
    is ``last`` (an edited URL gets an empty page, not the service's refusal)."""
    try:
        number = int(raw or "1")
    except ValueError:
        return 1
    return max(1, min(number, last))


def offset(page: int, size: int) -> int:
    """Where page ``page`` (from 1) of ``size`` rows starts."""
    return (page - 1) * size


def paged(query: Mapping[str, Any], page: int, size: int) -> dict[str, Any]:
    """The service's query for one page of the list ``query`` selects."""
    return {**query, "limit": size, "offset": offset(page, size)}


def page_slice(rows: Sequence[Row], page: int, size: int) -> list[Row]:
    """One page of rows the console already holds (a list the service does not page)."""
    start = offset(page, size)
    return list(rows[start : start + size])
