"""The background worker: jobs as commands, checked, locked, and run by a real Huey consumer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from huey import SqliteHuey

from alzette.core import jobs
from alzette.core.checks import check_jobs
from tests.conftest import ALL_DATABASES

ALZETTE = [sys.executable, "-m", "alzette.cli"]


def test_every_job_names_a_command_on_a_valid_schedule():
    assert jobs.problems(jobs.jobs()) == []
    assert {job.name for job in jobs.jobs()} >= {"procedure-webhooks", "procedure-deadlines"}


def test_a_bad_job_list_fails_the_system_check(settings):
    settings.ALZETTE_JOBS = [
        {"name": "typo", "command": ["procedurs", "deadlines"], "schedule": {"minute": "*"}},
        {"name": "never", "command": ["cleartokens"], "schedule": {"minute": "61"}},
        {"name": "never", "command": ["cleartokens"], "schedule": {}},
    ]
    messages = [error.msg for error in check_jobs()]
    assert any("unknown command" in message and "typo" in message for message in messages)
    assert any("bad schedule" in message for message in messages)
    assert any("declared twice" in message for message in messages)
    assert {error.id for error in check_jobs()} == {"jobs.E001"}


def test_each_job_is_a_locked_periodic_task():
    from huey.contrib.djhuey import HUEY

    from alzette.core import tasks

    assert set(tasks.PERIODIC) == {job.name for job in jobs.jobs()}
    periodic = {task.name for task in HUEY._registry.periodic_tasks}
    assert {f"job.{job.name}" for job in jobs.jobs()} <= periodic
    assert HUEY.immediate is False  # scheduled work really waits for the worker


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_runjob_runs_a_job_here_and_refuses_an_unknown_one(capsys):
    call_command("runjob", "procedure-webhooks")
    assert "webhook message(s) delivered" in capsys.readouterr().out
    with pytest.raises(Exception, match="Unknown job"):
        call_command("runjob", "nope")


def test_a_real_consumer_runs_a_queued_job(tmp_path: Path):
    env = {
        **os.environ,
        "ALZETTE_DATA_DIR": str(tmp_path),
        "ALZETTE_MODE": "development",
        "ALZETTE_LOG_LEVEL": "WARNING",
    }
    for name in ("ALZETTE_REDIS_URL", "ALZETTE_PERSONAL_DATABASE_URL"):
        env.pop(name, None)
    run = {"env": env, "capture_output": True, "text": True, "timeout": 120, "check": True}
    subprocess.run([*ALZETTE, "migrate", "--database", "personal", "-v0"], **run)
    queued = subprocess.run([*ALZETTE, "runjob", "procedure-webhooks", "--queue"], **run)
    task_id = re.search(r"task ([0-9a-f-]+)", queued.stdout).group(1)
    queue = SqliteHuey("alzette", filename=str(tmp_path / "tasks.sqlite3"))
    assert queue.pending_count() == 1  # waiting for a worker, not run in the request

    consumer = subprocess.Popen([*ALZETTE, "run_huey", "-w", "1", "-n"], env=env)
    try:
        result = None
        for _ in range(100):
            result = queue.result(task_id)
            if result is not None:
                break
            time.sleep(0.2)
    finally:
        consumer.terminate()
        consumer.wait(timeout=30)
    assert result is not None and "webhook message(s) delivered" in result
    assert queue.pending_count() == 0
