"""Time-series charts of the boards, drawn on the server as SVG (no script needed);
the template gives the same figures as a table (see developers/charts.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

WIDTH = 560
HEIGHT = 160
_TOP = 10
_BOTTOM = 24  # room for the day labels


def bars(days: list[tuple[date, float | None]], *, decimals: int = 0) -> dict[str, Any]:
    """One bar per day, scaled to the largest value; a day without data has no bar."""
    peak = max((v for _, v in days if v is not None), default=0) or 1
    step = WIDTH / max(len(days), 1)
    usable = HEIGHT - _TOP - _BOTTOM
    base = HEIGHT - _BOTTOM
    out = []
    for n, (day, value) in enumerate(days):
        height = round(usable * (value or 0) / peak, 1)
        out.append(
            {
                "day": day.isoformat(),
                "label": day.strftime("%d/%m"),
                "value": None if value is None else round(value, decimals),
                "x": round(n * step + step * 0.15, 1),
                "width": round(step * 0.7, 1),
                "y": round(base - height, 1),
                "height": height,
                "label_x": round(n * step + step / 2, 1),
                # Every other label on long series, so they do not overlap.
                "labelled": len(days) <= 14 or (len(days) - 1 - n) % 3 == 0,
            }
        )
    return {
        "bars": out,
        "width": WIDTH,
        "height": HEIGHT,
        "label_y": HEIGHT - 6,
        "empty": not any(v for _, v in days),
    }
