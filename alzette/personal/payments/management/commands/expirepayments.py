"""``alzette expirepayments [--hours N]``: expire payments left pending too long."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alzette.personal.payments.services import expire_pending


class Command(BaseCommand):
    help = "Mark expired the payments still pending after N hours (default 24)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        expired = expire_pending(timedelta(hours=max(options["hours"], 1)))
        self.stdout.write(f"{len(expired)} payment(s) expired.")
