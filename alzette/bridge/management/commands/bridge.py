"""``alzette bridge release [--spec NAME]...``: release the aggregates to the territory.

``alzette bridge statistics`` is the older name of ``release --spec procedure-files``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.bridge import aggregates, procedures


class Command(BaseCommand):
    help = (
        "Anonymisation bridge: release the k-anonymous aggregates (every spec of "
        "ALZETTE_BRIDGE_AGGREGATES, or those named) to the territory repository."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=["release", "statistics"])
        parser.add_argument(
            "--spec", action="append", default=[], help="An aggregate to release (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["task"] == "statistics":
                outcomes = [aggregates.release(procedures.ProcedureFiles())]
            else:
                outcomes = aggregates.release_all(options["spec"])
        except aggregates.AggregateError as error:
            raise CommandError(str(error)) from None
        for outcome in outcomes:
            noise = f"epsilon {outcome.epsilon}" if outcome.epsilon else "no noise"
            self.stdout.write(
                f"{outcome.spec}: {outcome.released} cell(s) released, {outcome.suppressed} "
                f"suppressed (k={outcome.k}, {noise})"
            )
