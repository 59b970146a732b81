"""Sharing a meter's consumption over the time it was measured.

A meter reporting every hour gives the litres of that hour. After a gap (the meter
or the network was down, the reading came late), one reading holds the use of many
hours: putting it all in the hour that ends the gap would make a false peak (an
abnormal day, a district's odd hour). ``apportion`` shares it over the periods the
gap spans (hours, local days), in proportion to their length, in whole litres that
add up to the reading. Both repositories use it: households' daily use on the
personal side, districts' hourly totals on the territory side.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def apportion(
    total: int,
    start: datetime,
    end: datetime,
    next_boundary: Callable[[datetime], datetime],
    key: Callable[[datetime, datetime], K],
) -> dict[K, int]:
    """``total`` shared over ``(start, end]`` cut at ``next_boundary(t)`` (the first
    boundary after ``t``); each piece ``(a, b]`` goes to ``key(a, b)``. Whole units
    by largest remainder, so the parts add up to ``total`` exactly."""
    if end <= start:
        return {key(start, end): total}
    pieces: list[tuple[K, float]] = []
    cursor = start
    while cursor < end:
        cut = min(next_boundary(cursor), end)
        if cut <= cursor:  # a boundary function that does not move on: one last piece
            cut = end
        pieces.append((key(cursor, cut), (cut - cursor) / (end - start)))
        cursor = cut
    shares = [total * weight for _, weight in pieces]
    whole = [int(share) for share in shares]
    left = total - sum(whole)
    by_remainder = sorted(range(len(pieces)), key=lambda i: shares[i] - whole[i], reverse=True)
    for i in by_remainder[:left]:
        whole[i] += 1
    parts: dict[K, int] = {}
    for (name, _), amount in zip(pieces, whole, strict=True):
        parts[name] = parts.get(name, 0) + amount
    return parts


def next_hour(moment: datetime) -> datetime:
    """The first hour boundary after ``moment`` (in its own time zone)."""
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
