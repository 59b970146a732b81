"""``alzette runjob NAME``: run one scheduled job now, here or (``--queue``) in the worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from alzette.core import jobs


class Command(BaseCommand):
    help = "Run one of the worker's scheduled jobs now (alzette runjob --list names them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the job's name")
        parser.add_argument("--list", action="store_true", help="list the jobs and schedules")
        parser.add_argument("--queue", action="store_true", help="hand it to the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        known = {job.name: job for job in jobs.jobs()}
        if options["list"]:
            for job in known.values():
                schedule = " ".join(f"{key}={value}" for key, value in job.schedule.items())
                self.stdout.write(f"{job.name:22} {' '.join(job.command):28} {schedule}")
            return
        job = known.get(options["name"] or "")
        if job is None:
            raise CommandError(f"Unknown job {options['name']!r}; known: {', '.join(known)}.")
        if options["queue"]:
            from alzette.core.tasks import run_now

            result = run_now(job.name)
            self.stdout.write(f"Queued {job.name} (task {result.id}).")
            return
        self.stdout.write(jobs.run(job), ending="")
