"""Server-rendered pages (thin adapters over the domain services)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alzette.territory.geo.models import TerritorialUnit, UnitKind


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The territory at a glance: its communes, listed and on a map."""
    units = list(TerritorialUnit.objects.order_by("name"))
    communes = [unit for unit in units if unit.kind == UnitKind.COMMUNE]
    epci = next((unit for unit in units if unit.kind == UnitKind.EPCI), None)
    features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": unit.code,
                "geometry": unit.geometry,
                "properties": {"code": unit.code, "name": unit.name},
            }
            for unit in communes
        ],
    }
    return render(
        request, "web/home.html", {"communes": communes, "epci": epci, "features": features}
    )
