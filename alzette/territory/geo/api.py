"""Territory geography API: the EPCI and its communes, and spatial look-ups."""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest
from geojson_pydantic.geometries import Geometry
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field, field_validator

from alzette.api.schemas import problem_responses
from alzette.core import spatial
from alzette.territory.geo import services
from alzette.territory.geo.models import TerritorialUnit

router = Router(tags=["territory"])

Kind = Literal["epci", "commune"]
CrsName = Literal[(*spatial.SUPPORTED_CRS, *spatial.SUPPORTED_CRS.values())]


class UnitOut(Schema):
    code: str = Field(..., description="INSEE code for a commune, short code for the EPCI.")
    kind: Kind
    name: str
    department: str
    parent: str | None = Field(None, description="Code of the parent unit.")
    bbox: list[float] = Field(..., description="[min lon, min lat, max lon, max lat] in CRS84.")


class FeatureOut(Schema):
    type: Literal["Feature"] = "Feature"
    id: str
    bbox: list[float]
    geometry: Geometry
    properties: UnitOut


class FeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeatureOut]


class UnitFilter(Schema):
    kind: Kind | None = Field(None, description="Only units of this kind.")


class LocateIn(Schema):
    geometry: Geometry = Field(
        ...,
        description="A GeoJSON geometry object (RFC 7946), in the coordinates of `crs`.",
        examples=[{"type": "Point", "coordinates": [5.955, 49.473]}],
    )
    crs: CrsName = Field(  # type: ignore[valid-type]
        "OGC:CRS84", description="CRS of the geometry, by short name or OGC URI."
    )
    predicate: Literal[spatial.PREDICATES] = Field(  # type: ignore[valid-type]
        "intersects", description="Keep units for which `unit <predicate> geometry` holds."
    )
    kind: Kind | None = None

    @field_validator("geometry", mode="before")
    @classmethod
    def _numbers_only(cls, value: Any) -> Any:
        # pydantic would read JSON true/false as 1/0 in coordinates; GeoJSON wants numbers.
        if _contains_boolean(value):
            raise ValueError("Coordinates and bbox must be numbers, not booleans.")
        return value


def _contains_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list):
        return any(_contains_boolean(item) for item in value)
    if isinstance(value, dict):
        keys = ("coordinates", "bbox", "geometries")
        return any(_contains_boolean(value.get(key)) for key in keys)
    return False


def _unit_out(unit: TerritorialUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "kind": unit.kind,
        "name": unit.name,
        "department": unit.department,
        "parent": unit.parent.code if unit.parent_id else None,
        "bbox": unit.bbox.as_list(),
    }


def _feature(unit: TerritorialUnit) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": unit.code,
        "bbox": unit.bbox.as_list(),
        "geometry": unit.geometry,
        "properties": _unit_out(unit),
    }


def _units(kind: str | None) -> list[TerritorialUnit]:
    units = TerritorialUnit.objects.select_related("parent").order_by("kind", "name")
    return list(units.filter(kind=kind) if kind else units)


@router.get(
    "/units",
    response={200: list[UnitOut], **problem_responses(422)},
    summary="List the territorial units",
)
def list_units(request: HttpRequest, filters: Query[UnitFilter]) -> list[dict[str, Any]]:
    return [_unit_out(unit) for unit in _units(filters.kind)]


@router.get(
    "/geojson",
    response={200: FeatureCollectionOut, **problem_responses(422)},
    summary="The territorial units as a GeoJSON FeatureCollection",
)
def units_geojson(request: HttpRequest, filters: Query[UnitFilter]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_feature(u) for u in _units(filters.kind)]}


@router.get(
    "/units/{code}",
    response={200: FeatureOut, **problem_responses(404)},
    summary="One territorial unit as a GeoJSON Feature",
)
def get_unit(request: HttpRequest, code: str) -> dict[str, Any]:
    unit = TerritorialUnit.objects.select_related("parent").filter(code=code).first()
    if unit is None:
        raise Http404(f"No territorial unit has the code {code!r}.")
    return _feature(unit)


@router.post(
    "/locate",
    response={200: list[UnitOut], **problem_responses(400, 413, 415, 422)},
    summary="Find the units that relate to a geometry",
)
def locate(request: HttpRequest, payload: LocateIn) -> list[dict[str, Any]]:
    """Answer "which commune is this point (or area) in?", in any supported CRS."""
    try:
        geometry = payload.geometry.model_dump(mode="json", exclude_none=True)
        units = services.locate(geometry, payload.crs, payload.predicate, payload.kind)
    except spatial.SpatialError as exc:
        raise HttpError(422, str(exc)) from exc
    return [_unit_out(unit) for unit in units]
