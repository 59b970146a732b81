"""What the homewater app does when the territory's water service reports something.

Connected in ``HomewaterConfig.ready`` to ``alzette.territory.water.signals``:

- ``meter_reading``: an accepted hourly reading of a household meter; stored for the
  household holding the meter then (``services.store_reading``). A meter no
  household holds is ignored and counted in a log line: the territory keeps its
  district's anonymous totals anyway.
- ``leak_suspected``: continuous flow on a meter; the household gets a leak warning,
  an e-mail and the in-app notice.
- ``leak_cleared``: the flow stopped; the warning ends.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

log = logging.getLogger("alzette.homewater")


def on_meter_reading(
    sender: Any,
    meter: str,
    at: datetime,
    index_litres: int,
    source_ri: str = "",
    **kwargs: Any,
) -> None:
    from alzette.personal.homewater.services import store_reading

    store_reading(meter, at, int(index_litres))


def on_leak_suspected(
    sender: Any, meter: str, since: datetime, min_litres_per_hour: float = 1.0, **kwargs: Any
) -> None:
    from alzette.personal.homewater.services import leak_suspected

    leak_suspected(meter, since, min_litres_per_hour)


def on_leak_cleared(sender: Any, meter: str, at: datetime | None = None, **kwargs: Any) -> None:
    from django.utils import timezone

    from alzette.personal.homewater.services import leak_cleared

    leak_cleared(meter, at or timezone.now())


def connect() -> bool:
    """Connect to the water signals; False when the water app does not offer them."""
    try:
        from alzette.territory.water import signals
    except ImportError:
        return False
    signals.meter_reading.connect(on_meter_reading, dispatch_uid="homewater-meter-reading")
    signals.leak_suspected.connect(on_leak_suspected, dispatch_uid="homewater-leak-suspected")
    signals.leak_cleared.connect(on_leak_cleared, dispatch_uid="homewater-leak-cleared")
    return True
