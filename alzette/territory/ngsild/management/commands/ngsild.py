"""``alzette ngsild``: the broker's background work, keys and device mappings."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "NGSI-LD: deliver notifications, periodic subscriptions, history retention, keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("deliver", help="deliver due notifications (retries included)")
        sub.add_parser("periodic", help="queue the notifications of timeInterval subscriptions")
        sub.add_parser("retention", help="create coming history partitions, drop expired ones")
        issue = sub.add_parser("issue-key", help="create a key that may write the context")
        issue.add_argument("name", help="the organisation")
        issue.add_argument("tenants", nargs="*", help='tenants it may write ("" default, * all)')
        issue.add_argument("--read-only", action="store_true")
        revoke = sub.add_parser("revoke-key", help="revoke a key by its prefix")
        revoke.add_argument("prefix")
        sub.add_parser("keys", help="list the keys")
        mapping = sub.add_parser("map", help="map a oneM2M container pattern to an entity")
        mapping.add_argument("name")
        mapping.add_argument("container", help="e.g. alzette/Cbin-*/fill")
        mapping.add_argument("entity_type", help="e.g. WasteContainer")
        mapping.add_argument("entity_id", help="e.g. urn:ngsi-ld:WasteContainer:{ae}")
        mapping.add_argument("attribute", help="e.g. fillingLevel")
        mapping.add_argument("--value-path", default="", help="member of a JSON content")
        mapping.add_argument("--unit-code", default="", help="UN/CEFACT code, e.g. P1")
        mapping.add_argument("--context", default="", help="@context URL or JSON")
        mapping.add_argument("--tenant", default="")
        sub.add_parser("mappings", help="list the device mappings")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _deliver(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild import notifier

        total_sent = total_failed = 0
        while True:
            sent, failed = notifier.deliver_due()
            total_sent, total_failed = total_sent + sent, total_failed + failed
            if sent + failed == 0 or failed:
                break
        self.stdout.write(f"{total_sent} delivered, {total_failed} failed")

    def _periodic(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild import notifier, subscriptions

        queued = subscriptions.due_periodic()
        if queued:
            notifier.deliver_due()
        self.stdout.write(f"{queued} periodic notifications queued")

    def _retention(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild import partitions

        partitions.ensure_ahead()
        dropped = partitions.apply_retention()
        self.stdout.write(f"history retention applied: {dropped} partitions or rows dropped")

    def _issue_key(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild import security

        _, secret = security.issue(
            options["name"], options["tenants"], can_write=not options["read_only"]
        )
        self.stdout.write(f"key (shown once): {secret}")

    def _revoke_key(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild import security

        if not security.revoke(options["prefix"]):
            raise CommandError(f"no live key with prefix {options['prefix']}")
        self.stdout.write("revoked")

    def _keys(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild.models import ApiKey

        for key in ApiKey.objects.using("territory").order_by("created_at"):
            state = "revoked" if key.revoked_at else ("write" if key.can_write else "read")
            tenants = ",".join(t or '""' for t in key.tenants) or '""'
            self.stdout.write(f"{key.prefix}  {state:8} {tenants:20} {key.name}")

    def _map(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild import mapping

        context: Any = options["context"] or None
        if context and context.lstrip().startswith(("{", "[")):
            try:
                context = json.loads(context)
            except ValueError as exc:
                raise CommandError(f"--context is not JSON: {exc}") from None
        try:
            row = mapping.define(
                name=options["name"], container=options["container"],
                entity_type=options["entity_type"], entity_id=options["entity_id"],
                attribute=options["attribute"], value_path=options["value_path"],
                unit_code=options["unit_code"], context=context, tenant=options["tenant"],
            )  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"mapping {row.name}: {row.container} -> {row.entity_id}")

    def _mappings(self, options: dict[str, Any]) -> None:
        from alzette.territory.ngsild.models import DeviceMapping

        for row in DeviceMapping.objects.using("territory").order_by("name"):
            state = "on " if row.enabled else "off"
            self.stdout.write(f"{state} {row.name}: {row.container} -> {row.entity_id} "
                              f"{row.attribute}")  # fmt: skip
