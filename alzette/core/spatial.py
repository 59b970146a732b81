"""Spatial operations without system libraries.

Geometries are stored as GeoJSON (RFC 7946: longitude/latitude on WGS 84,
"CRS84") next to four indexed bounding-box columns. A query first narrows rows
with the bounding boxes (an index range scan on SQLite and PostgreSQL alike),
then applies the exact predicate with shapely. Reprojection uses pyproj. Both
ship as wheels, so the embedded default needs neither GDAL nor SpatiaLite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.errors import ShapelyError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

#: The CRS every stored geometry is in (longitude first).
STORAGE_CRS = "OGC:CRS84"

#: CRS accepted at the platform's edges: world, France (Lambert-93), Luxembourg (LUREF).
SUPPORTED_CRS = {
    "OGC:CRS84": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "EPSG:4326": "http://www.opengis.net/def/crs/EPSG/0/4326",
    "EPSG:2154": "http://www.opengis.net/def/crs/EPSG/0/2154",
    "EPSG:2169": "http://www.opengis.net/def/crs/EPSG/0/2169",
}

PREDICATES = ("intersects", "within", "contains", "equals", "disjoint", "overlaps", "touches")


class SpatialError(ValueError):
    """A geometry or CRS the platform cannot use; the message is safe to show."""


@dataclass(frozen=True)
class BBox:
    """An axis-aligned bounding box in storage coordinates."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float

    def intersects(self, other: BBox) -> bool:
        """True when the two boxes share at least one point."""
        return not (
            other.min_x > self.max_x
            or other.max_x < self.min_x
            or other.min_y > self.max_y
            or other.max_y < self.min_y
        )

    def as_list(self) -> list[float]:
        """GeoJSON ``bbox`` member order."""
        return [self.min_x, self.min_y, self.max_x, self.max_y]


def normalise_crs(name: str) -> str:
    """Return the canonical short name of a supported CRS given as a short name or URI."""
    wanted = name.strip()
    for short, uri in SUPPORTED_CRS.items():
        if wanted.upper() == short.upper() or wanted == uri:
            return short
    raise SpatialError(f"Unsupported CRS {name!r}; use one of {', '.join(SUPPORTED_CRS)}.")


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    try:
        # always_xy: GeoJSON and our storage are longitude/easting first, whatever
        # axis order the EPSG definition declares.
        return Transformer.from_crs(
            CRS.from_user_input(source), CRS.from_user_input(target), always_xy=True
        )
    except CRSError as exc:  # pragma: no cover - SUPPORTED_CRS are all known to PROJ
        raise SpatialError(str(exc)) from exc


def parse_geometry(geojson: dict[str, Any]) -> BaseGeometry:
    """Build a valid shapely geometry from a GeoJSON geometry object."""
    if not isinstance(geojson, dict) or "type" not in geojson:
        raise SpatialError("A GeoJSON geometry object with a 'type' member is required.")
    try:
        geometry = shape(geojson)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ShapelyError) as exc:
        raise SpatialError(f"Invalid GeoJSON geometry: {exc}") from exc
    if geometry.is_empty:
        raise SpatialError("The geometry is empty.")
    if not geometry.is_valid:
        raise SpatialError(f"The geometry is not valid: {shapely.is_valid_reason(geometry)}.")
    return geometry


def reproject(geometry: BaseGeometry, source: str, target: str) -> BaseGeometry:
    """Return ``geometry`` transformed from ``source`` to ``target`` CRS."""
    source, target = normalise_crs(source), normalise_crs(target)
    if source == target or {source, target} == {"OGC:CRS84", "EPSG:4326"}:
        return geometry
    result = shapely.transform(geometry, _transformer(source, target).transform, interleaved=False)
    if not shapely.is_valid(result) or any(map(_not_finite, result.bounds)):
        raise SpatialError(f"The geometry cannot be expressed in {target}.")
    return result


def _not_finite(value: float) -> bool:
    return value != value or value in (float("inf"), float("-inf"))


def bbox_of(geometry: BaseGeometry) -> BBox:
    """Bounding box of a geometry."""
    return BBox(*geometry.bounds)


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry object of a shapely geometry, with plain lists."""
    return _lists(mapping(geometry))


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    return value


def evaluate(predicate: str, candidate: BaseGeometry, query: BaseGeometry) -> bool:
    """Apply a named spatial predicate: ``candidate <predicate> query``."""
    if predicate not in PREDICATES:
        raise SpatialError(f"Unknown predicate {predicate!r}; use one of {', '.join(PREDICATES)}.")
    return bool(getattr(candidate, predicate)(query))


def union(geometries: Iterable[BaseGeometry]) -> BaseGeometry:
    """Union of geometries (used to derive a parent unit from its members)."""
    return shapely.union_all(list(geometries))
