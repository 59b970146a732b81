"""``alzette bridge statistics``: refresh the aggregates the territory receives."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alzette.bridge import procedures


class Command(BaseCommand):
    help = "Anonymisation bridge: refresh the aggregates published to the territory repository."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=["statistics"])

    def handle(self, *args: Any, **options: Any) -> None:
        rows = procedures.publish_statistics()
        self.stdout.write(f"{rows} procedure statistic row(s) published to the territory")
