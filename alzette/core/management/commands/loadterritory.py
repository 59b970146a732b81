from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alzette.territory.geo.services import REFERENCE_COMMUNES, load_reference_units


class Command(BaseCommand):
    help = "Load (or refresh) the EPCI and its communes into the territory repository."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=REFERENCE_COMMUNES,
            help="GeoJSON FeatureCollection with insee, name, department.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int, label: str) -> None:
            self.stdout.write(f"  [{done}/{total}] {label}")

        count = load_reference_units(options["file"], progress=progress)
        self.stdout.write(self.style.SUCCESS(f"{count} territorial units loaded."))
