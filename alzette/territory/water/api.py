"""Water networks in the platform API (/api/v1/water)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["water"])
