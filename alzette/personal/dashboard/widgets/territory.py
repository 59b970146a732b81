"""My territory: the communes of the EPCI on a map drawn from the platform's own data."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.models import Size
from alzette.personal.dashboard.widget import Widget
from alzette.territory.geo.models import TerritorialUnit, UnitKind


class TerritoryWidget(Widget):
    slug = "territory"
    title = _("My territory")
    description = _("The communes of the Pays Haut Val d'Alzette on a map, and their list.")
    template_name = "dashboard/widgets/territory.html"
    default_size = Size.WIDE
    stylesheets = ("leaflet/leaflet.css",)
    # The home page's script: it draws #territory-features into #territory-map.
    scripts = ("leaflet/leaflet.js", "alzette/map.js")

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        communes = list(TerritorialUnit.objects.filter(kind=UnitKind.COMMUNE).order_by("name"))
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
        return {"communes": communes, "features": features}
