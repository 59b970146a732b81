"""Collection rounds: 500 bins, 4 trucks, solved with OR-Tools; distance saved.

Draws --bins bins at random (seeded) inside the communes of the territory, with
plausible fill levels and fill rates, selects those over the threshold or forecast
to overflow before the next round, and solves their routes for --trucks trucks of
16,000 litres from the demo depot in Audun-le-Tiche. Then solves the fixed weekly
round (every bin, same trucks, same solver, trips back to the depot to unload as
needed) and prints both distances and the distance saved. Target: the 500-bin
solve under 10 s. Distances are great-circle times the detour factor (no OSRM).

    python bench/routes.py
    python bench/routes.py --bins 500 --trucks 4 --time-limit 5 --seed 9
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
COMMUNES = ROOT / "alzette" / "territory" / "geo" / "data" / "communes-ccphva.geojson"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", type=int, default=500)
    parser.add_argument("--trucks", type=int, default=4)
    parser.add_argument("--capacity", type=int, default=16_000, help="litres per truck")
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--horizon", type=int, default=7, help="days until the next round")
    parser.add_argument("--time-limit", type=float, default=5.0, help="solver seconds")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    os.environ.setdefault("ALZETTE_DATA_DIR", tempfile.mkdtemp(prefix="alzette-bench-"))
    os.environ.setdefault("ALZETTE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from alzette.territory.waste.rounds import demo, services
    from alzette.territory.waste.rounds.models import Depot, Truck

    bins = random_bins(args.bins, args.seed)
    depot = Depot(name=demo.DEPOT_NAME, lon=demo.DEPOT_LON, lat=demo.DEPOT_LAT)
    trucks = [
        Truck(name=f"truck-{n}", capacity_litres=args.capacity, depot=depot)
        for n in range(1, args.trucks + 1)
    ]
    day = date.today()
    rates = {b.id: b.rate for b in bins}
    assessed = services.assess(
        bins, threshold=args.threshold, day=day, horizon=args.horizon, fill_rate=rates.get
    )
    selected = [c for c in assessed if c.reason]
    print(
        f"{len(assessed)} bins, {len(selected)} selected "
        f"({sum(c.reason == 'threshold' for c in selected)} over {args.threshold:.0%}, "
        f"{sum(c.reason == 'forecast' for c in selected)} forecast to overflow within "
        f"{args.horizon} days); {args.trucks} trucks of {args.capacity:,} l",
        flush=True,
    )

    started = time.perf_counter()
    optimised = services.route(selected, trucks, time_limit=args.time_limit)
    optimised_wall = time.perf_counter() - started
    trips = services.baseline_trips(assessed, trucks)
    started = time.perf_counter()
    baseline = services.route(assessed, trucks, trips=trips, time_limit=args.time_limit)
    baseline_wall = time.perf_counter() - started

    print(
        f"optimised round: {len(selected)} bins solved in {optimised_wall:.2f} s "
        f"(solver {optimised.seconds:.2f} s, {optimised.status}), "
        f"{optimised.distance / 1000:.1f} km, dropped {len(optimised.dropped)}"
    )
    for truck, stops, metres, load in zip(
        trucks, optimised.stops, optimised.distances, optimised.loads, strict=True
    ):
        print(
            f"  {truck.name}: {len(stops)} stops, {metres / 1000:.1f} km, "
            f"{load:,} l ({load / truck.capacity_litres:.0%})"
        )
    print(
        f"fixed weekly round: {len(assessed)} bins solved in {baseline_wall:.2f} s "
        f"(solver {baseline.seconds:.2f} s, {baseline.status}, {trips} trip(s) per truck), "
        f"{baseline.distance / 1000:.1f} km, dropped {len(baseline.dropped)}"
    )
    saved = baseline.distance - optimised.distance
    share = saved / baseline.distance if baseline.distance else 0.0
    print(f"distance saved: {saved / 1000:.1f} km ({share:.0%})")
    target = "met" if max(optimised_wall, baseline_wall) < 10 else "MISSED"
    print(f"target: {args.bins} bins solved under 10 s: {target}")


def random_bins(count: int, seed: int) -> list[SimpleNamespace]:
    """Bins at random points inside the communes, with seeded levels and fill rates."""
    from shapely.geometry import Point, shape

    rng = random.Random(seed)
    communes = [
        (feature["properties"]["insee"], shape(feature["geometry"]))
        for feature in json.loads(COMMUNES.read_text())["features"]
    ]
    west = min(s.bounds[0] for _, s in communes)
    south = min(s.bounds[1] for _, s in communes)
    east = max(s.bounds[2] for _, s in communes)
    north = max(s.bounds[3] for _, s in communes)
    bins = []
    while len(bins) < count:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        commune = next((code for code, s in communes if s.contains(Point(lon, lat))), None)
        if commune is None:
            continue
        bins.append(
            SimpleNamespace(
                id=f"urn:ngsi-ld:WasteContainer:bin-{commune}-{len(bins) + 1:03d}",
                commune=commune,
                lon=lon,
                lat=lat,
                filling_level=round(rng.uniform(0.05, 0.95), 2),
                capacity_l=rng.choice((120.0, 240.0, 240.0, 360.0)),
                observed_at=None,
                rate=rng.uniform(0.02, 0.10),
            )
        )
    return bins


if __name__ == "__main__":
    main()
