"""Two processes appending at once still build one consistent append-only log (PostgreSQL)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time

import pytest
from django.db import connections

from alzette.ledger import services
from alzette.ledger.models import LedgerEntry, TreeHead
from alzette.ledger.verify import verify
from tests.conftest import ALL_DATABASES, clean_env

pytestmark = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)

APPENDER = textwrap.dedent("""
    import os, sys, time
    import django
    django.setup()
    from alzette.ledger import services
    from alzette.ledger.entries import Entry, commit
    name, go = sys.argv[1], sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.01)
    for n in range(60):
        entry = Entry(services.now_ms(), "device.command_sent", f"system:{name}",
                      f"streetlight:{name}-{n}", commit({"n": n}).digest)
        if n % 10 == 9:
            twin = Entry(**{**entry.as_dict(), "object": f"streetlight:{name}-{n}b"})
            services.append_many([entry, twin])
        else:
            services.append(entry)
""")


def _url(alias: str) -> str:
    settings = connections[alias].settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def test_concurrent_appenders(tmp_path, ledger_key_pem):
    if connections["ledger"].vendor != "postgresql":
        pytest.skip("concurrent processes need a shared server database (make test-postgres)")
    go = tmp_path / "go"
    env = clean_env(
        DJANGO_SETTINGS_MODULE="alzette.conf.settings",
        ALZETTE_DATA_DIR=str(tmp_path),
        ALZETTE_LEDGER_DATABASE_URL=_url("ledger"),
        ALZETTE_LEDGER_SIGNING_KEY=ledger_key_pem,
        ALZETTE_LOG_LEVEL="WARNING",
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, name, str(go)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    time.sleep(1.0)  # both are started and waiting
    go.touch()
    for worker in workers:
        _, errors = worker.communicate(timeout=240)
        assert worker.returncode == 0, errors

    assert services.current_size() == 2 * 66
    indexes = list(
        LedgerEntry.objects.using("ledger").order_by("index").values_list("index", flat=True)
    )
    assert indexes == list(range(132))
    actors = list(
        LedgerEntry.objects.using("ledger").order_by("index").values_list("actor", flat=True)
    )
    switches = set(itertools.pairwise(actors))
    assert len(switches) > 2, "the two processes never interleaved their appends"
    assert TreeHead.objects.using("ledger").count() == 2 * 60
    report = verify(services.signing_key().public_key)
    assert report.ok, report.findings
