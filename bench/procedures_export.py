"""Throughput and memory of the agents' CSV export: constant memory whatever the size.

    python bench/procedures_export.py            # 10,000 files, then 1,000 for comparison
    BENCH_FILES=50000 python bench/procedures_export.py

Runs on the embedded default (SQLite files in a temporary directory) unless the
ALZETTE_*_DATABASE_URL variables point elsewhere. Files are inserted in bulk (no
ledger entries, no e-mails): what is measured is the export alone, which reads
every file and writes one access-log line per file for its applicant.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

FILES = int(os.environ.get("BENCH_FILES", "10000"))


def _setup() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("ALZETTE_DATA_DIR", tempfile.mkdtemp(prefix="alzette-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    os.environ.setdefault("ALZETTE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Measure as production runs: development mode's DEBUG keeps a log of every query.
    settings.DEBUG = False

    for database in ("personal", "territory", "ledger"):
        call_command("migrate", database=database, verbosity=0)


def _fill(count: int) -> tuple[object, object]:
    from django.utils import timezone

    from alzette.personal.accounts.models import OrganisationalUnit, Role, User
    from alzette.personal.accounts.services import sync_organisational_units
    from alzette.personal.procedures.demo import ensure_demo_procedures
    from alzette.personal.procedures.models import Dossier, Procedure, Status
    from alzette.territory.geo.services import load_reference_units

    load_reference_units()
    sync_organisational_units()
    villerupt = OrganisationalUnit.objects.get(code="54580")
    agent = User.objects.create_user("bench.agent@example.org", role=Role.AGENT, unit=villerupt)
    citizen = User.objects.create_user("bench.citizen@example.org", role=Role.CITIZEN)
    ensure_demo_procedures()
    procedure = Procedure.objects.get(slug="preinscription-creche")
    group = procedure.groups.get(unit=villerupt)
    group.members.add(agent)
    version = procedure.versions.exclude(published_at=None).latest("number")
    now = timezone.now()
    answers = {
        "given_name": "Camille",
        "family_name": "Martin",
        "address": {"street": "1 rue de la Gare", "commune": "54580", "commune_name": "Villerupt"},
        "child_name": "Léa",
        "born": True,
        "birthdate": "2025-03-02",
        "days": ["mon", "tue"],
        "start": (now + timedelta(days=90)).date().isoformat(),
    }
    Dossier.objects.bulk_create(
        [
            Dossier(
                procedure=procedure,
                version=version,
                user=citizen,
                reference=f"CRE-BENCH-{n:06d}",
                status=Status.SUBMITTED,
                answers=answers,
                commune=villerupt,
                group=group,
                submitted_at=now - timedelta(minutes=n),
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    return agent, procedure


def _measure(agent: object, limit: int) -> tuple[float, int, int]:
    from alzette.personal.procedures import agent_api

    files = agent_api.filtered(agent, agent_api.FileFilter())
    files = files.filter(pk__in=list(files.values_list("pk", flat=True)[:limit]))
    tracemalloc.start()
    started = time.perf_counter()
    size = sum(len(line.encode()) for line in agent_api.csv_rows(agent, files))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, size


def main() -> None:
    _setup()
    agent, _procedure = _fill(FILES)
    for limit in (FILES // 10, FILES):
        elapsed, peak, size = _measure(agent, limit)
        print(
            f"CSV export of {limit:,} files: {elapsed:.2f} s = {limit / elapsed:,.0f} files/s, "
            f"{size / 1e6:.1f} MB written, peak Python memory {peak / 1e6:.1f} MB"
        )
    print("(memory should stay flat from the small export to the large one)")


if __name__ == "__main__":
    main()
