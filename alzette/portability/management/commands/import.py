"""``alzette import ARCHIVE``: recreate what an exported organisation owns, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.portability import services
from alzette.portability.plan import FAIL, POLICIES


class Command(BaseCommand):
    help = (
        "Import an archive written by `alzette export`: verified first (format version, "
        "SHA-256 of every file), then imported all or nothing (docs/portability.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="a ZIP file or a directory written by alzette export")
        parser.add_argument(
            "--on-conflict",
            choices=POLICIES,
            default=FAIL,
            help="an object that exists already: refuse the import (fail, the default), "
            "keep it (skip) or replace it with the archive's (replace)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be done; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = services.import_archive(
                Path(options["archive"]),
                on_conflict=options["on_conflict"],
                dry_run=options["dry_run"],
                progress=lambda message: self.stderr.write(message),
            )
        except services.PortabilityError as exc:
            raise CommandError(str(exc)) from None
        if done.dry_run:
            self._print_plan(done)
            return
        self.stderr.write(f"Imported: {json.dumps(done.counts, sort_keys=True)}")
        for item in done.manifest.get("to_reissue", []):
            self.stderr.write(f"to re-issue: {item['kind']} {item['name']}")
        # The ledger entry's receipt and opening (payload and salt): keep them.
        self.stdout.write(json.dumps(done.opening, indent=2))

    def _print_plan(self, done: services.Imported) -> None:
        self.stdout.write(f"Dry run, nothing written (policy {done.plan.policy}):")
        for action in done.plan.actions:
            self.stdout.write(f"  {action.line()}")
        for kind, verbs in sorted(done.plan.counts().items()):
            summary = ", ".join(f"{verb} {n}" for verb, n in sorted(verbs.items()))
            self.stdout.write(f"{kind}: {summary}")
        if done.plan.blocking():
            self.stdout.write("The import would be refused: see the conflict and invalid lines.")
