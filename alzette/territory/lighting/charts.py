"""The night's plan as a step chart, drawn on the server as SVG (no script needed); the
template gives the same figures as a table. Time runs left to right from 14:00 to
10:00 (local), the level bottom (off) to top (full power); the night, sunset to
sunrise, is a shaded band whose bounds the table also gives."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from alzette.territory.lighting import schedule

WIDTH = 560
HEIGHT = 200
_LEFT = 40
_RIGHT = 8
_TOP = 10
_BOTTOM = 26
FROM_HOUR, TO_HOUR = 14, 10


def window(night: date) -> tuple[datetime, datetime]:
    zone = schedule.zone()
    start = datetime.combine(night, time(FROM_HOUR), tzinfo=zone)
    end = datetime.combine(night + timedelta(days=1), time(TO_HOUR), tzinfo=zone)
    return start, end


def night_chart(segments: list[schedule.Segment], night: date,
                sunset: datetime, sunrise: datetime) -> dict[str, Any]:  # fmt: skip
    start, end = window(night)
    span = (end - start).total_seconds()
    inner_w = WIDTH - _LEFT - _RIGHT
    usable = HEIGHT - _TOP - _BOTTOM
    base = HEIGHT - _BOTTOM

    def x(moment: datetime) -> float:
        share = (moment - start).total_seconds() / span
        return round(_LEFT + inner_w * min(max(share, 0.0), 1.0), 1)

    def y(level: float) -> float:
        return round(_TOP + usable * (1 - level), 1)

    shown = [s for s in segments if s.end > start and s.start < end]
    line = []
    for n, segment in enumerate(shown):
        x0, x1, level_y = x(segment.start), x(segment.end), y(segment.level)
        # Segments follow each other: a vertical move to the new level, then along it.
        line.append(f"M{x0},{level_y}" if n == 0 else f"H{x0}V{level_y}")
        line.append(f"H{x1}")
    path = "".join(line)
    area = f"{path}V{base}H{x(shown[0].start)}Z" if shown else ""
    ticks = []
    zone = schedule.zone()
    moment = start
    while moment <= end:
        local = moment.astimezone(zone)
        ticks.append({"x": x(moment), "label": f"{local.hour:02d}h",
                      "labelled": local.hour % 4 == 2})  # fmt: skip
        moment += timedelta(hours=1)
    return {
        "width": WIDTH, "height": HEIGHT, "left": _LEFT, "right": WIDTH - _RIGHT, "top": _TOP,
        "base": base, "label_y": HEIGHT - 8, "path": path, "area": area, "ticks": ticks,
        "levels": [{"y": y(v), "label": f"{int(v * 100)} %", "label_y": y(v) + 4}
                   for v in (0.0, 0.5, 1.0)],
        "night_x": x(sunset), "band_h": base - _TOP,
        "night_w": round(max(x(sunrise) - x(sunset), 0), 1),
        "empty": not shown,
    }  # fmt: skip
