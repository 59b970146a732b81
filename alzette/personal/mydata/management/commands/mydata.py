"""``alzette mydata``: housekeeping of the "my data" space (the access log's retention)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "My data: purge access-log entries older than their retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser(
            "purge-access-log",
            help="delete access-log entries older than ALZETTE_MYDATA_ACCESS_LOG_DAYS "
            "(the worker runs it daily)",
        )
        purge.add_argument(
            "--days", type=int, help="keep this many days instead of the setting (at least 1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _purge_access_log(self, options: dict[str, Any]) -> None:
        from alzette.personal.mydata.services import access_log_days, purge_access_log

        days = access_log_days() if options["days"] is None else options["days"]
        try:
            deleted = purge_access_log(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{deleted} access-log entries older than {days} days deleted")
