"""``alzette supervision``: "no data" alert rules, device health and quarantine from the shell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Supervision: check no-data alert rules, list device health, purge old quarantine."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="fire the no-data alert rules (the worker runs it)")
        devices = sub.add_parser("devices", help="device health (status, last seen, battery)")
        devices.add_argument("--status", choices=["ok", "low_battery", "offline"])
        purge = sub.add_parser("purge", help="delete quarantined messages older than N days")
        purge.add_argument("--days", type=int, default=90)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _check(self, options: dict[str, Any]) -> None:
        from alzette.territory.supervision import alerts

        fired = alerts.check_no_data()
        self.stdout.write(f"{len(fired)} no-data alerts fired")

    def _devices(self, options: dict[str, Any]) -> None:
        from alzette.territory.supervision import health

        for item in health.devices():
            if options["status"] and item.status != options["status"]:
                continue
            seen = item.last_seen.isoformat() if item.last_seen else "-"
            battery = f"{item.battery:.0%}" if item.battery is not None else "-"
            self.stdout.write(
                f"{item.device}\t{item.status}\t{seen}\t{battery}\t"
                f"{item.messages}\t{item.quarantined}\t{item.error_rate:.1%}"
            )

    def _purge(self, options: dict[str, Any]) -> None:
        from alzette.territory.supervision.models import QuarantinedMessage

        cutoff = datetime.now(UTC) - timedelta(days=options["days"])
        deleted, _ = (
            QuarantinedMessage.objects.using("territory").filter(received_at__lt=cutoff).delete()
        )
        self.stdout.write(f"{deleted} quarantined messages deleted")
