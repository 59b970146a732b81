"""``alzette lighting <task>``: the street lighting's routine work (docs/lighting.md).

Each task is a function of a lighting context that does one round and returns a
one-line summary; the worker's jobs (``alzette.core.jobs``) run ``schedule`` and
``retry`` every minute.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

TASKS = {
    "schedule": (
        "alzette.territory.lighting.schedule.run_schedule",
        "send the commands the policies and the calendar ask for now",
    ),
    "retry": (
        "alzette.territory.lighting.commands.services.run_retry",
        "re-send commands not acknowledged in time; mark those out of retries as failed",
    ),
    "energy": (
        "alzette.territory.lighting.energy.services.run_refresh",
        "recompute the energy and savings of the current and previous month",
    ),
}


class Command(BaseCommand):
    help = "Street lighting tasks: " + "; ".join(f"{k}: {v[1]}" for k, v in TASKS.items())

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=sorted(TASKS))

    def handle(self, *args: Any, **options: Any) -> None:
        run = import_string(TASKS[options["task"]][0])
        summary = run()
        if summary and options["verbosity"]:
            self.stdout.write(str(summary))
