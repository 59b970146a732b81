"""Values every page needs: platform version and map settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from alzette import __version__


def platform(request: HttpRequest) -> dict[str, Any]:
    return {
        "alzette_version": __version__,
        "alzette_mode": settings.ALZETTE_MODE,
        "map_tile_url": settings.ALZETTE_MAP_TILE_URL,
        "map_attribution": settings.ALZETTE_MAP_ATTRIBUTION,
    }
