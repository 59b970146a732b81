"""Throughput and latency of the spatial look-up (bbox index scan + shapely predicate)."""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

CALLS = int(os.environ.get("BENCH_CALLS", "2000"))


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("ALZETTE_DATA_DIR", tempfile.mkdtemp(prefix="alzette-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    os.environ.setdefault("ALZETTE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    from alzette.territory.geo import services

    call_command("migrate", database="territory", verbosity=0)
    services.load_reference_units()

    rng = random.Random(42)
    points = [
        {"type": "Point", "coordinates": [rng.uniform(5.88, 6.05), rng.uniform(49.35, 49.51)]}
        for _ in range(CALLS)
    ]
    latencies = []
    started = time.perf_counter()
    for point in points:
        before = time.perf_counter()
        services.locate(point, kind="commune")
        latencies.append((time.perf_counter() - before) * 1000)
    elapsed = time.perf_counter() - started
    # Memory is traced in a separate, shorter pass: tracing slows every allocation.
    tracemalloc.start()
    for point in points[:200]:
        services.locate(point, kind="commune")
    _, peak = tracemalloc.get_traced_memory()
    latencies.sort()
    print(f"locate(): {CALLS} calls in {elapsed:.2f} s = {CALLS / elapsed:.0f} calls/s")
    print(
        f"latency ms: median {statistics.median(latencies):.2f}, "
        f"p95 {latencies[int(0.95 * CALLS)]:.2f}, max {latencies[-1]:.2f} (target p95 < 5)"
    )
    print(f"peak traced Python memory: {peak / 1_048_576:.1f} MiB")


if __name__ == "__main__":
    main()
