"""Ledger throughput and proof latency at a million entries, on SQLite and PostgreSQL.

Prints appends per second (single, and batched) and the time of inclusion and
consistency proofs once the log holds --size entries. Targets: proofs under
10 ms at 10^6 entries; batched appends above 2,000 per second.

    python bench/ledger.py                      # both backends, 10^6 entries
    python bench/ledger.py --backend sqlite --size 100000
    python bench/ledger.py --verify             # also time `ledger verify`

PostgreSQL: a throwaway database alzette_bench_ledger on BENCH_PG_URL
(default postgres://postgres@127.0.0.1:5432) is dropped and recreated.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_DB = "alzette_bench_ledger"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run(args)
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        print(f"== {backend} ==", flush=True)
        env = dict(
            os.environ,
            ALZETTE_DATA_DIR=tempfile.mkdtemp(prefix="alzette-bench-"),
            DJANGO_SETTINGS_MODULE="alzette.conf.settings",
            ALZETTE_LOG_LEVEL="WARNING",
        )
        if backend == "postgresql":
            _recreate_pg_database()
            env["ALZETTE_LEDGER_DATABASE_URL"] = f"{PG_URL}/{PG_DB}"
        command = [
            sys.executable,
            __file__,
            "--worker",
            "--size",
            str(args.size),
            "--batch",
            str(args.batch),
        ] + (["--verify"] if args.verify else [])
        subprocess.run(command, env=env, check=True, cwd=ROOT)


def _recreate_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        connection.execute(f"CREATE DATABASE {PG_DB}")


def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from alzette.ledger import services
    from alzette.ledger.entries import Entry, commit

    call_command("migrate", database="ledger", verbosity=0)
    digest = commit({"bench": True}).digest

    def entry(n: int) -> Entry:
        return Entry(
            1_790_000_000_000 + n, "device.command_sent", "system:bench", f"streetlight:{n}", digest
        )

    single = 500
    started = time.perf_counter()
    for n in range(single):
        services.append(entry(n))
    elapsed = time.perf_counter() - started
    print(f"single appends (with receipt): {single / elapsed:,.0f}/s", flush=True)

    started, appended = time.perf_counter(), single
    while appended < args.size:
        count = min(args.batch, args.size - appended)
        services.append_many([entry(appended + k) for k in range(count)], receipts=False)
        appended += count
        if (appended - single) % (args.batch * 20) == 0:
            print(f"  ... {appended:,} entries", flush=True)
    elapsed = time.perf_counter() - started
    print(
        f"batched appends ({args.batch:,} per transaction): {(appended - single) / elapsed:,.0f}/s",
        flush=True,
    )

    size = services.current_size()
    rng = random.Random(1)
    print(
        f"inclusion proof at {size:,} entries: "
        f"{_median_ms(lambda: services.inclusion_proof(rng.randrange(size))[1])} (target < 10 ms)"
    )
    print(
        f"consistency proof at {size:,} entries: "
        f"{_median_ms(lambda: services.consistency_proof(rng.randrange(1, size))[1])} "
        "(target < 10 ms)"
    )
    if args.verify:
        from alzette.ledger.verify import verify

        started = time.perf_counter()
        report = verify(services.signing_key().public_key)
        print(f"full verification: {time.perf_counter() - started:.1f} s, ok={report.ok}")


def _median_ms(call: object, runs: int = 200) -> str:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return f"median {statistics.median(timings):.2f} ms, p95 {timings[int(0.95 * runs)]:.2f} ms"


if __name__ == "__main__":
    main()
