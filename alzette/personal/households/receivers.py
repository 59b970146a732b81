"""What the households app does when the territory's waste service reports something.

Connected in ``HouseholdsConfig.ready`` to ``alzette.territory.waste.signals``:

- ``lift_recorded``: a truck lifted a bin; the lift is counted for the household that
  held the bin that day (``services.count_lift``, idempotent on the lift id).
- ``badge_opening``: a drop point was opened with a badge. Not counted: drop points
  are free, and nothing on the personal side needs the openings yet (the badge's
  holder is not looked up, so no personal data is created by an opening).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

log = logging.getLogger("alzette.households")


def on_lift_recorded(
    sender: Any,
    bin_id: str,
    lifted_at: datetime,
    weight_kg: float | None = None,
    lift_id: int | None = None,
    **kwargs: Any,
) -> None:
    from alzette.personal.households.services import count_lift

    if lift_id is None:
        log.warning("Lift of %s without an id: not counted.", bin_id)
        return
    count_lift(bin_id, lifted_at, weight_kg, int(lift_id))


def connect() -> bool:
    """Connect to the waste signals; False when the waste app does not offer them."""
    try:
        from alzette.territory.waste.signals import lift_recorded
    except ImportError:
        return False
    lift_recorded.connect(on_lift_recorded, dispatch_uid="households-lift-recorded")
    return True
