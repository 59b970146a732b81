"""Scheduled jobs: a registry of management commands and when the worker runs them.

Each job is an existing ``alzette`` command (the same one an operator or cron
runs by hand), so the work it does has one implementation. The worker
(``alzette run_huey``, see docs/adr/0010-worker-huey.md) turns every job into a
Huey periodic task (``alzette/core/tasks.py``), locked so that two workers never
run the same job at once.

A deployment replaces the list with the ``ALZETTE_JOBS`` setting: a list of
``{"name": ..., "command": [...], "schedule": {...}}`` where ``schedule`` holds
the arguments of ``huey.crontab`` (``minute``, ``hour``, ``day``, ``month``,
``day_of_week``; cron syntax). An app adds a job with one line in ``JOBS``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command, get_commands


@dataclass(frozen=True)
class Job:
    name: str
    command: tuple[str, ...]  # the management command, then its arguments
    schedule: dict[str, str] = field(default_factory=dict)  # huey.crontab() arguments


JOBS: tuple[Job, ...] = (
    Job("procedure-webhooks", ("procedures", "webhooks"), {"minute": "*"}),
    Job("procedure-deadlines", ("procedures", "deadlines"), {"minute": "7"}),
    Job("procedure-retention", ("procedures", "retention"), {"minute": "30", "hour": "2"}),
    Job("bridge-release", ("bridge", "release"), {"minute": "45", "hour": "2"}),
    Job("expire-payments", ("expirepayments",), {"minute": "0", "hour": "3"}),
    Job("purge-attachments", ("purgeattachments",), {"minute": "15", "hour": "3"}),
    Job("clear-oauth-tokens", ("cleartokens",), {"minute": "30", "hour": "3"}),
    Job("onem2m-notifications", ("onem2m", "deliver"), {"minute": "*"}),
    Job("onem2m-expiry", ("onem2m", "expire"), {"minute": "*/5"}),
    Job("ngsild-notifications", ("ngsild", "deliver"), {"minute": "*"}),
    Job("ngsild-periodic", ("ngsild", "periodic"), {"minute": "*"}),
    Job("ngsild-retention", ("ngsild", "retention"), {"minute": "20", "hour": "4"}),
    Job("purge-documents", ("documents", "purge-orphans"), {"minute": "20", "hour": "3"}),
    Job("catalogue-refresh", ("catalogue", "refresh"), {"minute": "*/5"}),
    Job("partners-expiry", ("partners", "expire"), {"minute": "*/5"}),
    Job("partners-access-log", ("partners", "purge-access-log"), {"minute": "55", "hour": "3"}),
    Job("supervision-check", ("supervision", "check"), {"minute": "*/5"}),
    Job("supervision-purge", ("supervision", "purge"), {"minute": "40", "hour": "3"}),
    Job("alert-mail-digests", ("accounts", "alert-digests"), {"minute": "*"}),
    Job("lighting-schedule", ("lighting", "schedule"), {"minute": "*"}),
    Job("lighting-retry", ("lighting", "retry"), {"minute": "*"}),
    Job("lighting-energy", ("lighting", "energy"), {"minute": "17"}),
    Job("water-detect", ("water", "detect"), {"minute": "*/15"}),
    Job("homewater-check", ("homewater", "check"), {"minute": "25"}),
    Job("mydata-access-log", ("mydata", "purge-access-log"), {"minute": "50", "hour": "3"}),
)


def jobs() -> tuple[Job, ...]:
    """The jobs of this deployment: ``ALZETTE_JOBS`` if set, else ``JOBS``."""
    configured = getattr(settings, "ALZETTE_JOBS", None)
    if configured is None:
        return JOBS
    return tuple(
        Job(item["name"], tuple(item["command"]), dict(item.get("schedule", {})))
        for item in configured
    )


def problems(candidates: tuple[Job, ...]) -> list[str]:
    """What is wrong with ``candidates``: unknown commands, bad schedules, duplicate names."""
    from huey import crontab

    found, names, commands = [], set(), get_commands()
    for job in candidates:
        if job.name in names:
            found.append(f"job {job.name!r} is declared twice")
        names.add(job.name)
        if not job.command or job.command[0] not in commands:
            found.append(f"job {job.name!r}: unknown command {job.command[:1]}")
        try:
            crontab(**job.schedule)
        except (TypeError, ValueError) as exc:
            found.append(f"job {job.name!r}: bad schedule {job.schedule} ({exc})")
    return found


def run(job: Job) -> str:
    """Run the job's command now; what it printed."""
    output = io.StringIO()
    call_command(*job.command, stdout=output)
    return output.getvalue()
