"""The usage chart of an application, drawn on the server as SVG (no script needed)."""

from __future__ import annotations

from typing import Any

WIDTH = 560
HEIGHT = 160
_TOP = 10
_BOTTOM = 24  # room for the day labels


def usage(days: list[tuple[str, int, int]]) -> dict[str, Any]:
    """Stacked bars (served, refused) per day, scaled to the busiest day."""
    peak = max((served + refused for _, served, refused in days), default=0) or 1
    step = WIDTH / max(len(days), 1)
    usable = HEIGHT - _TOP - _BOTTOM
    bars = []
    for n, (day, served, refused) in enumerate(days):
        served_h = round(usable * served / peak, 1)
        refused_h = round(usable * refused / peak, 1)
        base = HEIGHT - _BOTTOM
        bars.append(
            {
                "day": day,
                "label": day[8:10] + "/" + day[5:7],
                "served": served,
                "refused": refused,
                "x": round(n * step + step * 0.15, 1),
                "width": round(step * 0.7, 1),
                "served_y": round(base - served_h, 1),
                "served_h": served_h,
                "refused_y": round(base - served_h - refused_h, 1),
                "refused_h": refused_h,
                "label_x": round(n * step + step / 2, 1),
            }
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "peak": peak,
        "label_y": HEIGHT - 6,
        "empty": peak == 1 and not any(s or r for _, s, r in days),
    }
