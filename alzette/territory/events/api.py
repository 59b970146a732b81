"""Territory events as GeoJSON, for maps (the hypervision, open data)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.territory.events import services

router = Router(tags=["territory"])


class EventFilter(Schema):
    kind: str = Field("", max_length=40, description="Only events of this kind, e.g. illegal_dump.")
    commune: str = Field("", pattern=r"^([0-9]{5})?$", description="INSEE code of a commune.")
    status: Literal["", "open", "closed"] = Field("", description="open or closed.")


class EventProperties(Schema):
    kind: str
    categories: list[str]
    commune: str
    observed_on: date
    status: str
    closed_on: date | None


class PointOut(Schema):
    type: Literal["Point"] = "Point"
    coordinates: list[float]


class EventFeature(Schema):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointOut
    properties: EventProperties


class EventCollection(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[EventFeature]


@router.get(
    "/events",
    response={200: EventCollection, **problem_responses(422)},
    summary="Events on the territory (anonymised)",
    description=(
        "Events reported by people and passed through the anonymisation bridge: no person, "
        "no free text, no photo; points to about ten metres, dates to the day."
    ),
)
def list_events(request: HttpRequest, filters: Query[EventFilter]) -> dict:
    found = services.events(filters.kind, filters.commune, filters.status)[:5000]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(event.pk),
                "geometry": {"type": "Point", "coordinates": [event.lon, event.lat]},
                "properties": {
                    "kind": event.kind,
                    "categories": event.categories,
                    "commune": event.commune_code,
                    "observed_on": event.observed_on,
                    "status": event.status,
                    "closed_on": event.closed_on,
                },
            }
            for event in found
        ],
    }
