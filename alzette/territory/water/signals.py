"""Events of the water app for the personal side (docs/water.md).

``meter_reading(sender, meter, at, index_litres, source_ri)`` is sent once per
accepted household meter reading, after it was checked (a known meter, a
plausible index, a time not in the future): the personal ``homewater`` app
stores it for the household that holds the meter then. The territory keeps no
reading per meter, only the meter's last index and its district's anonymous
hourly totals.

``leak_suspected(sender, meter, since, min_litres_per_hour)`` is sent when a
household meter has shown a continuous flow (no hour without use) for the
detector's window; ``leak_cleared(sender, meter, at)`` when that flow stopped.
The personal side warns the household; the agents see a supervision alert
naming the meter, never the household.
"""

from __future__ import annotations

from django.dispatch import Signal

meter_reading = Signal()
leak_suspected = Signal()
leak_cleared = Signal()
