"""System checks that keep the repository split true as apps are added."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from alzette.core.repositories import APP_REPOSITORY, DATABASE_ALIASES


@checks.register(checks.Tags.database)
def check_every_app_has_a_repository(app_configs: Any = None, **kwargs: Any) -> list:
    """Every app with concrete models is assigned to exactly one repository."""
    errors = []
    for config in apps.get_app_configs():
        concrete = [m for m in config.get_models() if not m._meta.abstract and m._meta.managed]
        if concrete and config.label not in APP_REPOSITORY:
            errors.append(
                checks.Error(
                    f"App '{config.label}' has models but no repository.",
                    hint="Add it to APP_REPOSITORY in alzette/core/repositories.py.",
                    id="alzette.E001",
                )
            )
    return errors


@checks.register(checks.Tags.database)
def check_repository_aliases(app_configs: Any = None, **kwargs: Any) -> list:
    """Every database alias (both repositories and the ledger) is configured."""
    missing = [alias for alias in DATABASE_ALIASES if alias not in settings.DATABASES]
    return [
        checks.Error(f"DATABASES has no '{alias}' alias.", id="alzette.E002") for alias in missing
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_production_database(app_configs: Any = None, **kwargs: Any) -> list:
    """In production the repositories should be on PostgreSQL, not embedded files."""
    if settings.ALZETTE_MODE != "production":
        return []
    return [
        checks.Warning(
            f"The {alias} repository uses SQLite in production mode.",
            hint=f"Set ALZETTE_{alias.upper()}_DATABASE_URL to a PostgreSQL URL.",
            id="alzette.W001",
        )
        for alias in DATABASE_ALIASES
        if settings.DATABASES[alias]["ENGINE"].endswith("sqlite3")
    ]


@checks.register()
def check_jobs(app_configs: Any = None, **kwargs: Any) -> list:
    """Every scheduled job names a command that exists, on a schedule huey accepts."""
    from alzette.core import jobs

    return [
        checks.Error(problem, hint="Fix ALZETTE_JOBS or alzette.core.jobs.JOBS.", id="jobs.E001")
        for problem in jobs.problems(jobs.jobs())
    ]
