"""``alzette documents reindex|purge-orphans``: the document store's maintenance."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from alzette.territory.documents import services


class Command(BaseCommand):
    help = "Maintenance of the territory's document store (see docs/documents.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser(
            "reindex",
            help="Rebuild every document's full-text entry (after an upgrade of the analysis).",
        )
        purge = commands.add_parser(
            "purge-orphans",
            help="Delete stored files no document refers to (a crash after a deletion).",
        )
        purge.add_argument(
            "--older-than-hours",
            type=int,
            default=24,
            help="Leave younger files alone: their row may not be committed yet (default 24).",
        )
        purge.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["command"] == "reindex":
            count = services.reindex()
            self.stderr.write(f"{count} document(s) indexed.")
            return
        orphans = services.purge_orphans(
            older_than=timedelta(hours=options["older_than_hours"]), dry_run=options["dry_run"]
        )
        for name in orphans:
            self.stdout.write(name)
        verb = "would be deleted" if options["dry_run"] else "deleted"
        self.stderr.write(f"{len(orphans)} orphan file(s) {verb}.")
