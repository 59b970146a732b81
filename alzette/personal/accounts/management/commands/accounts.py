"""``alzette accounts <task>``: accounts' routine; the worker runs ``alert-digests``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

TASKS = {
    "alert-digests": (
        "alzette.personal.accounts.alertmail.send_due_digests",
        "mail the digests of supervision alerts whose window is over",
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
