"""GCJ-02 ↔ WGS-84: the published forward transform and its fixed-point inverse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.gcj02 import gcj02_to_wgs84, outside_china, to_wgs84, wgs84_to_gcj02
from services.checkin.domain.geofence import distance_m

# Mainland China, well inside the algorithm's bounding box.
china_lat = st.floats(min_value=18.0, max_value=53.0)
china_lon = st.floats(min_value=74.0, max_value=134.0)


def test_forward_matches_the_published_vector() -> None:
    # The example every implementation of the public algorithm quotes (Tiananmen).
    assert wgs84_to_gcj02(39.915, 116.404) == (39.91640428150164, 116.41024449916938)


@given(china_lat, china_lon)
def test_inverse_returns_the_original_position_to_a_millimetre(lat: float, lon: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert distance_m(lat, lon, *back) < 0.001


@given(china_lat, china_lon)
def test_the_shift_is_the_tens_to_hundreds_of_metres_maps_show(lat: float, lon: float) -> None:
    shift = distance_m(lat, lon, *wgs84_to_gcj02(lat, lon))
    assert 1.0 < shift < 1000.0


@given(st.floats(min_value=-60.0, max_value=60.0), st.floats(min_value=-179.0, max_value=71.0))
def test_no_shift_outside_china(lat: float, lon: float) -> None:
    assert outside_china(lat, lon)
    assert wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert gcj02_to_wgs84(lat, lon) == (lat, lon)


def test_to_wgs84_converts_only_gcj02_and_refuses_unknown_datums() -> None:
    assert to_wgs84(34.7466, 113.6253, "WGS-84") == (34.7466, 113.6253)
    assert to_wgs84(*wgs84_to_gcj02(34.7466, 113.6253), "GCJ-02") == pytest.approx(
        (34.7466, 113.6253), abs=1e-9
    )
    with pytest.raises(ValueError, match="BD-09"):
        to_wgs84(34.7, 113.6, "BD-09")
