"""A fix against a school's campuses: inside, outside, or straddling the boundary, in metres."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.gcj02 import wgs84_to_gcj02
from services.checkin.domain.geofence import CampusFence, LocalProjection, Where, distance_m

LAT, LON = 34.7466, 113.6253
HALF = 0.003  # degrees: the square is about 660 m north–south and 550 m east–west


def square(
    lat: float = LAT, lon: float = LON, half: float = HALF, datum: str = "WGS-84"
) -> dict[str, object]:
    corners = [
        (lat - half, lon - half),
        (lat - half, lon + half),
        (lat + half, lon + half),
        (lat + half, lon - half),
    ]
    if datum == "GCJ-02":
        corners = [wgs84_to_gcj02(a, b) for a, b in corners]
    ring = [[b, a] for a, b in corners] + [[corners[0][1], corners[0][0]]]
    return {"type": "Polygon", "coordinates": [ring]}


FENCE = CampusFence.of([(square(), "WGS-84")])
NORTH_EDGE_M = HALF * LocalProjection.at(LAT, LON).metres_per_deg_lat


def north(metres: float) -> tuple[float, float]:
    """A position ``metres`` north of the campus centre."""
    return LAT + metres / LocalProjection.at(LAT, LON).metres_per_deg_lat, LON


def test_local_projection_agrees_with_the_great_circle_at_campus_scale() -> None:
    projection = LocalProjection.at(LAT, LON)
    x, y = projection.to_xy(LAT + 0.004, LON + 0.005)
    assert math.hypot(x, y) == pytest.approx(distance_m(LAT, LON, LAT + 0.004, LON + 0.005), abs=1.5)


@given(st.floats(min_value=0.0, max_value=0.9), st.floats(min_value=0.0, max_value=50.0))
def test_a_circle_well_inside_is_inside(fraction: float, accuracy: float) -> None:
    lat, lon = north(fraction * (NORTH_EDGE_M - 60.0))
    placement = FENCE.place(lat, lon, accuracy)
    assert placement.where is Where.INSIDE
    assert placement.centre_inside


@given(st.floats(min_value=1.0, max_value=200.0), st.floats(min_value=0.0, max_value=1.0))
def test_a_circle_reaching_over_the_fence_straddles(accuracy: float, share: float) -> None:
    # The centre anywhere closer to the north edge than the accuracy radius, on either side.
    offset = (share * 2 - 1) * accuracy * 0.99
    placement = FENCE.place(*north(NORTH_EDGE_M + offset), accuracy)
    assert placement.where is Where.STRADDLES
    assert placement.distance_m == pytest.approx(abs(offset), abs=0.2)


@given(st.floats(min_value=0.0, max_value=500.0))
def test_a_circle_wholly_outside_is_outside(accuracy: float) -> None:
    placement = FENCE.place(*north(NORTH_EDGE_M + accuracy + 5.0), accuracy)
    assert placement.where is Where.OUTSIDE
    assert not placement.centre_inside


def test_a_school_with_two_campuses_is_inside_either() -> None:
    fence = CampusFence.of([(square(), "WGS-84"), (square(LAT + 0.05, LON + 0.05), "WGS-84")])
    assert fence.place(LAT + 0.05, LON + 0.05, 10).where is Where.INSIDE
    assert fence.place(LAT + 0.025, LON + 0.025, 10).where is Where.OUTSIDE


def test_a_multipolygon_with_a_hole_excludes_the_hole() -> None:
    outer = square()["coordinates"][0]  # type: ignore[index]
    hole = square(half=0.001)["coordinates"][0][::-1]  # type: ignore[index]
    fence = CampusFence.of([({"type": "MultiPolygon", "coordinates": [[outer, hole]]}, "WGS-84")])
    assert fence.place(LAT, LON, 5).where is Where.OUTSIDE
    assert fence.place(*north(200.0), 5).where is Where.INSIDE


def test_a_boundary_drawn_in_gcj02_lands_where_the_wgs84_one_is() -> None:
    # The GCJ-02 numbers of the same square sit about 130 m south and 550 m east of the WGS-84
    # ones: without the conversion both probes below would be outside the campus.
    fence = CampusFence.of([(square(datum="GCJ-02"), "GCJ-02")])
    assert fence.place(*north(NORTH_EDGE_M - 3.0), 0).where is Where.INSIDE
    assert fence.place(*north(NORTH_EDGE_M + 3.0), 0).where is Where.OUTSIDE
    assert fence.place(*north(-NORTH_EDGE_M + 3.0), 0).where is Where.INSIDE


def test_other_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="Polygon"):
        CampusFence.of([({"type": "Point", "coordinates": [LON, LAT]}, "WGS-84")])
