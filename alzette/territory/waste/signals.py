"""Events of the waste app for the rest of the platform.

``lift_recorded(sender, bin_id, lifted_at, weight_kg, lift_id)`` is sent once per
new lift, after its row is stored: the personal households app counts it for the
household that held the bin then. ``badge_opening(sender, container_id, badge,
opened_at)`` carries the badge to the personal side, which alone may link it to a
household; the territory keeps only the anonymous ``Opening``.
"""

from __future__ import annotations

from django.dispatch import Signal

lift_recorded = Signal()
badge_opening = Signal()
