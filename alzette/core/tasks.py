"""Huey tasks of the platform, found by ``huey.contrib.djhuey`` when the worker starts.

Every job of ``alzette.core.jobs`` becomes a periodic task, locked by name: if a
run is still going when the next one is due (or another worker holds it), the
new run is skipped rather than doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from alzette.core import jobs

logger = logging.getLogger("alzette.jobs")


def _periodic(job: jobs.Job) -> Callable[[], str]:
    @db_periodic_task(crontab(**job.schedule), name=f"job.{job.name}")
    @lock_task(f"job.{job.name}")
    def run_job() -> str:
        output = jobs.run(job)
        logger.info("Job %s: %s", job.name, output.strip())
        return output

    return run_job


PERIODIC = {job.name: _periodic(job) for job in jobs.jobs()}


@db_task(retries=3, retry_delay=60, name="job.run_now")
def run_now(name: str) -> str:
    """Run one job now, in the worker (``alzette runjob NAME --queue`` enqueues it)."""
    job = next(job for job in jobs.jobs() if job.name == name)
    return jobs.run(job)
