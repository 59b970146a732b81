"""``alzette procedures``: the scheduled work of online procedures, for cron or the worker.

alzette procedures deadlines   silent acceptances, then reminders to instructors
alzette procedures retention   anonymise decided files past their retention period
alzette procedures statistics  print the aggregates (JSON) that may reach the territory
alzette procedures webhooks    send the webhook messages that are due (run every minute)
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alzette.personal.procedures import services, webhooks


class Command(BaseCommand):
    help = "Scheduled work of online procedures: deadlines, retention, statistics, webhooks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=["deadlines", "retention", "statistics", "webhooks"])

    def handle(self, *args: Any, **options: Any) -> None:
        task = options["task"]
        if task == "deadlines":
            accepted = services.accept_silently()
            reminded = services.remind()
            self.stdout.write(
                f"{len(accepted)} file(s) accepted silently"
                f"{': ' + ', '.join(accepted) if accepted else ''}; {reminded} reminder(s) sent"
            )
        elif task == "retention":
            anonymised = services.apply_retention()
            self.stdout.write(
                f"{len(anonymised)} file(s) anonymised"
                f"{': ' + ', '.join(anonymised) if anonymised else ''}"
            )
        elif task == "webhooks":
            delivered, failed = webhooks.deliver_due()
            self.stdout.write(f"{delivered} webhook message(s) delivered, {failed} to retry")
        else:
            self.stdout.write(json.dumps(services.statistics(), indent=2))
