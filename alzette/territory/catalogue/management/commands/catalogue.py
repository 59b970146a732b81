"""``alzette catalogue refresh|list``: the open-data catalogue's upkeep."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.territory.catalogue import services
from alzette.territory.catalogue.models import Dataset


class Command(BaseCommand):
    help = "Refresh the open-data catalogue's datasets, or list them (docs/open-data.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        refresh = commands.add_parser(
            "refresh", help="Refresh the datasets that are due (by their update frequency)."
        )
        refresh.add_argument("identifiers", nargs="*", help="Refresh these now, due or not.")
        commands.add_parser("list", help="Each dataset, its rows and its freshness.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "list":
            for dataset in Dataset.objects.using(services.DB).order_by("identifier"):
                state = dataset.refresh_error or "ok"
                self.stdout.write(f"{dataset.identifier}\t{dataset.row_count}\t"
                                  f"{dataset.refreshed_at or 'never'}\t{state}")  # fmt: skip
            return
        if not options["identifiers"]:
            self.stderr.write(f"{services.refresh_due()} dataset(s) refreshed.")
            return
        failed = []
        for identifier in options["identifiers"]:
            dataset = Dataset.objects.using(services.DB).filter(identifier=identifier).first()
            if dataset is None:
                raise CommandError(f"No dataset {identifier!r}.")
            if not services.refresh(dataset):
                failed.append(f"{identifier}: {dataset.refresh_error}")
        if failed:
            raise CommandError("Refresh failed, last good figures kept: " + "; ".join(failed))
        self.stderr.write(f"{len(options['identifiers'])} dataset(s) refreshed.")
