"""``alzette onem2m``: the CSE's background work and its credentials."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from alzette.core.repositories import TERRITORY


class Command(BaseCommand):
    help = "oneM2M: run the MQTT binding, deliver notifications, expire resources, keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("mqtt", help="run the MQTT binding (needs ALZETTE_ONEM2M_MQTT_URL)")
        sub.add_parser("deliver", help="deliver due notifications, forget old ones")
        sub.add_parser("expire", help="delete expired resources and too old instances")
        issue = sub.add_parser("issue-key", help="create an organisation's key")
        issue.add_argument("name", help="the organisation")
        issue.add_argument(
            "originators", nargs="+", help='originator patterns it may use, e.g. "Cbins-*" or C'
        )
        revoke = sub.add_parser("revoke-key", help="revoke a key by its prefix")
        revoke.add_argument("prefix")
        sub.add_parser("keys", help="list the keys")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _mqtt(self, options: dict[str, Any]) -> None:
        from alzette.territory.onem2m.bindings import registry

        binding = registry().get("mqtt")
        if binding is None or not binding.enabled():
            raise CommandError("set ALZETTE_ONEM2M_MQTT_URL (mqtt://host:1883) first")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("oneM2M MQTT binding running; Ctrl-C stops it.")
        binding.serve(stop=stop)  # type: ignore[attr-defined]

    def _deliver(self, options: dict[str, Any]) -> None:
        from alzette.territory.onem2m import notifications

        total_sent = total_failed = 0
        while True:
            sent, failed = notifications.deliver_due()
            total_sent, total_failed = total_sent + sent, total_failed + failed
            if sent + failed == 0 or failed:
                break
        purged = notifications.purge()
        self.stdout.write(f"{total_sent} delivered, {total_failed} failed, {purged} forgotten")

    def _expire(self, options: dict[str, Any]) -> None:
        from alzette.territory.onem2m import tree

        self.stdout.write(f"{tree.expire()} expired resource(s) deleted")

    def _issue_key(self, options: dict[str, Any]) -> None:
        from alzette.territory.onem2m import security

        try:
            credential, key = security.issue(options["name"], options["originators"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Key for {credential.name} (shown once, keep it safe):\n{key}")

    def _revoke_key(self, options: dict[str, Any]) -> None:
        from alzette.territory.onem2m.models import Credential

        with transaction.atomic(using=TERRITORY):
            count = Credential.objects.filter(
                prefix=options["prefix"], revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
        if not count:
            raise CommandError(f"no live key with prefix {options['prefix']}")
        self.stdout.write(f"key {options['prefix']} revoked")

    def _keys(self, options: dict[str, Any]) -> None:
        from alzette.territory.onem2m.models import Credential

        for credential in Credential.objects.order_by("created_at"):
            state = "revoked" if credential.revoked_at else "live"
            patterns = " ".join(credential.originators)
            self.stdout.write(f"{credential.prefix}  {state:7}  {credential.name}  {patterns}")
