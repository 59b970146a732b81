"""``alzette export ORGANISATION ARCHIVE``: everything an organisation owns, in open formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.portability import services
from alzette.portability.personal_procedures import UnknownUnit


class Command(BaseCommand):
    help = (
        "Export an organisation (datasets, entities and their history, device mappings, "
        "procedure definitions) to a ZIP file or a new directory (docs/portability.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the organisation's short name (slug)")
        parser.add_argument("archive", help="a path ending in .zip, or a new directory")
        parser.add_argument(
            "--procedures",
            metavar="UNIT_CODE",
            help="also the procedure definitions of this organisational unit and the units "
            "below it (procedures belong to units, not to organisations)",
        )
        parser.add_argument(
            "--no-shared-entities",
            action="store_true",
            help="leave out the shared tenant's entities behind the organisation's datasets",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = services.export(
                options["organisation"],
                Path(options["archive"]),
                procedures_unit=options["procedures"],
                shared_entities=not options["no_shared_entities"],
                progress=lambda message: self.stderr.write(message),
            )
        except (services.PortabilityError, UnknownUnit) as exc:
            raise CommandError(str(exc)) from None
        manifest = done.manifest
        for item in manifest["to_reissue"]:
            self.stderr.write(f"to re-issue on the target: {item['kind']} {item['name']}")
        self.stderr.write(f"Exported {manifest['organisation']['slug']} to {options['archive']}: "
                          f"{len(manifest['parts'])} file(s).")  # fmt: skip
        # The ledger entry's receipt and opening: keep them with the archive.
        self.stdout.write(json.dumps(done.opening, indent=2))
