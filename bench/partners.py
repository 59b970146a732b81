"""What the partner checks cost on every request: credential, rate limit, quota, grant, log.

    python bench/partners.py                 # SQLite (embedded default)
    python bench/partners.py --postgres      # PostgreSQL
    python bench/partners.py --grants 2000 --runs 500

On fresh databases in a temporary data directory (bench/ngsild.py's helpers), the
worker publishes a dataset shared with communities, registers a live application
with a key, and gives its organisation --grants grants (one of them for the
dataset, the others for other datasets, so the grant look-up is not trivial).
It then times, through Django's test client (full middleware, no network):

- GET /api/v1/territory/datasets/<open dataset> anonymously (the baseline);
- the same with the key (authentication, rate window, quota, usage row);
- GET of the shared dataset with the key (plus the grant check and the access log);
- GET /api/v1/partners/me with the key.

The overhead is the difference with the baseline. Target: under 5 ms at p50 on
the reference machine. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from ngsild import environment, migrate, percentile, postgres_databases, progress  # noqa: E402


def prepare(grants: int) -> str:
    from django.utils import timezone

    from alzette.territory.catalogue import services as catalogue
    from alzette.territory.catalogue.models import Dataset, Organisation
    from alzette.territory.partners import services

    db = "territory"
    owner = Organisation.objects.using(db).create(slug="ccphva", name="CCPHVA", kind="public")
    partner = Organisation.objects.using(db).create(slug="labs", name="Labs", kind="startup")
    common = {"licence": "etalab-2.0", "source": "communes", "source_options": {}}
    catalogue.publish(owner, "open", title={"fr": "Ouvert"}, **common)
    ends = timezone.now() + timedelta(days=30)
    for n in range(grants):
        dataset = catalogue.publish(owner, f"shared-{n:05d}", title={"fr": f"Partagé {n}"},
                                    access=Dataset.Access.COMMUNITY, **common)  # fmt: skip
        services.share(owner, dataset=dataset, organisation=partner, purpose="bench",
                       ends_at=ends)  # fmt: skip
    app, _ = services.register_app(partner, "Bench", scopes=["datasets:read"], environment="live")
    services.change_app(app, per_minute=10**9, per_day=10**9)
    return services.issue_key(app)[1]


def timed(client: object, url: str, runs: int, **headers: str) -> dict:
    response = client.get(url, **headers)  # warm-up
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code} {response.content[:300]!r}")
    latencies = []
    for _ in range(runs):
        began = time.perf_counter()
        client.get(url, **headers)
        latencies.append(time.perf_counter() - began)
    return {"p50": percentile(latencies, 0.5) * 1000, "p95": percentile(latencies, 0.95) * 1000}


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
    key = prepare(args.grants)
    progress(f"== {vendor}: {args.grants:,} grants prepared")
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    base = "/api/v1/territory/datasets"
    cases = {
        "open dataset, anonymous": (f"{base}/open", {}),
        "open dataset, with a key": (f"{base}/open", auth),
        "shared dataset, with a key (grant + log)": (f"{base}/shared-00000", auth),
        "partners/me, with a key": ("/api/v1/partners/me", auth),
    }
    out = {"backend": vendor, "cases": {}}
    for name, (url, headers) in cases.items():
        out["cases"][name] = figures = timed(client, url, args.runs, **headers)
        progress(f"  {name}: p50 {figures['p50']:.2f} ms, p95 {figures['p95']:.2f} ms")
    Path(args.result).write_text(json.dumps(out))


def run_backend(backend: str, args: argparse.Namespace) -> dict | None:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alzette-bench-")))
        urls = stack.enter_context(postgres_databases()) if backend == "postgresql" else {}
        env = environment(folder / "data", urls)
        migrate(env)
        result = folder / "result.json"
        command = [sys.executable, __file__, "--worker", "--result", str(result),
                   "--grants", str(args.grants), "--runs", str(args.runs)]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if done.returncode or not result.exists():
            progress(f"{backend}: the worker failed (exit {done.returncode})")
            return None
        return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--grants", type=int, default=500, help="grants of the app (500)")
    parser.add_argument("--runs", type=int, default=300, help="timed runs per request (300)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    backend = "postgresql" if args.postgres else "sqlite"
    out = run_backend(backend, args)
    if out is None:
        sys.exit(1)
    baseline = out["cases"]["open dataset, anonymous"]["p50"]
    print(f"\nPartner checks, {backend}, {args.grants:,} grants, {args.runs} runs, in-process")
    for name, figures in out["cases"].items():
        extra = figures["p50"] - baseline
        print(f"{name:<44} p50 {figures['p50']:6.2f} ms  p95 {figures['p95']:6.2f} ms  "
              f"(+{extra:.2f} ms over anonymous)")  # fmt: skip


if __name__ == "__main__":
    main()
