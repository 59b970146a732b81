"""oneM2M timestamps: ISO 8601 basic format in UTC, ``20261204T101500,123456``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alzette.territory.onem2m.errors import bad_request

_PATTERN = re.compile(r"^(\d{8}T\d{6})(?:[,.](\d{1,6}))?(Z)?$")


def format_ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%S,%f")


def parse_ts(value: object, name: str) -> datetime:
    """Parse a oneM2M timestamp or raise a 4000 naming the attribute."""
    match = _PATTERN.match(value) if isinstance(value, str) else None
    if not match:
        raise bad_request(f"{name}: expected a timestamp like 20261204T101500, got {value!r}")
    try:
        base = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S")
    except ValueError as exc:
        raise bad_request(f"{name}: {exc}") from None
    micro = int((match.group(2) or "0").ljust(6, "0"))
    return base.replace(microsecond=micro, tzinfo=UTC)
