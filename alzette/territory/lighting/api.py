"""Street lighting policies and calendar overrides in the platform API (/api/v1/lighting)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["lighting"])
