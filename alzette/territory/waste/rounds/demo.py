"""The demo fleet: the CCPHVA's technical centre in Audun-le-Tiche and four trucks."""

from __future__ import annotations

from alzette.territory.waste.rounds import services
from alzette.territory.waste.rounds.models import Depot, Truck

DEPOT_NAME = "Centre technique CCPHVA"
#: A point inside the commune of Audun-le-Tiche (57038), south-west of the town centre.
DEPOT_LON, DEPOT_LAT = 5.9478, 49.4705
DEPOT_COMMUNE = "57038"
TRUCKS = 4
#: Litres of bin contents a truck carries (a 16 m³ body).
TRUCK_LITRES = 16_000


def ensure_demo_fleet() -> dict[str, int]:
    """Create the demo depot and trucks unless they exist; idempotent."""
    if not Depot.objects.using(services.DB).filter(name=DEPOT_NAME).exists():
        services.set_fleet(
            depot_name=DEPOT_NAME,
            lon=DEPOT_LON,
            lat=DEPOT_LAT,
            commune=DEPOT_COMMUNE,
            trucks=TRUCKS,
            capacity_litres=TRUCK_LITRES,
        )
    return {
        "depots": Depot.objects.using(services.DB).count(),
        "trucks": Truck.objects.using(services.DB).filter(active=True).count(),
    }
