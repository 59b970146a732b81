"""NGSI-LD geo-queries (ETSI GS CIM 009 V1.8.1 §4.10).

``parse_geoquery`` checks ``georel``, ``geometry``, ``coordinates`` and
``geoproperty`` (from a URL, already decoded, or a subscription's ``geoQ``) and
gives a ``GeoQuery`` whose ``matches`` tests the GeoJSON value of an entity's
GeoProperty: the entity's geometry is the subject, the query's the reference
("the target geometry shall be within the reference geometry").

Topological relations (within, contains, intersects, equals, disjoint,
overlaps) are the OGC Simple Features predicates ([14] of the spec) on
longitude/latitude taken as plane coordinates, as GeoJSON (RFC 7946) and
shapely do; ``equals`` is topological equality.

``near`` measures metres on the WGS 84 ellipsoid:

- point to point: the geodesic distance (``pyproj.Geod``, Karney's algorithm),
  exact to the nanometre;
- anything else: both geometries, densified, are projected on an azimuthal
  equidistant plane centred on the reference geometry (its centroid) and
  measured there with shapely. Distances from the centre are exact; others
  are overstated a little, by well under 0.1 % within 100 km of the centre.

``near;maxDistance==d`` matches an entity at most ``d`` metres from the
reference (it meets the buffer of radius ``d``), ``near;minDistance==d`` one
more than ``d`` metres away (disjoint from that buffer, §4.10): the two are
exact complements. Both modifiers may be given together (an annulus). The
spec asks for the target to be "within" the buffer for maxDistance; for points
this is the same, and for lines and areas brokers measure the nearest point,
as we do.

``search_bbox`` gives a longitude/latitude box every matching geometry's
bounding box intersects, for an index to narrow candidates; near the poles or
across the antimeridian it widens to every longitude rather than miss one.

``points_match`` answers for many single-position geometries at once, from
their coordinates alone (the index keeps them as boxes of zero size), with the
same arithmetic as ``matches``: the geodesic distance for ``near`` a point,
shapely's ``contains_xy``/``intersects_xy`` for ``within``/``intersects``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.errors import ShapelyError
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from alzette.core.spatial import SpatialError, parse_geometry

GEORELS = ("near", "within", "contains", "intersects", "equals", "disjoint", "overlaps")
GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
DEFAULT_GEOPROPERTY = "location"
MAX_POSITIONS = 10_000

_GEOD = Geod(ellps="WGS84")
#: Below the smallest radius of curvature of WGS 84 (meridional, at the equator:
#: 6 335 439 m), so that metres turned into degrees with it are never too few.
_MIN_RADIUS = 6_335_000.0
_MARGIN = 1.01
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
          "MultiPolygon": 3}  # fmt: skip
_DISTANCE = re.compile(
    r"(maxDistance|minDistance)==((?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
)
_NAME = re.compile(r"[^\s\x00-\x1f\"<>{}|\\^`]{1,512}")


class GeoQueryError(ValueError):
    """A malformed geo-query; the message is safe to show to the client."""


@dataclass
class GeoQuery:
    """A checked geo-query; ``geoproperty`` is a term (or IRI) the caller expands."""

    georel: str
    geometry: BaseGeometry
    max_distance: float | None = None
    min_distance: float | None = None
    geoproperty: str = DEFAULT_GEOPROPERTY

    def matches(self, value: dict[str, Any]) -> bool:
        """True when the GeoJSON geometry ``value`` stands in ``georel`` to the reference;
        False for anything that is not a valid geometry."""
        try:
            target = parse_geometry(value)
            if self.georel == "near":
                return self._near(target)
            return bool(getattr(target, self.georel)(self.geometry))
        except (SpatialError, ShapelyError, ValueError, TypeError):
            return False

    def search_bbox(self) -> tuple[float, float, float, float] | None:
        """(min_lon, min_lat, max_lon, max_lat) met by every match's bounding box, or None."""
        if self.georel == "disjoint":
            return None
        if self.georel != "near":
            return tuple(self.geometry.bounds)
        if self.max_distance is None:
            return None
        return _padded(self.geometry.bounds, self.max_distance)

    @property
    def decides_points(self) -> bool:
        """Whether ``points_match`` can answer for positions (else ``matches`` decides)."""
        if self.georel == "near":
            return isinstance(self.geometry, Point)
        return self.georel in ("within", "intersects")

    def points_match(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Which of the positions (lons[i], lats[i]) match; only when ``decides_points``."""
        if self.georel == "near":
            ref_lons = np.full_like(lons, self.geometry.x)
            ref_lats = np.full_like(lats, self.geometry.y)
            metres = _GEOD.inv(ref_lons, ref_lats, lons, lats)[2]
            keep = np.ones(len(lons), dtype=bool)
            if self.max_distance is not None:
                keep &= metres <= self.max_distance
            if self.min_distance is not None:
                keep &= metres > self.min_distance
            return keep
        shapely.prepare(self.geometry)  # in place: an index of its edges, built once
        if self.georel == "within":  # a point is within what contains it
            return shapely.contains_xy(self.geometry, lons, lats)
        return shapely.intersects_xy(self.geometry, lons, lats)

    def distance(self, target: BaseGeometry) -> float:
        """Metres between ``target`` and the reference geometry (see the module notes)."""
        if isinstance(self.geometry, Point) and isinstance(target, Point):
            return _geodesic(self.geometry, target)
        transformer, reference = self._plane
        projected = _project(transformer, target)
        if not np.isfinite(shapely.get_coordinates(projected)).all():
            return _vertex_distance(self.geometry, target)  # the antipode: off the plane
        return float(projected.distance(reference))

    def _near(self, target: BaseGeometry) -> bool:
        metres = self.distance(target)
        if self.max_distance is not None and metres > self.max_distance:
            return False
        return self.min_distance is None or metres > self.min_distance

    @cached_property
    def _plane(self) -> tuple[Transformer, BaseGeometry]:
        centre = self.geometry.centroid
        local = CRS.from_proj4(
            f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m +no_defs"
        )
        transformer = Transformer.from_crs("EPSG:4326", local, always_xy=True)
        return transformer, _project(transformer, self.geometry)


def parse_geoquery(
    georel: str | None,
    geometry: str | None,
    coordinates: str | list | None,
    geoproperty: str | None = None,
) -> GeoQuery | None:
    """A ``GeoQuery`` from request parameters; None when none of georel, geometry and
    coordinates is given; ``GeoQueryError`` when only some are, or any is invalid."""
    given = {"georel": georel, "geometry": geometry, "coordinates": coordinates}
    missing = [name for name, value in given.items() if value is None]
    if len(missing) == len(given):
        return None
    if missing:
        raise GeoQueryError(
            f"A geo-query needs georel, geometry and coordinates; {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing."
        )
    relation, max_distance, min_distance = _georel(georel)
    shape = _reference(_geometry_type(geometry), _coordinates(coordinates))
    prop = _geoproperty(geoproperty)
    return GeoQuery(relation, shape, max_distance, min_distance, prop)


def _georel(text: Any) -> tuple[str, float | None, float | None]:
    if not isinstance(text, str):
        raise GeoQueryError("georel must be a string.")
    name, *modifiers = text.strip().split(";")
    if name not in GEORELS:
        raise GeoQueryError(f"Unknown georel {name!r}; use one of {', '.join(GEORELS)}.")
    if name != "near":
        if modifiers:
            raise GeoQueryError(f"georel {name} takes no modifier (only near takes a distance).")
        return name, None, None
    if not modifiers:
        raise GeoQueryError("georel near needs ;maxDistance==<metres> or ;minDistance==<metres>.")
    distances = dict(_distance(modifier) for modifier in modifiers)
    if len(distances) != len(modifiers):
        raise GeoQueryError("georel near gives the same distance twice.")
    maximum, minimum = distances.get("maxDistance"), distances.get("minDistance")
    if maximum is not None and minimum is not None and maximum <= minimum:
        raise GeoQueryError("In georel near, maxDistance must be greater than minDistance.")
    return name, maximum, minimum


def _distance(modifier: str) -> tuple[str, float]:
    match = _DISTANCE.fullmatch(modifier)
    if match is None:
        raise GeoQueryError(
            f"Invalid near modifier {modifier!r}; write maxDistance==<metres> or "
            "minDistance==<metres> with a positive number."
        )
    metres = float(match[2])
    if not (math.isfinite(metres) and metres > 0):
        raise GeoQueryError(f"The distance in {modifier!r} must be a positive finite number.")
    return match[1], metres


def _geometry_type(text: Any) -> str:
    if text not in GEOMETRIES:
        raise GeoQueryError(f"Unsupported geometry {text!r}; use one of {', '.join(GEOMETRIES)}.")
    return text


def _coordinates(raw: Any) -> Any:
    if isinstance(raw, list | tuple):
        return raw
    if not isinstance(raw, str):
        raise GeoQueryError("coordinates must be a JSON array.")
    try:
        return json.loads(raw, parse_constant=_not_a_number)
    except (ValueError, RecursionError):
        raise GeoQueryError("coordinates are not a valid JSON array.") from None


def _not_a_number(name: str) -> float:
    raise ValueError(f"{name} is not a coordinate")


def _reference(kind: str, coordinates: Any) -> BaseGeometry:
    count = [0]
    clean = _nested(coordinates, _DEPTH[kind], kind, count)
    _check_parts(kind, clean)
    try:
        return parse_geometry({"type": kind, "coordinates": clean})
    except SpatialError as exc:
        raise GeoQueryError(f"Invalid {kind}: {exc}") from None


def _nested(value: Any, depth: int, kind: str, count: list[int]) -> Any:
    is_list = isinstance(value, list | tuple) and bool(value)
    if not is_list or isinstance(value[0], list | tuple) != (depth > 0):
        levels = "[" * (_DEPTH[kind] + 1) + "lon, lat" + "]" * (_DEPTH[kind] + 1)
        raise GeoQueryError(f"coordinates of a {kind} must be nested as {levels}.")
    if depth > 0:
        return [_nested(item, depth - 1, kind, count) for item in value]
    count[0] += 1
    if count[0] > MAX_POSITIONS:
        raise GeoQueryError(f"The geometry has more than {MAX_POSITIONS} positions.")
    return _position(value)


def _position(value: Any) -> list[float]:
    numbers = isinstance(value, list | tuple) and len(value) in (2, 3)
    if not numbers or not all(_is_number(item) for item in value):
        raise GeoQueryError(f"A position must be [longitude, latitude], not {value!r:.60}.")
    lon, lat = float(value[0]), float(value[1])  # an altitude is dropped: 2D predicates
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoQueryError(f"Position [{lon}, {lat}] is outside longitude ±180, latitude ±90.")
    return [lon, lat]


def _is_number(value: Any) -> bool:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return is_number and math.isfinite(value)


def _check_parts(kind: str, coordinates: list) -> None:
    if kind == "LineString":
        _check_line(coordinates)
    elif kind == "MultiLineString":
        for line in coordinates:
            _check_line(line)
    elif kind == "Polygon":
        _check_rings(coordinates)
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            _check_rings(polygon)


def _check_line(positions: list) -> None:
    if len(positions) < 2:
        raise GeoQueryError("A LineString needs at least two positions.")


def _check_rings(rings: list) -> None:
    for ring in rings:
        if len(ring) < 4:
            raise GeoQueryError("A polygon ring needs at least four positions.")
        if ring[0] != ring[-1]:
            raise GeoQueryError(
                "A polygon ring must be closed: its last position repeats its first."
            )


def _geoproperty(name: Any) -> str:
    if name is None:
        return DEFAULT_GEOPROPERTY
    if not isinstance(name, str) or not _NAME.fullmatch(name.strip()):
        raise GeoQueryError("geoproperty must be an attribute name.")
    return name.strip()


def _geodesic(a: Point, b: Point) -> float:
    return float(_GEOD.inv(a.x, a.y, b.x, b.y)[2])


def _project(transformer: Transformer, geometry: BaseGeometry) -> BaseGeometry:
    # Edges are straight in longitude/latitude: densify so they stay so once projected.
    min_x, min_y, max_x, max_y = geometry.bounds
    step = max(0.01, max(max_x - min_x, max_y - min_y) / 256)
    dense = shapely.segmentize(geometry, step)
    return shapely.transform(dense, transformer.transform, interleaved=False)


def _vertex_distance(reference: BaseGeometry, target: BaseGeometry) -> float:
    """Smallest geodesic distance between the (densified) vertices: for the rare target
    the local plane cannot hold."""
    ref = shapely.get_coordinates(shapely.segmentize(reference, 0.5))
    tgt = shapely.get_coordinates(shapely.segmentize(target, 0.5))
    lon1, lon2 = np.meshgrid(ref[:, 0], tgt[:, 0])
    lat1, lat2 = np.meshgrid(ref[:, 1], tgt[:, 1])
    return float(np.min(_GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())[2]))


def _padded(
    bounds: tuple[float, float, float, float], metres: float
) -> tuple[float, float, float, float]:
    """``bounds`` grown by ``metres`` on the ellipsoid, generously (spherical cap formulas
    with the smallest radius of curvature, plus a margin)."""
    min_x, min_y, max_x, max_y = bounds
    radius = metres * _MARGIN / _MIN_RADIUS
    pad = math.degrees(radius) + 1e-9
    south, north = min_y - pad, max_y + pad
    if south <= -90 or north >= 90:
        return (-180.0, max(south, -90.0), 180.0, min(north, 90.0))  # a pole within reach
    widest = math.radians(max(abs(min_y), abs(max_y)))
    ratio = math.sin(radius) / math.cos(widest)
    if ratio >= 1:
        return (-180.0, south, 180.0, north)
    spread = math.degrees(math.asin(ratio)) * _MARGIN + 1e-9
    west, east = min_x - spread, max_x + spread
    if west < -180 or east > 180:
        return (-180.0, south, 180.0, north)  # across the antimeridian: one box cannot say it
    return (west, south, east, north)


def parse_value(value: Any) -> BaseGeometry:
    """A GeoProperty's value (a GeoJSON geometry), checked as strictly as a query geometry."""
    if not isinstance(value, dict):
        raise GeoQueryError("A GeoProperty's value must be a GeoJSON geometry object.")
    return _reference(_geometry_type(value.get("type")), value.get("coordinates"))
