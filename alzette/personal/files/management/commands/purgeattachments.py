from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alzette.personal.files.services import purge_orphans


class Command(BaseCommand):
    help = (
        "Delete attachment files that no stored-file row refers to (left behind when a "
        "transaction rolled back after the upload). Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-hours",
            type=int,
            default=24,
            help="Leave younger files alone: their row may not be committed yet (default 24).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        orphans = purge_orphans(
            older_than=timedelta(hours=options["older_than_hours"]), dry_run=options["dry_run"]
        )
        for name in orphans:
            self.stdout.write(name)
        verb = "would be deleted" if options["dry_run"] else "deleted"
        self.stderr.write(f"{len(orphans)} orphan file(s) {verb}.")
