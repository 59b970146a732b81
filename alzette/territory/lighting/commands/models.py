"""Commands to streetlights."""

from __future__ import annotations
