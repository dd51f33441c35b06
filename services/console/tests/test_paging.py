"""The one way the console's lists page: the URL's ``page``, and a page as ``limit``/``offset``
or as a slice of rows already held."""

from __future__ import annotations

import pytest

from services.console.pages.checkin_labels import LAST_PAGE as CHECKIN_LAST_PAGE
from services.console.pages.students_query import MAX_PAGE as STUDENTS_LAST_PAGE
from services.console.paging import LAST_PAGE, offset, page_number, page_slice, paged


@pytest.mark.parametrize(
    ("raw", "number"),
    [(None, 1), ("", 1), ("3", 3), ("0", 1), ("-4", 1), ("x", 1), ("9999999", LAST_PAGE)],
)
def test_page_numbers_are_clamped(raw: str | None, number: int) -> None:
    assert page_number(raw) == number


def test_a_list_of_bigger_pages_stops_at_its_own_last_page() -> None:
    """The services refuse offsets above 100 000: 5000 pages of 20 students, 2000 of 50 check-ins."""
    assert page_number("99999999", STUDENTS_LAST_PAGE) == STUDENTS_LAST_PAGE == 5000
    raws = (None, "", "x", "-4", "7", "99999")
    assert [page_number(raw, CHECKIN_LAST_PAGE) for raw in raws] == [1, 1, 1, 1, 7, 2000]


def test_pages_turn_into_offsets() -> None:
    assert offset(1, 50) == 0
    assert offset(3, 20) == 40
    assert paged({"kind": ["x"]}, 3, 20) == {"kind": ["x"], "limit": 20, "offset": 40}
    assert paged({}, 1, 50) == {"limit": 50, "offset": 0}


def test_the_page_slice() -> None:
    rows = list(range(45))
    assert page_slice(rows, 1, 20) == list(range(20))
    assert page_slice(rows, 3, 20) == list(range(40, 45))
    assert page_slice(rows, 4, 20) == []
