"""Street lighting."""

from __future__ import annotations
