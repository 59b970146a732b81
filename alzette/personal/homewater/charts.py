"""Consumption charts drawn on the server as SVG (no script needed); the house style
of ``alzette.personal.households.charts``."""

from __future__ import annotations

from typing import Any

WIDTH = 560
HEIGHT = 170
_TOP = 10
_BOTTOM = 24  # room for the labels


def bars(values: list[int | float], labels: list[str], *, every: int = 1) -> dict[str, Any]:
    """One bar per value, scaled to the largest; a label under every ``every``-th bar."""
    peak = max(values, default=0) or 1
    step = WIDTH / max(len(values), 1)
    usable = HEIGHT - _TOP - _BOTTOM
    base = HEIGHT - _BOTTOM
    drawn = []
    for n, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = round(usable * value / peak, 1)
        drawn.append(
            {
                "label": label,
                "value": value,
                "x": round(n * step + step * 0.15, 1),
                "width": round(step * 0.7, 1),
                "y": round(base - height, 1),
                "height": height,
                "label_x": round(n * step + step / 2, 1),
                "show_label": n % every == 0,
            }
        )
    return {
        "bars": drawn,
        "width": WIDTH,
        "height": HEIGHT,
        "label_y": HEIGHT - 6,
        "empty": not any(values),
    }
