"""Hot spots of illegal dumping (DBSCAN) and the density grid of the heat map.

DBSCAN groups reports that lie within ``eps`` metres of each other in chains of at
least ``min_samples``; it needs no number of clusters and leaves isolated reports
out, which is what a hot spot is: a place where dumping recurs. Distances are
great-circle (haversine on radians), so ``eps`` is in metres on the ground.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings

from alzette.territory.waste.dumping import services
from alzette.territory.waste.dumping.services import ReportView

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_METRES = 150
DEFAULT_MIN_SAMPLES = 3
DEFAULT_DAYS = 90
#: The side of a heat-map cell, in metres.
CELL_METRES = 100


@dataclass(frozen=True)
class HotSpot:
    lon: float
    lat: float
    count: int
    open_count: int
    commune: str
    first_seen: date
    last_seen: date
    radius_m: float

    def feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {"kind": "hotspot", "count": self.count, "open": self.open_count,
                           "commune": self.commune, "first_seen": self.first_seen.isoformat(),
                           "last_seen": self.last_seen.isoformat(),
                           "radius_m": round(self.radius_m)},
        }  # fmt: skip


def eps_metres() -> float:
    return float(getattr(settings, "ALZETTE_DUMPING_HOTSPOT_METRES", DEFAULT_METRES))


def min_samples() -> int:
    return int(getattr(settings, "ALZETTE_DUMPING_HOTSPOT_MIN_SAMPLES", DEFAULT_MIN_SAMPLES))


def find(
    found: list[ReportView], *, metres: float | None = None, samples: int | None = None
) -> list[HotSpot]:
    """The hot spots among ``found``, the busiest first."""
    import numpy as np
    from sklearn.cluster import DBSCAN

    samples = samples or min_samples()
    if len(found) < samples:
        return []
    points = np.radians([[view.lat, view.lon] for view in found])
    eps = (metres or eps_metres()) / EARTH_RADIUS_M
    labels = DBSCAN(eps=eps, min_samples=samples, metric="haversine",
                    algorithm="ball_tree").fit(points).labels_  # fmt: skip
    groups: dict[int, list[ReportView]] = {}
    for label, view in zip(labels, found, strict=True):
        if label >= 0:
            groups.setdefault(int(label), []).append(view)
    spots = [_spot(members) for members in groups.values()]
    return sorted(spots, key=lambda spot: (-spot.count, spot.commune, spot.lat))


def _spot(members: list[ReportView]) -> HotSpot:
    lon = sum(view.lon for view in members) / len(members)
    lat = sum(view.lat for view in members) / len(members)
    commune = Counter(view.commune for view in members).most_common(1)[0][0]
    days = [view.observed_on for view in members]
    radius = max(distance_m(lon, lat, view.lon, view.lat) for view in members)
    return HotSpot(round(lon, 5), round(lat, 5), len(members),
                   sum(1 for view in members if view.open), commune, min(days), max(days),
                   radius)  # fmt: skip


def hotspots(days: int = DEFAULT_DAYS, commune: str | None = None) -> list[HotSpot]:
    """Hot spots of the reports observed in the last ``days`` days."""
    spots = find(services.recent(days))
    return [spot for spot in spots if commune is None or spot.commune == commune]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def density(found: list[ReportView], cell_m: float = CELL_METRES) -> list[dict[str, Any]]:
    """Counts of reports per square cell of about ``cell_m`` metres: the heat map.

    Each cell is ``{"bounds": [[south, west], [north, east]], "count": n}``; the grid
    is anchored at 0°, 0° so that a cell is the same whatever the reports.
    """
    if not found:
        return []
    mean_lat = sum(view.lat for view in found) / len(found)
    dlat = cell_m / 111_320.0
    dlon = cell_m / (111_320.0 * max(math.cos(math.radians(mean_lat)), 0.01))
    cells = Counter((math.floor(view.lat / dlat), math.floor(view.lon / dlon)) for view in found)
    return [
        {"bounds": [[round(row * dlat, 6), round(col * dlon, 6)],
                    [round((row + 1) * dlat, 6), round((col + 1) * dlon, 6)]], "count": count}
        for (row, col), count in sorted(cells.items())
    ]  # fmt: skip
