"""``alzette water <task>``: routine work of the water context; the worker runs ``detect``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

TASKS = {
    "detect": (
        "alzette.territory.water.detection.run_detect",
        "look for leaks: night minimum flow, continuous flow, network balance",
    ),
}


class Command(BaseCommand):
    help = "; ".join(f"{k}: {v[1]}" for k, v in TASKS.items())

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=sorted(TASKS))

    def handle(self, *args: Any, **options: Any) -> None:
        summary = import_string(TASKS[options["task"]][0])()
        if summary and options["verbosity"]:
            self.stdout.write(str(summary))
