"""Bar charts of the water pages, drawn on the server as SVG; the templates give the
same figures as tables (see hypervision/charts.py)."""

from __future__ import annotations

from typing import Any

WIDTH = 560
HEIGHT = 170
_TOP = 10
_BOTTOM = 24


def bars(
    points: list[tuple[str, float | None]],
    *,
    limit: float | None = None,
    second: list[float | None] | None = None,
    decimals: int = 0,
) -> dict[str, Any]:
    """One bar per point (label, value), and an optional second series drawn beside it
    (a lighter bar) and an optional horizontal limit line (a threshold)."""
    values = [v for _, v in points if v is not None]
    values += [v for v in (second or []) if v is not None]
    peak = max([*values, limit or 0], default=0) or 1
    step = WIDTH / max(len(points), 1)
    usable = HEIGHT - _TOP - _BOTTOM
    base = HEIGHT - _BOTTOM
    width = step * (0.35 if second is not None else 0.7)
    out = []
    for n, (label, value) in enumerate(points):
        height = round(usable * (value or 0) / peak, 1)
        row: dict[str, Any] = {
            "label": label,
            "value": None if value is None else round(value, decimals),
            "x": round(n * step + step * 0.15, 1),
            "width": round(width, 1),
            "y": round(base - height, 1),
            "height": height,
            "label_x": round(n * step + step / 2, 1),
            "labelled": len(points) <= 14 or (len(points) - 1 - n) % 4 == 0,
        }
        if second is not None:
            other = second[n]
            other_height = round(usable * (other or 0) / peak, 1)
            row.update(second=None if other is None else round(other, decimals),
                       x2=round(row["x"] + width, 1), y2=round(base - other_height, 1),
                       height2=other_height)  # fmt: skip
        out.append(row)
    chart: dict[str, Any] = {"bars": out, "width": WIDTH, "height": HEIGHT,
                             "label_y": HEIGHT - 6, "empty": not values}  # fmt: skip
    if limit is not None:
        chart["limit_y"] = round(base - usable * limit / peak, 1)
    return chart
