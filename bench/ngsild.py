"""NGSI-LD broker: batch upserts, geo-queries and temporal aggregations, SQLite and PostgreSQL.

    python bench/ngsild.py                      # SQLite (embedded default)
    python bench/ngsild.py --postgres           # PostgreSQL
    python bench/ngsild.py --both --rows-scale 0.1   # both, a tenth of the history: a quick look

Each backend runs in its own process on fresh databases in a temporary data
directory (`alzette migrate` first). Every figure goes through the real HTTP
stack in-process: Django's test client calls the full middleware chain, URL map
and views, without a network or a server (and on one persistent database
connection, as a pooled server would have).

1. Batch upsert: POST /ngsi-ld/v1/entityOperations/upsert, batches of 1,000
   WasteContainer entities (Smart Data Model, validated against its schema:
   `location` Point in the territory, `fillingLevel` 0..1, `status`): 20 batches
   creating 20,000 entities, then 20 batches updating them. Entities per second,
   p50/p95 per batch.
2. Geo-query: GET /ngsi-ld/v1/entities?type=WasteContainer&q=fillingLevel>0.8
   &georel=near;maxDistance==2000&geometry=Point&coordinates=[lon,lat]&limit=1000
   around 200 random points of the territory: p50/p95 latency, mean result count.
   Every answer is checked against a brute-force pass (pyproj geodesic distance
   on WGS 84 and the threshold over the values sent). Target on PostgreSQL: p95
   under 50 ms.
3. Temporal aggregation: a year (2025) of 15-minute readings of 100 `Meter`
   entities (created through the batch API), 3,504,000 history rows written with
   `store.write_history` in chunks (bulk inserts, monthly partitions on
   PostgreSQL, hourly rollup); then GET /ngsi-ld/v1/temporal/entities with
   options=aggregatedValues (avg, min, max, sum, totalCount) per P1M and per P1D
   over the year: p50/p95/max of --runs runs after a warm-up, checked against the
   sums kept while generating. Target on PostgreSQL: under 1 s. `--rows-scale`
   shortens the loaded span (0.1: the first 36 days).

PostgreSQL: three throwaway databases `alzette_bench_ngsild_<pid>_*` on
BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432), trust
authentication, dropped on exit (Ctrl-C included). The tables are vacuumed and ANALYZEd after
the upserts and after the history load, as autovacuum would do shortly after
(the local server runs without it); one geo-query is timed before, to show what
a plan without statistics costs. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
ALIASES = ("personal", "territory", "ledger")
BASE = "/ngsi-ld/v1"
VIA = "django.test.Client in-process (full middleware and views, no network)"

# The territory around Luxembourg City (lon 5.9-6.1, lat 49.43-49.52).
WEST, EAST, SOUTH, NORTH = 5.9, 6.1, 49.43, 49.52
STATUSES = ("ok", "ok", "ok", "lidOpen", "dropped", "moved", "unknown")
GEO_DISTANCE = 2000.0  # metres
GEO_THRESHOLD = 0.8

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
METERS = 100
METHODS = ("avg", "min", "max", "sum", "totalCount")


# --- Figures ---------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of ``values``; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- Worker: one backend, in-process Django --------------------------------------------


class Broker:
    """The NGSI-LD API through Django's test client (no @context: the core context,
    under which WasteContainer expands to the default vocabulary, i.e. the SDM type)."""

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client()

    def post(self, path: str, body: bytes) -> tuple[float, object]:
        began = time.perf_counter()
        response = self.client.post(BASE + path, data=body, content_type="application/json")
        return time.perf_counter() - began, response

    def get(self, path: str, params: dict[str, str]) -> tuple[float, object]:
        url = f"{BASE}{path}?{urlencode(params)}"
        began = time.perf_counter()
        response = self.client.get(url)
        return time.perf_counter() - began, response


def postgres() -> bool:
    from django.db import connections

    return connections["territory"].vendor == "postgresql"


def analyze() -> None:
    """What autovacuum does after a load: planner statistics, and the visibility map
    that lets PostgreSQL answer from an index alone (VACUUM)."""
    from django.db import connections

    with connections["territory"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def expect(response: object, statuses: tuple[int, ...], what: str) -> None:
    if response.status_code not in statuses:
        body = response.content[:600].decode(errors="replace")
        raise RuntimeError(f"{what}: HTTP {response.status_code}: {body}")


def containers(count: int, seed: int = 7) -> tuple[list[str], list[float], list[float]]:
    rng = random.Random(seed)
    ids = [f"urn:ngsi-ld:WasteContainer:bench-{n:06d}" for n in range(count)]
    lons = [round(rng.uniform(WEST, EAST), 6) for _ in ids]
    lats = [round(rng.uniform(SOUTH, NORTH), 6) for _ in ids]
    return ids, lons, lats


def container(entity_id: str, lon: float, lat: float, fill: float, status: str) -> dict:
    return {
        "id": entity_id,
        "type": "WasteContainer",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "fillingLevel": {"type": "Property", "value": fill},
        "status": {"type": "Property", "value": status},
    }


def bench_upsert(broker: Broker, args: argparse.Namespace, out: dict) -> dict:
    """Create then update ``args.entities`` containers by batches; returns the final state."""
    ids, lons, lats = containers(args.entities)
    rng = random.Random(11)
    fills = [0.0] * len(ids)
    for phase, statuses in (("create", (201,)), ("update", (204,))):
        latencies = []
        for start in range(0, len(ids), args.batch):
            batch = []
            for n in range(start, min(start + args.batch, len(ids))):
                fills[n] = round(rng.random(), 3)
                batch.append(container(ids[n], lons[n], lats[n], fills[n], rng.choice(STATUSES)))
            body = json.dumps(batch).encode()  # serialised before the clock starts
            elapsed, response = broker.post("/entityOperations/upsert", body)
            expect(response, statuses, f"upsert ({phase})")
            latencies.append(elapsed)
        rate = len(ids) / sum(latencies)
        out[f"upsert_{phase}"] = {
            "rate": rate, "p50": percentile(latencies, 0.5) * 1000,
            "p95": percentile(latencies, 0.95) * 1000, "max": max(latencies) * 1000,
            "batches": len(latencies),
        }  # fmt: skip
        progress(
            f"  upsert {phase}: {len(ids):,} entities in {len(latencies)} batches, "
            f"{rate:,.0f} entities/s, p50 {out[f'upsert_{phase}']['p50']:.0f} ms, "
            f"p95 {out[f'upsert_{phase}']['p95']:.0f} ms per batch"
        )
    return {"ids": ids, "lons": lons, "lats": lats, "fills": fills}


def brute_force(state: dict, lon: float, lat: float) -> set[str]:
    """Ids of the containers within GEO_DISTANCE of (lon, lat), fuller than the threshold:
    every container measured, geodesic distance on WGS 84 (pyproj), no index."""
    import numpy as np
    from pyproj import Geod

    lons, lats = np.asarray(state["lons"]), np.asarray(state["lats"])
    _, _, metres = Geod(ellps="WGS84").inv(np.full_like(lons, lon), np.full_like(lats, lat),
                                           lons, lats)  # fmt: skip
    keep = (metres <= GEO_DISTANCE) & (np.asarray(state["fills"]) > GEO_THRESHOLD)
    return {state["ids"][n] for n in np.flatnonzero(keep)}


def bench_geo(broker: Broker, state: dict, args: argparse.Namespace, out: dict) -> None:
    rng = random.Random(13)
    points = [(round(rng.uniform(WEST, EAST), 5), round(rng.uniform(SOUTH, NORTH), 5))
              for _ in range(args.points)]  # fmt: skip

    def params(lon: float, lat: float) -> dict[str, str]:
        return {
            "type": "WasteContainer", "q": f"fillingLevel>{GEO_THRESHOLD}",
            "georel": f"near;maxDistance=={GEO_DISTANCE:g}", "geometry": "Point",
            "coordinates": json.dumps([lon, lat], separators=(",", ":")), "limit": "1000",
        }  # fmt: skip

    if postgres():
        # The local server runs without autovacuum: time one query as the planner sees
        # the freshly loaded tables (no statistics), then VACUUM ANALYZE as autovacuum would.
        elapsed, response = broker.get("/entities", params(*points[0]))
        expect(response, (200,), "geo-query")
        out["geo_unanalyzed_ms"] = elapsed * 1000
        progress(f"  geo-query before ANALYZE (no planner statistics): {elapsed * 1000:,.0f} ms")
        analyze()
    for lon, lat in points[:5]:  # warm-up: first calls pay imports and caches
        broker.get("/entities", params(lon, lat))
    latencies, counts, wrong = [], [], []
    for lon, lat in points:
        elapsed, response = broker.get("/entities", params(lon, lat))
        expect(response, (200,), "geo-query")
        latencies.append(elapsed)
        found = {entity["id"] for entity in response.json()}
        counts.append(len(found))
        expected = brute_force(state, lon, lat)  # checked outside the clock
        if found != expected and not (len(found) == 1000 and found <= expected):  # a full page
            wrong.append((lon, lat))
    out["geo"] = {
        "p50": percentile(latencies, 0.5) * 1000, "p95": percentile(latencies, 0.95) * 1000,
        "max": max(latencies) * 1000, "mean_results": statistics.fmean(counts),
        "queries": len(points), "wrong": len(wrong),
    }  # fmt: skip
    geo = out["geo"]
    progress(
        f"  geo-query: {len(points)} points, p50 {geo['p50']:.1f} ms, p95 {geo['p95']:.1f} ms, "
        f"max {geo['max']:.1f} ms, {geo['mean_results']:.0f} results on average; "
        f"brute-force check: {len(points) - len(wrong)}/{len(points)} identical"
    )
    if wrong:
        progress(f"  WRONG answers around {wrong[:5]}")


def history_days(args: argparse.Namespace) -> int:
    return max(1, round(365 * args.rows_scale))


def history_chunks(args: argparse.Namespace, attribute: str, expected: dict) -> Iterator[list]:
    """AttributeInstance rows of METERS entities over the loaded span, ``args.chunk`` at a
    time, entity after entity in time order; folds what each month must aggregate to
    into ``expected`` as it goes."""
    from alzette.territory.ngsild import representation as rep
    from alzette.territory.ngsild.models import AttributeInstance

    steps = history_days(args) * 96
    moments = [YEAR_START + n * STEP for n in range(steps)]
    stamps = [rep.iso(m) for m in moments]
    months = [m.month for m in moments]
    # A seasonal swing, a daily one and per-entity noise, to two decimals as a sensor sends.
    shape = [
        8 * math.sin(2 * math.pi * (n / 96 - 100) / 365) + 4 * math.sin(2 * math.pi * (n % 96) / 96)
        for n in range(steps)
    ]
    loaded = rep.iso(datetime.now(UTC))
    chunk = []
    for meter in range(METERS):
        entity_id = f"urn:ngsi-ld:Meter:bench-{meter:03d}"
        rng = random.Random(meter)
        base = 12 + rng.uniform(-3, 3)
        for n in range(steps):
            value = round(base + shape[n] + rng.gauss(0, 0.5), 2)
            acc = expected.setdefault((entity_id, months[n]), [0, 0.0, value, value])
            acc[0] += 1
            acc[1] += value
            acc[2] = min(acc[2], value)
            acc[3] = max(acc[3], value)
            instance = {"type": "Property", "value": value, "observedAt": stamps[n],
                        "createdAt": loaded, "modifiedAt": loaded}  # fmt: skip
            chunk.append(AttributeInstance(
                tenant="", entity_id=entity_id, attribute=attribute, dataset_id="",
                observed_at=moments[n], recorded_at=moments[n], number=value,
                instance=instance,
            ))  # fmt: skip
            if len(chunk) >= args.chunk:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def bench_temporal(broker: Broker, args: argparse.Namespace, out: dict) -> None:
    from django.db import transaction

    from alzette.territory.ngsild import jsonld, store

    meters = [{"id": f"urn:ngsi-ld:Meter:bench-{n:03d}", "type": "Meter",
               "temperature": {"type": "Property", "value": 20.0, "unitCode": "CEL"}}
              for n in range(METERS)]  # fmt: skip
    _, response = broker.post("/entityOperations/create", json.dumps(meters).encode())
    expect(response, (201,), "creating the meters")
    attribute = jsonld.core().expand("temperature")  # as the broker expands it

    expected: dict = {}
    total = writing = 0.0
    rows = 0
    steps = history_days(args) * 96
    planned = steps * METERS
    began = time.perf_counter()
    for chunk in history_chunks(args, attribute, expected):
        started = time.perf_counter()
        with transaction.atomic(using=store.DB):
            store.write_history(chunk)
        writing += time.perf_counter() - started
        rows += len(chunk)
        if rows * 10 // planned != (rows - len(chunk)) * 10 // planned:
            progress(f"    ... {rows:,} of {planned:,} rows, {time.perf_counter() - began:.0f} s")
    total = time.perf_counter() - began
    if postgres():
        analyze()
    out["load"] = {"rows": rows, "seconds": total, "write_seconds": writing,
                   "rate": rows / total, "write_rate": rows / writing}  # fmt: skip
    progress(
        f"  history load: {rows:,} rows in {total:.1f} s ({rows / total:,.0f} rows/s; "
        f"write_history alone {writing:.1f} s, {rows / writing:,.0f} rows/s)"
    )

    for period in ("P1M", "P1D"):
        params = {
            "type": "Meter", "limit": str(METERS), "attrs": "temperature",
            "options": "aggregatedValues", "aggrMethods": ",".join(METHODS),
            "aggrPeriodDuration": period, "timerel": "between",
            "timeAt": YEAR_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endTimeAt": YEAR_END.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }  # fmt: skip
        _, response = broker.get("/temporal/entities", params)  # warm-up
        expect(response, (200,), f"temporal aggregation {period}")
        problems = check_aggregation(response.json(), expected, period, steps)
        latencies = []
        for _ in range(args.runs):
            elapsed, response = broker.get("/temporal/entities", params)
            expect(response, (200,), f"temporal aggregation {period}")
            latencies.append(elapsed)
        out[f"temporal_{period}"] = {
            "p50": percentile(latencies, 0.5) * 1000, "p95": percentile(latencies, 0.95) * 1000,
            "max": max(latencies) * 1000, "runs": len(latencies), "bytes": len(response.content),
            "wrong": problems,
        }  # fmt: skip
        figures = out[f"temporal_{period}"]
        progress(
            f"  temporal {period}: p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, "
            f"max {figures['max']:.0f} ms over {len(latencies)} runs, "
            f"{figures['bytes'] / 1e6:.1f} MB answer; check: "
            + ("correct" if not problems else f"{problems} WRONG")
        )


def check_aggregation(entities: list, expected: dict, period: str, steps: int) -> int:
    """Count the entities whose aggregation disagrees with the sums kept while loading:
    per month for P1M, the total count for P1D."""
    wrong = 0
    seen = 0
    for entity in entities:
        attribute = entity.get("temperature", {})
        if not attribute:
            wrong += 1
            continue
        seen += 1
        counts = attribute.get("totalCount", [])
        if sum(c[0] for c in counts) != steps:
            wrong += 1
            continue
        if period != "P1M":
            continue
        for method in METHODS:
            for value, start, _ in attribute.get(method, []):
                n, total, low, high = expected[(entity["id"], int(start[5:7]))]
                want = {"totalCount": n, "sum": total, "avg": total / n, "min": low, "max": high}
                if not math.isclose(value, want[method], rel_tol=1e-9, abs_tol=1e-6):
                    wrong += 1
                    break
            else:
                continue
            break
    return wrong + (METERS - seen)


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    import django

    django.setup()
    from django.db import connections

    from alzette.core.runtime import settle

    settle()  # as the server does when it starts (alzette.conf.asgi)
    broker = Broker()
    vendor = connections["territory"].vendor
    out: dict = {"backend": vendor}
    progress(f"== {vendor}: {VIA} ==")
    state = bench_upsert(broker, args, out)
    bench_geo(broker, state, args, out)
    del state
    bench_temporal(broker, args, out)
    Path(args.result).write_text(json.dumps(out))


# --- Driver: databases and one worker per backend ---------------------------------------


@contextlib.contextmanager
def postgres_databases() -> Iterator[dict[str, str]]:
    """Three fresh PostgreSQL databases, one per Alzette repository; dropped on exit."""
    import psycopg

    names = {alias: f"alzette_bench_ngsild_{os.getpid()}_{alias}" for alias in ALIASES}
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        try:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
            yield {alias: f"{POSTGRES_URL}/{name}" for alias, name in names.items()}
        finally:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(data_dir: Path, urls: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALZETTE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="alzette.conf.settings",
        ALZETTE_MODE="development",  # NGSI-LD writes open without a key
        ALZETTE_DEBUG="false",  # DEBUG keeps every query in memory
        ALZETTE_LOG_LEVEL="WARNING",
        ALZETTE_DATA_DIR=str(data_dir),
        ALZETTE_NGSILD_DELIVERY="worker",
        ALZETTE_ONEM2M_DELIVERY="worker",
        **{f"ALZETTE_{alias.upper()}_DATABASE_URL": url for alias, url in urls.items()},
    )
    return env


def migrate(env: dict[str, str]) -> None:
    for alias in ALIASES:
        done = subprocess.run(
            [sys.executable, "-m", "alzette.cli", "migrate", "--database", alias, "-v", "0"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"migrate --database {alias} failed:\n{done.stderr[-2000:]}")


def run_backend(backend: str, args: argparse.Namespace) -> dict | None:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alzette-bench-")))
        urls = stack.enter_context(postgres_databases()) if backend == "postgresql" else {}
        env = environment(folder / "data", urls)
        began = time.perf_counter()
        migrate(env)
        progress(f"{backend}: databases migrated in {time.perf_counter() - began:.0f} s")
        result = folder / "result.json"
        command = [sys.executable, __file__, "--worker", "--result", str(result)]
        for name in ("entities", "batch", "points", "rows_scale", "runs", "chunk"):
            command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
        done = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if done.returncode or not result.exists():
            progress(f"{backend}: the worker failed (exit {done.returncode})")
            return None
        return json.loads(result.read_text())


def table_rows(out: dict, args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(measure, figure, p50 / p95 / max) of one backend's results."""

    def spread(f: dict) -> str:
        return f"{f['p50']:,.1f} / {f['p95']:,.1f} / {f['max']:,.1f} ms"

    def check(f: dict) -> str:
        return "ok" if not f["wrong"] else f"{f['wrong']} WRONG"

    rows = []
    for phase in ("create", "update"):
        f = out[f"upsert_{phase}"]
        measure = f"upsert {phase}, {f['batches']} x {args.batch:,} (per batch)"
        rows.append((measure, f"{f['rate']:,.0f} entities/s", spread(f)))
    g = out["geo"]
    figure = f"{g['mean_results']:.0f} results, {check(g)}"
    rows.append((f"geo near 2 km + q, {g['queries']} points", figure, spread(g)))
    if "geo_unanalyzed_ms" in out:
        rows.append(("geo, one query before ANALYZE", "", f"{out['geo_unanalyzed_ms']:,.0f} ms"))
    load = out["load"]
    rows.append((f"history load, {load['rows']:,} rows", f"{load['rate']:,.0f} rows/s",
                 f"{load['seconds']:,.0f} s in all"))  # fmt: skip
    for period in ("P1M", "P1D"):
        t = out[f"temporal_{period}"]
        rows.append((f"temporal aggr. {period}, {t['runs']} runs", check(t), spread(t)))
    return rows


def revision() -> str:
    """The commit measured, and whether the broker's code differed from it."""

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = git("status", "--porcelain", "--", "alzette")
    return commit + (" + uncommitted changes under alzette/" if dirty else "")


def report(results: dict[str, dict | None], args: argparse.Namespace, measured: str) -> None:
    print(
        f"\nNGSI-LD broker at {measured}, {os.cpu_count()} CPU core(s), via {VIA}; "
        f"{args.entities:,} WasteContainers in batches of {args.batch:,}; "
        f"{args.points} geo-queries; history rows-scale {args.rows_scale}"
    )
    header = f"{'backend':<11} {'measure':<40} {'figure':<22} p50 / p95 / max"
    print(header)
    print("-" * (len(header) + 12))
    for backend, out in results.items():
        name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
        if out is None:
            print(f"{name:<11} (failed)")
            continue
        for measure, figure, times in table_rows(out, args):
            print(f"{name:<11} {measure:<40} {figure:<22} {times}")
    targets = results.get("postgresql")
    if targets:
        geo = targets["geo"]["p95"]
        verdict = "met" if geo < 50 else "NOT met"
        print(f"target, PostgreSQL geo-query p95 under 50 ms: {geo:.1f} ms, {verdict}")
        worst = max(targets["temporal_P1M"]["max"], targets["temporal_P1D"]["max"])
        verdict = "met" if worst < 1000 else "NOT met"
        print(f"target, PostgreSQL temporal aggregation under 1 s (slowest run): {worst:,.0f} ms, "
              f"{verdict}")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    where.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--entities", type=int, default=20_000, help="containers (20,000)")
    parser.add_argument("--batch", type=int, default=1000, help="entities per upsert (1,000)")
    parser.add_argument("--points", type=int, default=200, help="geo-queries (200)")
    parser.add_argument(
        "--rows-scale", type=float, default=1.0,
        help="share of the year of history loaded (1: 3,504,000 rows; 0.1 for a quick run)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=7, help="timed runs per aggregation (7)")
    parser.add_argument("--chunk", type=int, default=20_000, help="history rows per write (20,000)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that SIGTERM drops the databases as Ctrl-C does


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    backends = (
        ["sqlite", "postgresql"] if args.both else ["postgresql" if args.postgres else "sqlite"]
    )
    results: dict[str, dict | None] = {}
    measured = revision()  # the code the workers import, as it is now
    try:
        for backend in backends:
            results[backend] = run_backend(backend, args)
    except KeyboardInterrupt:
        report(results, args, measured)
        sys.exit("interrupted; databases dropped")
    report(results, args, measured)


if __name__ == "__main__":
    main()
