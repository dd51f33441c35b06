"""Where a phone's fix lies against a school's campus boundaries (DOMAIN.md: 正常 means "inside
the school's registered address").

Everything is judged in WGS-84 (boundaries and fixes drawn in GCJ-02 are converted first, see
gcj02.py) and in metres on a local equirectangular projection centred on the school's campuses:
with the WGS-84 meridional and prime-vertical radii at that centre it is within 0.15 m of the
geodesic at campus scale (STACK.md), and it lets shapely measure the distance from the fix to
the boundary in metres.

A fix is a circle, not a point: the phone says how far off it may be (``accuracy_m``). The
circle is *inside* when it lies wholly inside a campus, *outside* when wholly outside, and
*straddles* the boundary otherwise — the phone cannot tell which side the student is on.
What a straddling fix means for the result is decided in check_in_result.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from services.checkin.domain.gcj02 import to_wgs84

# WGS-84 ellipsoid.
_A = 6378137.0
_E2 = 6.69437999014e-3


class Where(StrEnum):
    INSIDE = "inside"
    OUTSIDE = "outside"
    STRADDLES = "straddles"


@dataclass(frozen=True)
class Placement:
    """A fix against the boundary: the circle's relation, whether its centre is inside, and the
    centre's distance to the nearest boundary line in metres."""

    where: Where
    centre_inside: bool
    distance_m: float


@dataclass(frozen=True)
class LocalProjection:
    """Metres east (x) and north (y) of a centre, by the radii of curvature at its latitude."""

    lat0: float
    lon0: float
    metres_per_deg_lat: float
    metres_per_deg_lon: float

    @classmethod
    def at(cls, lat0: float, lon0: float) -> LocalProjection:
        phi = math.radians(lat0)
        w = 1.0 - _E2 * math.sin(phi) ** 2
        meridional = _A * (1.0 - _E2) / w**1.5
        prime_vertical = _A / math.sqrt(w)
        return cls(
            lat0,
            lon0,
            metres_per_deg_lat=math.radians(1.0) * meridional,
            metres_per_deg_lon=math.radians(1.0) * prime_vertical * math.cos(phi),
        )

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.metres_per_deg_lon, (lat - self.lat0) * self.metres_per_deg_lat


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two WGS-84 positions (haversine on the mean radius; the
    speed rule needs hundreds of metres to thousands of kilometres, not centimetres)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(h)))


def _rings(geojson: dict[str, Any]) -> list[Sequence[Sequence[Sequence[float]]]]:
    """The polygons of a GeoJSON Polygon or MultiPolygon, each as its list of rings."""
    kind = geojson.get("type")
    coordinates = geojson.get("coordinates")
    if kind == "Polygon" and isinstance(coordinates, list):
        return [coordinates]
    if kind == "MultiPolygon" and isinstance(coordinates, list):
        return list(coordinates)
    raise ValueError(f"a campus boundary must be a GeoJSON Polygon or MultiPolygon, not {kind!r}")


class CampusFence:
    """A school's campuses as one prepared shape in local metres. Build once per school and
    keep it (check-ins of a school all test against the same shape)."""

    def __init__(self, projection: LocalProjection, shape: BaseGeometry) -> None:
        self.projection = projection
        self._shape = shape
        self._boundary = shape.boundary
        shapely.prepare(self._shape)
        shapely.prepare(self._boundary)

    @classmethod
    def of(cls, campuses: Iterable[tuple[dict[str, Any], str]]) -> CampusFence:
        """From (GeoJSON boundary, datum it was drawn in) pairs; all become WGS-84."""
        polygons_wgs: list[list[list[tuple[float, float]]]] = []
        for geojson, datum in campuses:
            for polygon in _rings(geojson):
                polygons_wgs.append(
                    [[to_wgs84(float(lat), float(lon), datum) for lon, lat, *_ in ring] for ring in polygon]
                )
        points = [point for polygon in polygons_wgs for point in polygon[0]]
        if not points:
            raise ValueError("no campus boundary")
        projection = LocalProjection.at(
            (min(p[0] for p in points) + max(p[0] for p in points)) / 2,
            (min(p[1] for p in points) + max(p[1] for p in points)) / 2,
        )
        shapes = []
        for polygon in polygons_wgs:
            rings = [[projection.to_xy(lat, lon) for lat, lon in ring] for ring in polygon]
            shapes.append(shapely.make_valid(Polygon(rings[0], rings[1:])))
        shape = shapely.union_all(shapes)
        if not isinstance(shape, Polygon | MultiPolygon):
            shape = shapely.union_all([g for g in shapely.get_parts(shape) if g.area > 0])
        return cls(projection, shape)

    def place(self, lat: float, lon: float, accuracy_m: float) -> Placement:
        """Where a WGS-84 fix with the given accuracy radius lies (the boundary line counts as
        inside: a student standing on the fence is at school)."""
        x, y = self.projection.to_xy(lat, lon)
        centre_inside = bool(shapely.intersects_xy(self._shape, x, y))
        distance = float(shapely.distance(self._boundary, shapely.Point(x, y)))
        if distance <= accuracy_m and accuracy_m > 0:
            where = Where.STRADDLES
        else:
            where = Where.INSIDE if centre_inside else Where.OUTSIDE
        return Placement(where, centre_inside, distance)
