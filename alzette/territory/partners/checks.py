"""System checks: the partners' access-log retention is a usable number of days."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def check_access_log_retention(app_configs: Any = None, **kwargs: Any) -> list:
    from alzette.territory.partners.services import ACCESS_LOG_DAYS, access_log_days_problem

    value = getattr(settings, "ALZETTE_PARTNERS_ACCESS_LOG_DAYS", ACCESS_LOG_DAYS)
    problem = access_log_days_problem(value)
    if not problem:
        return []
    return [
        checks.Error(
            f"ALZETTE_PARTNERS_ACCESS_LOG_DAYS {problem}.",
            hint=f"Set it to the days partners' access-log entries are kept "
            f"({ACCESS_LOG_DAYS} by default).",
            id="partners.E001",
        )
    ]
