"""``alzette rounds``: declare the collection fleet and compute rounds."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date

from alzette.territory.waste.rounds import demo, services
from alzette.territory.waste.rounds.models import Truck


class Command(BaseCommand):
    help = "Collection rounds: declare the fleet, compute a round."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        plan = commands.add_parser("plan", help="Compute a round and print its routes.")
        plan.add_argument("--trucks", type=int, default=None, help="default: every active truck")
        plan.add_argument("--threshold", type=float, default=services.DEFAULT_THRESHOLD)
        plan.add_argument("--day", default="", help="ISO date (default: today)")
        plan.add_argument(
            "--horizon", type=int, default=services.DEFAULT_HORIZON_DAYS, help="days to next round"
        )
        plan.add_argument("--time-limit", type=float, default=None, help="solver seconds")
        fleet = commands.add_parser("fleet", help="Create or update a depot and its trucks.")
        fleet.add_argument("--demo", action="store_true", help="the demo depot and 4 trucks")
        fleet.add_argument("--depot", default=demo.DEPOT_NAME, help="depot name")
        fleet.add_argument("--lon", type=float, default=demo.DEPOT_LON)
        fleet.add_argument("--lat", type=float, default=demo.DEPOT_LAT)
        fleet.add_argument("--commune", default=demo.DEPOT_COMMUNE, help="INSEE code")
        fleet.add_argument("--trucks", type=int, default=demo.TRUCKS)
        fleet.add_argument("--capacity", type=int, default=demo.TRUCK_LITRES, help="litres")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["command"])(options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _plan(self, options: dict[str, Any]) -> None:
        day = None
        if options["day"]:
            day = parse_date(options["day"])
            if day is None:
                raise CommandError(f"--day must be an ISO date, got {options['day']!r}.")
        found = services.plan_round(
            trucks=options["trucks"],
            threshold=options["threshold"],
            day=day,
            horizon=options["horizon"],
            time_limit=options["time_limit"],
        )
        self.stdout.write(
            f"Round {found.pk} for {found.planned_for}: {found.container_count} containers, "
            f"{found.distance_m / 1000:.1f} km (fixed weekly round "
            f"{found.baseline_distance_m / 1000:.1f} km, saved {found.saved_m / 1000:.1f} km), "
            f"{found.solver_status}, {found.solver_seconds:.1f} s."
        )
        for route in found.routes.select_related("truck").order_by("position"):
            self.stdout.write(
                f"  {route.truck.name}: {len(route.sequence)} stops, "
                f"{route.distance_m / 1000:.1f} km, {route.load_l} l"
            )
        if found.dropped:
            self.stdout.write(
                self.style.WARNING(f"  {len(found.dropped)} containers left out (capacity).")
            )

    def _fleet(self, options: dict[str, Any]) -> None:
        if options["demo"]:
            counts = demo.ensure_demo_fleet()
            self.stdout.write(
                f"Demo fleet: {counts['depots']} depot(s), {counts['trucks']} trucks."
            )
            return
        if not -180 <= options["lon"] <= 180 or not -90 <= options["lat"] <= 90:
            raise CommandError("--lon/--lat must be WGS 84 degrees.")
        if options["capacity"] < 1:
            raise CommandError("--capacity must be a positive number of litres.")
        depot, trucks = services.set_fleet(
            depot_name=options["depot"],
            lon=options["lon"],
            lat=options["lat"],
            commune=options["commune"],
            trucks=options["trucks"],
            capacity_litres=options["capacity"],
        )
        active = Truck.objects.using(services.DB).filter(active=True).count()
        self.stdout.write(
            f"Depot {depot.name} ({depot.lon}, {depot.lat}): {len(trucks)} trucks of "
            f"{options['capacity']:,} l; {active} active trucks in all."
        )
