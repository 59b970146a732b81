"""OGC API Features items pages over 20,000 NGSI-LD entities, SQLite and PostgreSQL.

    python bench/opendata_ogc.py                 # SQLite (embedded default)
    python bench/opendata_ogc.py --postgres      # PostgreSQL
    python bench/opendata_ogc.py --both --runs 5

Each backend runs in its own process on fresh databases in a temporary data
directory (`alzette migrate` first), as bench/ngsild.py does. The worker loads
--entities WasteContainers with `ngsild.batch.write` (batches of 1,000), publishes
them as an open dataset (source `ngsild-entities`), then times GET
/ogc/collections/containers/items through Django's test client (full middleware,
URL map and views, no network): a page of --limit features at offset 0, in
CRS84 and in Lambert-93, at offset 10,000 (the source is walked from its start),
and with a bbox over part of the territory. Target: a 1,000-feature first page
well under 200 ms. Figures are printed, never asserted.

PostgreSQL: three throwaway databases `alzette_bench_ogc_<pid>_*` on
BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432), trust
authentication, dropped on exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

# The sibling bench's helpers: throwaway databases, environment, migrations, figures.
from ngsild import environment, migrate, percentile, postgres_databases, progress  # noqa: E402

WEST, EAST, SOUTH, NORTH = 5.9, 6.1, 49.43, 49.52
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"


# --- Worker ----------------------------------------------------------------------------


def load(entities: int) -> None:
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    rng = random.Random(7)
    op = Op(tenant="", ctx=jsonld.core())
    for start in range(0, entities, 1000):
        payload = [
            {"id": f"urn:ngsi-ld:WasteContainer:bench-{n:06d}", "type": "WasteContainer",
             "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [
                 round(rng.uniform(WEST, EAST), 6), round(rng.uniform(SOUTH, NORTH), 6)]}},
             "fillingLevel": {"type": "Property", "value": round(rng.random(), 3)},
             "status": {"type": "Property", "value": "ok"}}
            for n in range(start, min(start + 1000, entities))
        ]  # fmt: skip
        result = batch.write(op, payload, "upsert")
        if result.errors:
            raise RuntimeError(f"batch write: {result.errors[:2]}")


def publish() -> None:
    from alzette.territory.catalogue import services
    from alzette.territory.catalogue.models import Organisation

    org = Organisation.objects.using("territory").create(slug="bench", name="Bench")
    dataset = services.publish(
        org, "containers", title={"fr": "Conteneurs"}, licence="odbl-1.0",
        source="ngsild-entities", source_options={"type": "WasteContainer"},
    )  # fmt: skip
    # Pages are served from the snapshot of the last refresh, as the worker keeps it.
    if not services.refresh(dataset):
        raise RuntimeError(f"refresh failed: {dataset.refresh_error}")


def timed(client: object, params: dict[str, str], runs: int) -> dict:
    url = f"/ogc/collections/containers/items?{urlencode(params)}"
    response = client.get(url)  # warm-up
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code} {response.content[:300]!r}")
    latencies = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - began)
    page = response.json()
    return {"p50": percentile(latencies, 0.5) * 1000, "p95": percentile(latencies, 0.95) * 1000,
            "returned": page["numberReturned"], "matched": page.get("numberMatched"),
            "bytes": len(response.content)}  # fmt: skip


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    import django

    django.setup()
    from django.db import connections
    from django.test import Client

    from alzette.core.runtime import settle

    settle()
    vendor = connections["territory"].vendor
    began = time.perf_counter()
    load(args.entities)
    publish()
    if vendor == "postgresql":
        with connections["territory"].cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would after a load
    loaded = time.perf_counter() - began
    progress(f"== {vendor}: {args.entities:,} entities loaded in {loaded:.0f} s")
    client = Client()
    limit = str(args.limit)
    box = f"{WEST},{SOUTH},{(WEST + EAST) / 2},{NORTH}"
    cases = {
        f"first page, limit {limit}": {"limit": limit},
        f"first page, limit {limit}, crs EPSG:2154": {"limit": limit, "crs": L93},
        f"offset 10,000, limit {limit}": {"limit": limit, "offset": "10000"},
        f"bbox (west half), limit {limit}": {"limit": limit, "bbox": box},
    }
    out = {"backend": vendor, "cases": {}}
    for name, params in cases.items():
        out["cases"][name] = figures = timed(client, params, args.runs)
        progress(f"  {name}: p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms")
    Path(args.result).write_text(json.dumps(out))


# --- Driver ----------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> dict | None:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alzette-bench-")))
        urls = stack.enter_context(postgres_databases()) if backend == "postgresql" else {}
        env = environment(folder / "data", urls)
        migrate(env)
        result = folder / "result.json"
        command = [sys.executable, __file__, "--worker", "--result", str(result),
                   "--entities", str(args.entities), "--limit", str(args.limit),
                   "--runs", str(args.runs)]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if done.returncode or not result.exists():
            progress(f"{backend}: the worker failed (exit {done.returncode})")
            return None
        return json.loads(result.read_text())


def report(results: dict[str, dict | None], args: argparse.Namespace) -> None:
    print(
        f"\nOGC API Features items over {args.entities:,} NGSI-LD entities, {os.cpu_count()} "
        f"CPU core(s), {args.runs} runs, via django.test.Client in-process"
    )
    header = f"{'backend':<11} {'request':<42} {'returned':>8} {'matched':>8}  p50 / p95"
    print(header)
    print("-" * (len(header) + 12))
    for backend, out in results.items():
        if out is None:
            print(f"{backend:<11} (failed)")
            continue
        for name, f in out["cases"].items():
            matched = "-" if f["matched"] is None else f"{f['matched']:,}"
            print(f"{backend:<11} {name:<42} {f['returned']:>8,} {matched:>8}  "
                  f"{f['p50']:.1f} / {f['p95']:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    where.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--entities", type=int, default=20_000, help="containers (20,000)")
    parser.add_argument("--limit", type=int, default=1000, help="features per page (1,000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per request (20)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    backends = ["sqlite", "postgresql"] if args.both else [
        "postgresql" if args.postgres else "sqlite"]  # fmt: skip
    results: dict[str, dict | None] = {}
    try:
        for backend in backends:
            results[backend] = run_backend(backend, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; databases dropped")
    report(results, args)


if __name__ == "__main__":
    main()
