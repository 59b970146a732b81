"""Street lighting energy and savings in the platform API (/api/v1/lighting)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["lighting"])
