"""Sharing a reading's litres over the periods it covers (alzette.core.metering)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alzette.core import metering

T0 = datetime(2026, 12, 4, 2, 5, tzinfo=UTC)


def _hourly(total: int, start: datetime, end: datetime) -> dict[datetime, int]:
    return metering.apportion(total, start, end, metering.next_hour,
                              lambda a, b: b.replace(minute=0))  # fmt: skip


def test_one_hour_goes_whole_to_its_period():
    assert _hourly(120, T0, T0 + timedelta(minutes=50)) == {T0.replace(minute=0): 120}


def test_a_gap_is_shared_in_proportion_and_adds_up():
    parts = _hourly(400, T0, T0 + timedelta(hours=4))
    top = T0.replace(minute=0)
    assert parts == {top + timedelta(hours=1): 92, top + timedelta(hours=2): 100,
                     top + timedelta(hours=3): 100, top + timedelta(hours=4): 108}  # fmt: skip


def test_nothing_to_share_and_an_empty_interval():
    assert set(_hourly(0, T0, T0 + timedelta(hours=3)).values()) == {0}
    assert _hourly(7, T0, T0) == {T0.replace(minute=0): 7}


@given(total=st.integers(min_value=0, max_value=10**7),
       minutes=st.integers(min_value=1, max_value=60 * 24 * 7))  # fmt: skip
def test_the_parts_always_add_up_to_the_reading(total, minutes):
    parts = _hourly(total, T0, T0 + timedelta(minutes=minutes))
    assert sum(parts.values()) == total and min(parts.values()) >= 0
    assert len(parts) <= minutes // 60 + 2


@pytest.mark.parametrize("boundary", [lambda t: t, lambda t: t - timedelta(hours=1)])
def test_a_boundary_function_that_does_not_move_on_ends_in_one_piece(boundary):
    assert metering.apportion(10, T0, T0 + timedelta(hours=2), boundary, lambda a, b: "all") == {
        "all": 10}  # fmt: skip
