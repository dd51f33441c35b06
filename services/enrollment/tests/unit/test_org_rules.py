"""Organisation data rules: GB/T 2260 codes, campus boundaries, temporary numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.campus_boundary import boundary_problems
from services.enrollment.domain.region_code import InvalidRegionCode, level_of, parent_of, tree_code

SQUARE = [[117.076, 36.665], [117.08, 36.665], [117.08, 36.668], [117.076, 36.668], [117.076, 36.665]]


def test_tree_code__six_digit_forms_fold() -> None:
    assert [tree_code(c) for c in ("410000", "410100", "410102", "4101", "41")] == [
        "41",
        "4101",
        "410102",
        "4101",
        "41",
    ]
    assert level_of("4101") == "city" and parent_of("410102") == "4101" and parent_of("41") is None


@pytest.mark.parametrize("bad", ["4", "41010", "4100", "000102", "4100x2", "４１０１"])
def test_tree_code__malformed_refused(bad: str) -> None:
    with pytest.raises(InvalidRegionCode):
        tree_code(bad)


def test_boundary_problems__a_campus_square_is_fine() -> None:
    assert boundary_problems({"type": "Polygon", "coordinates": [SQUARE]}) == []
    assert boundary_problems({"type": "MultiPolygon", "coordinates": [[SQUARE]]}) == []


@pytest.mark.parametrize(
    ("geojson", "words"),
    [
        ({"type": "Point", "coordinates": [117.0, 36.0]}, "Polygon"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[36.665, 117.076], [36.665, 117.08], [36.668, 117.08], [36.665, 117.076]]],
            },
            "中国",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[117, 36], [117.1, 36.1], [117.1, 36], [117, 36.1], [117, 36]]],
            },
            "无效",
        ),
        ({"type": "Polygon", "coordinates": [[[117, 36]]]}, "GeoJSON"),
        ({"type": "Polygon", "coordinates": "x"}, "GeoJSON"),
        ({"type": "Polygon", "coordinates": [[[110, 30], [115, 30], [115, 35], [110, 30]]]}, "过大"),
    ],
)
def test_boundary_problems__bad_boundaries_named(geojson: dict[str, object], words: str) -> None:
    problems = boundary_problems(geojson)
    assert problems and any(words in p for p in problems)


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=3), lambda c: st.lists(c, max_size=4), max_leaves=20
    )
)
def test_boundary_problems__never_raises_on_junk(coordinates: object) -> None:
    assert boundary_problems({"type": "Polygon", "coordinates": coordinates}) != []
