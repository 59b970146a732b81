"""The lifts-per-month chart, drawn on the server as SVG (no script needed); the
same house style as ``alzette.personal.developers.charts``."""

from __future__ import annotations

from typing import Any

WIDTH = 560
HEIGHT = 160
_TOP = 10
_BOTTOM = 24  # room for the month labels


def monthly(rows: list[dict[str, Any]], labels: list[str]) -> dict[str, Any]:
    """One bar per month (``rows`` from ``services.lifts_by_month``), scaled to the
    busiest month; ``labels`` are the months' short names."""
    peak = max((row["lifts"] for row in rows), default=0) or 1
    step = WIDTH / max(len(rows), 1)
    usable = HEIGHT - _TOP - _BOTTOM
    base = HEIGHT - _BOTTOM
    bars = []
    for n, (row, label) in enumerate(zip(rows, labels, strict=True)):
        height = round(usable * row["lifts"] / peak, 1)
        bars.append(
            {
                "label": label,
                "lifts": row["lifts"],
                "weight_kg": row["weight_kg"],
                "x": round(n * step + step * 0.15, 1),
                "width": round(step * 0.7, 1),
                "y": round(base - height, 1),
                "height": height,
                "label_x": round(n * step + step / 2, 1),
            }
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "label_y": HEIGHT - 6,
        "empty": not any(row["lifts"] for row in rows),
    }
