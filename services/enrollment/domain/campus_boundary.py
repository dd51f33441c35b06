"""A campus's registered boundary (DOMAIN.md "Organisation tree": each campus has a registered
address/boundary; check-ins are fenced by it). GeoJSON Polygon or MultiPolygon, longitude first,
with the datum stated: WGS-84 (GPS, browsers) or GCJ-02 (AMap, Tencent, WeChat) — STACK.md.
"""

from __future__ import annotations

from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.validation import explain_validity

# China's extent with a margin: a point outside is a swapped lat/lon or a typo.
_LON = (73.0, 136.0)
_LAT = (3.0, 54.0)
MAX_AREA_DEG2 = 0.05  # about 500 km²: more than any campus; catches a province pasted as a campus


def boundary_problems(geojson: dict[str, Any]) -> list[str]:
    """Reasons (Chinese) the boundary cannot be registered; empty when it is fine."""
    if geojson.get("type") not in ("Polygon", "MultiPolygon"):
        return ["边界应为 GeoJSON Polygon 或 MultiPolygon"]
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ShapelyError) as exc:
        return [f"不是合法的 GeoJSON 多边形：{exc}"]
    if geometry.is_empty:
        return ["边界为空"]
    problems: list[str] = []
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if min_lon < _LON[0] or max_lon > _LON[1] or min_lat < _LAT[0] or max_lat > _LAT[1]:
        problems.append("坐标超出中国范围（应为经度在前、纬度在后）")
    if not geometry.is_valid:
        problems.append(f"多边形无效（{explain_validity(geometry)}）")
    elif geometry.area > MAX_AREA_DEG2:
        problems.append("边界范围过大，不像一个校区")
    return problems
