"""Street lighting energy."""

from __future__ import annotations
