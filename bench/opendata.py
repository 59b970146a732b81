"""Open data: streamed CSV export of a long history, and package_search over many datasets.

    python bench/opendata.py                         # SQLite, 10 million rows
    python bench/opendata.py --postgres              # PostgreSQL
    python bench/opendata.py --rows 1000000          # a quick look

Each backend runs in its own process on fresh databases, as bench/ngsild.py
does (its helpers create and drop them).

1. CSV export: ``--rows`` observations (default 10,000,000) of the
   ``temperature`` of 100 NGSI-LD ``Meter`` entities, bulk-loaded into the
   history table, published as a dataset of the ``ngsild-history`` source; the
   whole CSV is streamed through ``downloads.stream`` (what the download
   endpoint sends) and counted. Prints rows/s, bytes, and the growth of the
   process's peak resident memory while streaming. Targets: at least 100,000
   rows/s, under 300 MB.
2. package_search: ``--datasets`` (default 5,000) datasets with varied titles,
   themes, keywords and publishers, then ``--searches`` (200) requests to
   /api/3/action/package_search through Django's test client (q words, fq on
   tags, organization, res_format and metadata_modified ranges, sorts, pages).
   Prints p50/p95. Target: p95 under 100 ms.

OGC API Features has its own script, bench/opendata_ogc.py. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import ngsild as base  # noqa: E402 - the sibling bench's database helpers

METERS = 100
STEP = timedelta(minutes=15)
START = datetime(2020, 1, 1, tzinfo=UTC)
WORDS = [
    "déchets",
    "collecte",
    "énergie",
    "éclairage",
    "eau",
    "mobilité",
    "vélo",
    "bus",
    "qualité",
    "air",
    "bruit",
    "parking",
    "écoles",
    "santé",
    "budget",
    "population",
]
THEMES = ["ENVI", "ENER", "TRAN", "REGI", "GOVE", "SOCI", "HEAL", "ECON"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def load_history(rows: int) -> float:
    """Bulk-load ``rows`` history rows for METERS meters; seconds taken."""
    from django.db import connections

    from alzette.territory.ngsild import jsonld
    from alzette.territory.ngsild.models import AttributeInstance

    meters = [
        {
            "id": f"urn:ngsi-ld:Meter:{n:03d}",
            "type": "Meter",
            "temperature": {"type": "Property", "value": 20.0},
        }
        for n in range(METERS)
    ]
    base.expect(base.Broker().post("/entityOperations/create", json.dumps(meters).encode())[1],
                (201,), "creating the meters")  # fmt: skip
    iri = jsonld.core().expand("temperature")
    per_meter = rows // METERS
    began = time.perf_counter()
    connection = connections["territory"]
    if connection.vendor == "postgresql":
        from alzette.territory.ngsild import partitions

        partitions.ensure([START + STEP * n for n in range(0, per_meter, 96 * 28)]
                          + [START + STEP * (per_meter - 1)])  # fmt: skip
    batch = []
    for meter in range(METERS):
        rng = random.Random(meter)
        for n in range(per_meter):
            moment = START + STEP * n
            value = round(12 + rng.gauss(0, 4), 2)
            batch.append(AttributeInstance(
                tenant="", entity_id=f"urn:ngsi-ld:Meter:{meter:03d}", attribute=iri,
                dataset_id="", observed_at=moment, recorded_at=moment, number=value,
                instance={"type": "Property", "value": value},
            ))  # fmt: skip
            if len(batch) >= 50_000:
                AttributeInstance.objects.using("territory").bulk_create(batch)
                batch = []
        base.progress(f"    ... meter {meter + 1}/{METERS}, {time.perf_counter() - began:.0f} s")
    AttributeInstance.objects.using("territory").bulk_create(batch)
    if connection.vendor == "postgresql":
        base.analyze()
    return time.perf_counter() - began


def bench_export(args: argparse.Namespace, out: dict) -> None:
    from alzette.territory.catalogue import services
    from alzette.territory.catalogue.models import Organisation

    seconds = load_history(args.rows)
    base.progress(f"  history loaded: {args.rows:,} rows in {seconds:.0f} s")
    org = Organisation.objects.using("territory").create(slug="bench", name="Bench")
    dataset = services.publish(
        org,
        "temperatures",
        title={"fr": "Températures"},
        licence="etalab-2.0",
        source="ngsild-history",
        source_options={"type": "Meter", "attribute": "temperature"},
    )
    out["export_live"] = stream_csv(dataset, "CSV export, live source (before any refresh)")
    before = peak_mb()
    began = time.perf_counter()
    if not services.refresh(dataset):
        raise RuntimeError(f"refresh failed: {dataset.refresh_error}")
    elapsed = time.perf_counter() - began
    out["snapshot"] = {"rows": dataset.row_count, "seconds": elapsed,
                       "rate": dataset.row_count / elapsed,
                       "peak_growth_mb": peak_mb() - before}  # fmt: skip
    base.progress(f"  snapshot (refresh): {dataset.row_count:,} rows in {elapsed:.1f} s "
                  f"({out['snapshot']['rate']:,.0f} rows/s)")  # fmt: skip
    out["export"] = stream_csv(dataset, "CSV export, served from the snapshot")


def stream_csv(dataset: object, label: str) -> dict:
    from alzette.territory.catalogue import downloads

    before = peak_mb()
    began = time.perf_counter()
    size = lines = 0
    for chunk in downloads.stream(dataset, "csv"):
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - began
    rows = lines - 1
    e = {"rows": rows, "seconds": elapsed, "rate": rows / elapsed, "bytes": size,
         "peak_growth_mb": peak_mb() - before, "peak_mb": peak_mb()}  # fmt: skip
    base.progress(f"  {label}: {rows:,} rows in {elapsed:.1f} s ({e['rate']:,.0f} rows/s), "
                  f"{size / 1e6:,.0f} MB; peak memory grew by {e['peak_growth_mb']:.0f} MB "
                  f"(peak {e['peak_mb']:.0f} MB)")  # fmt: skip
    return e


def make_datasets(count: int) -> None:
    from django.utils import timezone

    from alzette.territory.catalogue.models import Dataset, Organisation

    rng = random.Random(5)
    orgs = [Organisation.objects.using("territory").create(slug=f"org-{n}", name=f"Org {n}")
            for n in range(20)]  # fmt: skip
    now = timezone.now()
    rows = []
    for n in range(count):
        words = rng.sample(WORDS, 3)
        rows.append(Dataset(
            identifier=f"jeu-{n:05d}", organisation=rng.choice(orgs),
            title={"fr": f"Jeu {n} : {' '.join(words)}", "en": f"Dataset {n}"},
            description={"fr": f"Données sur {words[0]} et {words[1]}."},
            themes=rng.sample(THEMES, 2), keywords=words[:2], licence="etalab-2.0",
            frequency="MONTHLY", source=rng.choice(["communes", "procedure-statistics"]),
            issued=now - timedelta(days=rng.randint(0, 900)),
        ))  # fmt: skip
    Dataset.objects.using("territory").bulk_create(rows, batch_size=1000)
    # Spread the modification times, as years of publication would.
    for n, row in enumerate(Dataset.objects.using("territory").order_by("identifier")):
        if n % 50 == 0:
            Dataset.objects.using("territory").filter(pk=row.pk).update(
                updated_at=now - timedelta(days=n % 700)
            )


def bench_search(args: argparse.Namespace, out: dict) -> None:
    from django.test import Client

    make_datasets(args.datasets)
    client = Client()
    rng = random.Random(9)
    probe = client.get("/api/3/action/package_search?rows=1")
    if probe.status_code != 200:
        base.progress(f"  package_search unavailable (HTTP {probe.status_code}): skipped")
        return
    latencies = []
    for n in range(args.searches):
        params = {"rows": rng.choice(["10", "20", "100"]), "start": str(rng.choice([0, 0, 20]))}
        if n % 2 == 0:
            params["q"] = rng.choice(WORDS)
        if n % 3 == 0:
            params["fq"] = rng.choice(
                [
                    f"tags:{rng.choice(WORDS)}",
                    "organization:org-3",
                    "res_format:GeoJSON",
                    "metadata_modified:[2025-01-01T00:00:00Z TO *]",
                ]
            )
        if n % 4 == 0:
            params["sort"] = rng.choice(["metadata_modified desc", "name asc"])
        began = time.perf_counter()
        response = client.get("/api/3/action/package_search?" + urlencode(params))
        latencies.append(time.perf_counter() - began)
        base.expect(response, (200,), "package_search")
    out["search"] = {"p50": base.percentile(latencies, 0.5) * 1000,
                     "p95": base.percentile(latencies, 0.95) * 1000,
                     "datasets": args.datasets, "searches": len(latencies)}  # fmt: skip
    s = out["search"]
    base.progress(f"  package_search over {args.datasets:,} datasets: p50 {s['p50']:.1f} ms, "
                  f"p95 {s['p95']:.1f} ms ({len(latencies)} searches)")  # fmt: skip


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    from alzette.core.runtime import settle

    settle()
    out: dict = {"backend": connections["territory"].vendor}
    base.progress(f"== {out['backend']} ==")
    bench_search(args, out)
    bench_export(args, out)
    Path(args.result).write_text(json.dumps(out))


def run(backend: str, args: argparse.Namespace) -> dict | None:
    with tempfile.TemporaryDirectory(prefix="alzette-bench-") as folder:
        urls_cm = base.postgres_databases() if backend == "postgresql" else None
        urls = urls_cm.__enter__() if urls_cm else {}
        try:
            env = base.environment(Path(folder) / "data", urls)
            base.migrate(env)
            result = Path(folder) / "result.json"
            command = [sys.executable, __file__, "--worker", "--result", str(result),
                       "--rows", str(args.rows), "--datasets", str(args.datasets),
                       "--searches", str(args.searches)]  # fmt: skip
            done = subprocess.run(command, env=env, cwd=ROOT, check=False)
            return json.loads(result.read_text()) if not done.returncode else None
        finally:
            if urls_cm:
                urls_cm.__exit__(None, None, None)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--datasets", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.worker:
        worker(args)
        return
    signal.signal(signal.SIGTERM, base._interrupted)
    found = run("postgresql" if args.postgres else "sqlite", args)
    if not found:
        sys.exit("the worker failed")
    targets = []
    if "export" in found:
        e = found["export"]
        ok = e["rate"] >= 100_000 and e["peak_growth_mb"] < 300
        targets.append(f"CSV export >= 100,000 rows/s and < 300 MB: {e['rate']:,.0f} rows/s, "
                       f"+{e['peak_growth_mb']:.0f} MB, {'met' if ok else 'NOT met'}")  # fmt: skip
    if "export_live" in found:
        live, built = found["export_live"]["rate"], found["snapshot"]["rate"]
        targets.append(f"(live source, before the first refresh: {live:,.0f} rows/s; "
                       f"building the snapshot: {built:,.0f} rows/s)")  # fmt: skip
    if "search" in found:
        s = found["search"]
        targets.append(f"package_search p95 < 100 ms: {s['p95']:.1f} ms, "
                       f"{'met' if s['p95'] < 100 else 'NOT met'}")  # fmt: skip
    print(f"\nOpen data on {found['backend']}:")
    for line in targets:
        print("  " + line)


if __name__ == "__main__":
    main()
