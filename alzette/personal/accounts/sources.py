"""The account's preferences as a "my data" category (registered in ``apps.py``)."""

from __future__ import annotations

from typing import Any


def preferences(user: Any) -> list[dict[str, Any]]:
    """One row; None where the person has not chosen yet."""
    return [{"preferred_language": user.preferred_language or None}]
