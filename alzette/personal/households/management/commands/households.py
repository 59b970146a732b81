"""``alzette households``: recycling centre gate keys, and the demo households."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.personal.households import services


class Command(BaseCommand):
    help = "Households: keys of the recycling centres' gates; the demo households."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        key = commands.add_parser("gate-key", help="Issue a gate key for a centre; printed once.")
        key.add_argument("centre", help="the centre's short name, e.g. audun")
        revoke = commands.add_parser("revoke-gate-keys", help="Revoke every key of a centre.")
        revoke.add_argument("centre")
        commands.add_parser("demo", help="Create the demo households (idempotent).")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["command"]
        if command == "gate-key":
            try:
                services.centre(options["centre"])
            except services.UnknownCentre as exc:
                raise CommandError(f"No recycling centre {options['centre']!r}.") from exc
            self.stdout.write(services.issue_gate_key(options["centre"]))
        elif command == "revoke-gate-keys":
            count = services.revoke_gate_keys(options["centre"])
            self.stdout.write(f"{count} key(s) revoked.")
        else:
            from alzette.personal.households.demo import ensure_demo_households

            counts = ensure_demo_households()
            self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))
