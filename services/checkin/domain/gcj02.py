"""GCJ-02 (the "Mars" datum Chinese map SDKs report: AMap, Tencent, WeChat's ``gcj02``) and
WGS-84 (GPS, browsers). Campus boundaries and phone fixes may each be in either; check-in judges
everything in WGS-84 and converts at the edge (STACK.md "GCJ-02").

The forward transform is the published one. Its inverse has no closed form: the one-step
inverse most packages ship is off by up to about 5 m, so ``gcj02_to_wgs84`` iterates
``w ← w − (forward(w) − g)`` to a fixed point (under a micrometre in about four steps).
Outside mainland China the datum is not shifted, in either direction.
"""

from __future__ import annotations

import math
from typing import Literal

Datum = Literal["WGS-84", "GCJ-02"]
WGS84: Datum = "WGS-84"
GCJ02: Datum = "GCJ-02"

# Krasovsky 1940, the ellipsoid the GCJ-02 algorithm is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323

# Degrees; 1e-11° is about a micrometre — well below anything a phone reports.
_INVERSE_TOLERANCE_DEG = 1e-11
_INVERSE_MAX_STEPS = 12


def outside_china(lat: float, lon: float) -> bool:
    """The published algorithm's bounding box: no shift is applied outside it."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Where a GCJ-02 map shows a WGS-84 position, as (lat, lon)."""
    if outside_china(lat, lon):
        return lat, lon
    d_lat = _shift_lat(lon - 105.0, lat - 35.0)
    d_lon = _shift_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS-84 position a GCJ-02 one came from, as (lat, lon), by fixed-point iteration."""
    if outside_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(_INVERSE_MAX_STEPS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        d_lat, d_lon = g_lat - lat, g_lon - lon
        w_lat, w_lon = w_lat - d_lat, w_lon - d_lon
        if abs(d_lat) < _INVERSE_TOLERANCE_DEG and abs(d_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return w_lat, w_lon


def to_wgs84(lat: float, lon: float, datum: str) -> tuple[float, float]:
    """A position in ``datum`` (WGS-84 or GCJ-02) as WGS-84."""
    if datum == GCJ02:
        return gcj02_to_wgs84(lat, lon)
    if datum == WGS84:
        return lat, lon
    raise ValueError(f"unknown datum {datum!r}")
