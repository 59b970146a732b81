"""Illegal dumping on the hypervision map: open reports (citizens' and agents') and hot spots.

A feature carries the map's compact properties only (hypervision/layers.py): the
report's source as its name, its categories as its value, its status, commune and
day; never a photo or free text, which the reports do not even hold.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from alzette.core.repositories import TERRITORY
from alzette.territory.hypervision.layers import Feature, Layer, feature, point
from alzette.territory.waste.dumping import hotspots, services
from alzette.territory.waste.dumping.models import AgentReport
from alzette.territory.waste.dumping.services import ReportView


class DumpingLayer(Layer):
    slug = "dumping"
    title = _("Illegal dumping")
    theme = "waste"
    colour = "#7a1d14"

    #: Hot spots are found among the reports of these last days.
    days = hotspots.DEFAULT_DAYS

    def _report(self, view: ReportView, gone: bool = False) -> Feature:
        return feature(self, view.ref, point(view.lon, view.lat), name=view.source,
                       value=",".join(view.categories), status=view.status,
                       commune=view.commune, observed_at=view.observed_on,
                       gone=gone)  # fmt: skip

    def _spot(self, spot: hotspots.HotSpot) -> Feature:
        return feature(self, f"hotspot:{spot.lat:.4f},{spot.lon:.4f}", point(spot.lon, spot.lat),
                       name="hotspot", value=spot.count, status="open" if spot.open_count else
                       "closed", commune=spot.commune, observed_at=spot.last_seen)  # fmt: skip

    def features(self, commune: str | None = None) -> list[Feature]:
        reports = services.reports(commune=commune, status="open")
        spots = hotspots.hotspots(self.days, commune=commune)
        return [self._report(view) for view in reports] + [self._spot(spot) for spot in spots]

    def changes(self, since: datetime) -> list[Feature]:
        """Reports created, closed or reopened since ``since`` (closed ones ``gone``), and
        the current hot spots when anything changed."""
        events = services.citizen_reports().filter(updated_at__gte=since)
        agents = AgentReport.objects.using(TERRITORY).filter(updated_at__gte=since)
        views = [services.event_view(event) for event in events]
        views += [services.agent_report_view(found) for found in agents]
        if not views:
            return []
        changed = [self._report(view, gone=not view.open) for view in views]
        return changed + [self._spot(spot) for spot in hotspots.hotspots(self.days)]

    def count(self, commune: str | None = None) -> int:
        return len(services.reports(commune=commune, status="open"))
