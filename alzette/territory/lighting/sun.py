"""Sunset and sunrise at the territory's coordinates (astral, NOAA's algorithm).

Lighting policies switch on at sunset and off at sunrise, shifted by the
policy's offsets. The default point is the CCPHVA's centre; a policy for a
commune passes the commune's own point (the two differ by under a minute).
Times are aware datetimes in UTC; callers localise them for display.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from astral import Observer
from astral.sun import sunrise as _sunrise
from astral.sun import sunset as _sunset
from django.conf import settings

#: The CCPHVA's centre (Audun-le-Tiche / Villerupt), WGS 84.
DEFAULT_LON, DEFAULT_LAT = 5.95, 49.47


def territory_point() -> tuple[float, float]:
    """(lon, lat) of the territory, from ``ALZETTE_LIGHTING_LON``/``_LAT``."""
    lon = getattr(settings, "ALZETTE_LIGHTING_LON", None)
    lat = getattr(settings, "ALZETTE_LIGHTING_LAT", None)
    return (DEFAULT_LON if lon is None else lon, DEFAULT_LAT if lat is None else lat)


@lru_cache(maxsize=4096)
def _events(day: date, lon: float, lat: float) -> tuple[datetime, datetime]:
    observer = Observer(latitude=lat, longitude=lon, elevation=0)
    return _sunrise(observer, day, tzinfo=UTC), _sunset(observer, day, tzinfo=UTC)


def sunrise(day: date, lon: float | None = None, lat: float | None = None) -> datetime:
    """Sunrise (UTC) on ``day`` (a UTC calendar day) at the point, the territory's by default."""
    return _events(day, *_point(lon, lat))[0]


def sunset(day: date, lon: float | None = None, lat: float | None = None) -> datetime:
    """Sunset (UTC) on ``day`` at the point, the territory's by default."""
    return _events(day, *_point(lon, lat))[1]


def night(
    day: date, lon: float | None = None, lat: float | None = None
) -> tuple[datetime, datetime]:
    """The night that starts on the evening of ``day``: (sunset of day, sunrise of the next)."""
    return sunset(day, lon, lat), sunrise(day + timedelta(days=1), lon, lat)


def night_hours(day: date, lon: float | None = None, lat: float | None = None) -> float:
    """How long the night starting on ``day`` lasts, in hours (about 8 in June, 16 in December)."""
    start, end = night(day, lon, lat)
    return (end - start).total_seconds() / 3600


def is_dark(moment: datetime, lon: float | None = None, lat: float | None = None) -> bool:
    """Whether ``moment`` (aware) lies between a sunset and the next sunrise."""
    moment = moment.astimezone(UTC)
    day = moment.date()
    return moment < sunrise(day, lon, lat) or moment >= sunset(day, lon, lat)


def _point(lon: float | None, lat: float | None) -> tuple[float, float]:
    default = territory_point()
    return (default[0] if lon is None else lon, default[1] if lat is None else lat)
