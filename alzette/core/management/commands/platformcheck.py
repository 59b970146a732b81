from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from alzette.core.health import repository_status
from alzette.core.repositories import DATABASE_ALIASES


class Command(BaseCommand):
    help = "Check configuration (deploy checks in production), both repositories and migrations."

    def handle(self, *args: Any, **options: Any) -> None:
        production = settings.ALZETTE_MODE == "production"
        call_command(
            "check",
            deploy=production,
            fail_level="WARNING" if production else "ERROR",
            databases=list(DATABASE_ALIASES),
        )
        problems = []
        for alias in DATABASE_ALIASES:
            if repository_status(alias) != "ok":
                problems.append(f"the {alias} repository does not answer")
                continue
            executor = MigrationExecutor(connections[alias])
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                problems.append(f"the {alias} repository has {len(pending)} unapplied migration(s)")
            self.stdout.write(f"{alias}: {'ok' if not pending else 'migrations pending'}")
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS(f"Alzette is healthy ({settings.ALZETTE_MODE} mode)."))
