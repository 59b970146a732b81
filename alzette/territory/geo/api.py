"""Territory geography API: the EPCI and its communes, and spatial look-ups."""

from __future__ import annotations

from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.core import spatial
from alzette.territory.geo import services
from alzette.territory.geo.models import TerritorialUnit

router = Router(tags=["territory"])

Kind = Literal["epci", "commune"]


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
    geometry: dict[str, Any]
    properties: UnitOut


class FeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[FeatureOut]


class UnitFilter(Schema):
    kind: Kind | None = Field(None, description="Only units of this kind.")


class LocateIn(Schema):
    geometry: dict[str, Any] = Field(
        ..., description="A GeoJSON geometry object.",
        examples=[{"type": "Point", "coordinates": [5.955, 49.473]}],
    )
    crs: str = Field("OGC:CRS84", description="CRS of the geometry: " + ", ".join(
        spatial.SUPPORTED_CRS))
    predicate: Literal[spatial.PREDICATES] = Field(  # type: ignore[valid-type]
        "intersects", description="Keep units for which `unit <predicate> geometry` holds."
    )
    kind: Kind | None = None


def _unit_out(unit: TerritorialUnit) -> dict[str, Any]:
    return {
        "code": unit.code, "kind": unit.kind, "name": unit.name, "department": unit.department,
        "parent": unit.parent.code if unit.parent_id else None, "bbox": unit.bbox.as_list(),
    }


def _feature(unit: TerritorialUnit) -> dict[str, Any]:
    return {"type": "Feature", "id": unit.code, "bbox": unit.bbox.as_list(),
            "geometry": unit.geometry, "properties": _unit_out(unit)}


def _units(kind: str | None) -> list[TerritorialUnit]:
    units = TerritorialUnit.objects.select_related("parent").order_by("kind", "name")
    return list(units.filter(kind=kind) if kind else units)


@router.get("/units", response={200: list[UnitOut], **problem_responses(422)},
            summary="List the territorial units")
def list_units(request: HttpRequest, filters: Query[UnitFilter]) -> list[dict[str, Any]]:
    return [_unit_out(unit) for unit in _units(filters.kind)]


@router.get("/geojson", response={200: FeatureCollectionOut, **problem_responses(422)},
            summary="The territorial units as a GeoJSON FeatureCollection")
def units_geojson(request: HttpRequest, filters: Query[UnitFilter]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [_feature(u) for u in _units(filters.kind)]}


@router.get("/units/{code}", response={200: FeatureOut, **problem_responses(404)},
            summary="One territorial unit as a GeoJSON Feature")
def get_unit(request: HttpRequest, code: str) -> dict[str, Any]:
    unit = TerritorialUnit.objects.select_related("parent").filter(code=code).first()
    if unit is None:
        raise Http404(f"No territorial unit has the code {code!r}.")
    return _feature(unit)


@router.post("/locate", response={200: list[UnitOut], **problem_responses(400, 413, 415, 422)},
             summary="Find the units that relate to a geometry")
def locate(request: HttpRequest, payload: LocateIn) -> list[dict[str, Any]]:
    """Answer "which commune is this point (or area) in?", in any supported CRS."""
    try:
        units = services.locate(payload.geometry, payload.crs, payload.predicate, payload.kind)
    except spatial.SpatialError as exc:
        raise HttpError(422, str(exc)) from exc
    return [_unit_out(unit) for unit in units]

