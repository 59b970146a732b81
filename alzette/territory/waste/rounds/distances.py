"""Distance matrices for the rounds, in integer metres.

Road distances come from an OSRM-compatible routing service (its ``table``
service) when ``ALZETTE_OSRM_URL`` is set. Without one, or when it fails, the
great-circle distance is multiplied by a detour factor
(``ALZETTE_ROUTING_DETOUR_FACTOR``, 1.3 by default): road networks are 20 to 40 %
longer than straight lines between two points (docs/rounds.md), which is enough
to compare rounds with each other, the purpose here.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
DEFAULT_DETOUR_FACTOR = 1.3
#: Coordinates one OSRM ``table`` request may carry (osrm-routed's --max-table-size default).
DEFAULT_TABLE_SIZE = 100
DEFAULT_TIMEOUT = 10.0

Point = tuple[float, float]  # (lon, lat), as in GeoJSON


@dataclass(frozen=True)
class Matrix:
    """Square matrix of metres between points, and where the figures came from."""

    metres: list[list[int]]
    source: str  # "osrm" or "haversine"


class RoutingServiceError(Exception):
    """The routing service did not answer, or not with a usable table."""


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance between two (lon, lat) points, in metres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def detour_factor() -> float:
    factor = float(getattr(settings, "ALZETTE_ROUTING_DETOUR_FACTOR", DEFAULT_DETOUR_FACTOR))
    return factor if factor >= 1.0 else DEFAULT_DETOUR_FACTOR


def haversine_matrix(points: Sequence[Point], factor: float | None = None) -> list[list[int]]:
    """Great-circle distances times the detour factor, rounded to the metre."""
    factor = detour_factor() if factor is None else factor
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy ships with scikit-learn
        return [[round(haversine_m(a, b) * factor) for b in points] for a in points]
    if not points:
        return []
    coords = np.radians(np.asarray(points, dtype=float))
    lon, lat = coords[:, 0][:, None], coords[:, 1][:, None]
    h = (
        np.sin((lat.T - lat) / 2) ** 2
        + np.cos(lat) * np.cos(lat.T) * np.sin((lon.T - lon) / 2) ** 2
    )
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * factor
    return np.rint(metres).astype(np.int64).tolist()


def osrm_matrix(
    points: Sequence[Point],
    base_url: str,
    *,
    profile: str = "driving",
    timeout: float = DEFAULT_TIMEOUT,
    table_size: int = DEFAULT_TABLE_SIZE,
) -> list[list[int]]:
    """Road distances from an OSRM ``table`` service (``annotations=distance``).

    Larger sets are cut into blocks of sources by destinations so that no request
    carries more than ``table_size`` coordinates. Pairs the service cannot route
    (``null``) fall back to the great-circle estimate. Raises RoutingServiceError.
    """
    n = len(points)
    if n == 0:
        return []
    block = n if n <= table_size else max(1, table_size // 2)
    chunks = [list(range(start, min(n, start + block))) for start in range(0, n, block)]
    metres = [[0] * n for _ in range(n)]
    fallback = detour_factor()
    for sources in chunks:
        for destinations in chunks if n > table_size else [sources]:
            nodes = sources if sources == destinations else sources + destinations
            table = _osrm_table(
                [points[i] for i in nodes],
                base_url,
                profile=profile,
                timeout=timeout,
                sources=range(len(sources)),
                destinations=range(len(nodes) - len(destinations), len(nodes)),
            )
            for row, i in zip(table, sources, strict=True):
                for value, j in zip(row, destinations, strict=True):
                    metres[i][j] = (
                        round(value)
                        if value is not None
                        else round(haversine_m(points[i], points[j]) * fallback)
                    )
    for i in range(n):
        metres[i][i] = 0
    return metres


def _osrm_table(
    points: Sequence[Point],
    base_url: str,
    *,
    profile: str,
    timeout: float,
    sources: range,
    destinations: range,
) -> list[list[float | None]]:
    coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in points)
    url = (
        f"{base_url.rstrip('/')}/table/v1/{profile}/{coordinates}?annotations=distance"
        f"&sources={';'.join(map(str, sources))}"
        f"&destinations={';'.join(map(str, destinations))}"
    )
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise RoutingServiceError(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(body, dict) or body.get("code") != "Ok":
        code = body.get("code") if isinstance(body, dict) else None
        raise RoutingServiceError(f"routing service answered {code!r}")
    distances = body.get("distances")
    if (
        not isinstance(distances, list)
        or len(distances) != len(sources)
        or any(not isinstance(row, list) or len(row) != len(destinations) for row in distances)
    ):
        raise RoutingServiceError("routing service answered a table of the wrong shape")
    return distances


def distance_matrix(points: Sequence[Point]) -> Matrix:
    """Road distances when a routing service is configured and answers, else estimates."""
    base_url = getattr(settings, "ALZETTE_OSRM_URL", "") or ""
    if base_url and len(points) > 1:
        try:
            metres = osrm_matrix(
                points,
                base_url,
                profile=getattr(settings, "ALZETTE_OSRM_PROFILE", "driving") or "driving",
                timeout=float(getattr(settings, "ALZETTE_OSRM_TIMEOUT", DEFAULT_TIMEOUT)),
                table_size=int(getattr(settings, "ALZETTE_OSRM_TABLE_SIZE", DEFAULT_TABLE_SIZE)),
            )
        except RoutingServiceError as exc:
            logger.warning(
                "Routing service %s failed (%s): distances estimated from great circles.",
                base_url,
                exc,
            )
        else:
            return Matrix(metres, "osrm")
    return Matrix(haversine_matrix(points), "haversine")
