from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from alzette.core.i18n import catalogues, compile_catalogue


class Command(BaseCommand):
    help = "Compile the interface's gettext catalogues (.po -> .mo) without system gettext."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Recompile every catalogue.")

    def handle(self, *args: Any, **options: Any) -> None:
        written = [
            po
            for po in catalogues(Path(d) for d in settings.LOCALE_PATHS)
            if compile_catalogue(po, force=options["force"])
        ]
        if options["verbosity"] >= 2:
            for po in written:
                self.stdout.write(f"compiled {po}")
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"{len(written)} catalogue(s) compiled."))
