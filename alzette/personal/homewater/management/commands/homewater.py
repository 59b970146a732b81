"""``alzette homewater <task>``: households' water routine; the worker runs ``check``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

TASKS = {
    "check": (
        "alzette.personal.homewater.services.run_check",
        "warn households of abnormal use and of leaks",
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
