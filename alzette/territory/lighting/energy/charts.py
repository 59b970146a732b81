"""The energy-per-month chart, drawn on the server as SVG (no script needed); the
template gives the same figures as a table. Each month is one bar as tall as the
full-power reference: the lower part is what the lamps used, the upper, hatched part
what was saved. A month that used more than the reference shows a marker line at it."""

from __future__ import annotations

from typing import Any

from django.utils import formats

WIDTH = 560
HEIGHT = 200
_TOP = 10
_BOTTOM = 24  # room for the month labels


def monthly(rows: list[Any]) -> dict[str, Any]:
    """``rows`` are ``services.MonthSaving``, oldest first."""
    peak = max((max(r.full_kwh, r.actual_kwh) for r in rows), default=0) or 1
    step = WIDTH / max(len(rows), 1)
    usable = HEIGHT - _TOP - _BOTTOM
    base = HEIGHT - _BOTTOM
    bars = []
    for n, row in enumerate(rows):
        actual_h = round(usable * row.actual_kwh / peak, 1)
        full_h = round(usable * row.full_kwh / peak, 1)
        saved_h = round(max(full_h - actual_h, 0), 1)
        x = round(n * step + step * 0.15, 1)
        bars.append({
            "row": row, "key": row.key,
            "label": formats.date_format(row.month, "M y"),
            "x": x, "width": round(step * 0.7, 1),
            "actual_y": round(base - actual_h, 1), "actual_h": actual_h,
            "saved_y": round(base - actual_h - saved_h, 1), "saved_h": saved_h,
            "full_y": round(base - full_h, 1), "over": row.actual_kwh > row.full_kwh > 0,
            "x2": round(x + step * 0.7, 1),
            "label_x": round(n * step + step / 2, 1),
            "labelled": len(rows) <= 12 or (len(rows) - 1 - n) % 2 == 0,
        })  # fmt: skip
    return {
        "bars": bars, "width": WIDTH, "height": HEIGHT, "label_y": HEIGHT - 6,
        "empty": not any(r.full_kwh or r.actual_kwh for r in rows),
    }  # fmt: skip
