"""The latest collection round on the hypervision map: one line per truck."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision.layers import Feature, Layer, feature
from alzette.territory.waste.rounds import services
from alzette.territory.waste.rounds.models import Round, Route

#: Earlier rounds whose routes a change removes from the map.
RECENT = 5


class RoundsLayer(Layer):
    """The routes of the latest round (validated first, else the latest computed),
    from the depot through the stops and back; ``value`` is the route's km."""

    slug = "rounds"
    title = _("Collection rounds")
    theme = "waste"
    colour = "#1d4ed8"

    def _routes(self, found: Round) -> list[Route]:
        return list(found.routes.select_related("truck__depot").order_by("position"))

    def _feature(self, found: Round, route: Route, *, gone: bool = False) -> Feature:
        depot = route.truck.depot
        line = [[depot.lon, depot.lat], *([s["lon"], s["lat"]] for s in route.sequence)]
        line.append([depot.lon, depot.lat])
        return feature(
            self,
            f"route:{route.pk}",
            {"type": "LineString", "coordinates": line},
            name=f"{route.truck.name} · {found.planned_for.isoformat()}",
            value=round(route.distance_m / 1000, 1),
            status=found.status,
            commune=depot.commune,
            observed_at=found.updated_at,
            gone=gone,
        )

    def features(self, commune: str | None = None) -> list[Feature]:
        found = services.latest_round()
        if found is None:
            return []
        return [
            self._feature(found, route)
            for route in self._routes(found)
            if route.sequence
            and (not commune or any(s.get("commune") == commune for s in route.sequence))
        ]

    def changes(self, since: datetime) -> list[Feature]:
        """When any round changed: the current routes, and the routes of the few rounds
        last shown before as ``gone`` (the current round may have switched)."""
        rounds = Round.objects.using(services.DB)
        if not rounds.filter(updated_at__gte=since).exists():
            return []
        latest = services.latest_round()
        out = self.features() if latest is not None else []
        others = rounds.exclude(pk=latest.pk) if latest is not None else rounds
        for found in others.order_by("-updated_at")[:RECENT]:
            out.extend(
                self._feature(found, route, gone=True)
                for route in self._routes(found)
                if route.sequence
            )
        return out
