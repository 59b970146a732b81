"""The agents' live map with 15,000 devices: server cost and browser cost.

    python bench/livemap.py                    # SQLite (embedded default)
    python bench/livemap.py --postgres         # PostgreSQL
    python bench/livemap.py --devices 5000 --changes 500   # a quick look

A worker process on fresh databases in a temporary data directory (`alzette
migrate` first, as bench/ngsild.py does) loads the communes and --devices
WasteContainer entities with `ngsild.batch.write` (batches of 1,000), then:

1. Server, through Django's test client (full middleware, views, an agent signed
   in): GET /hypervision/features.geojson?layers=waste (p50/p95 of --runs, bytes);
   then --changes entities updated in batches, and the live stream's delta for
   them (`live.Poller.changes`, what one poll does): time, features, bytes.
2. Browser, headless Chromium (Playwright, the flags of tests/browser.py): the real
   map page (rendered by the view, its static files from disk, the GeoJSON and the
   delta served by route handlers, so no server or network is timed):
   - initial draw: from the fetch of the 15,000 features to the second animation
     frame after they were placed (JSON parse, circleMarkers, the canvas drawn);
   - apply: `window.hypervision.applyNow(delta)` for the --changes features, then
     the frame that redraws them;
   - frames per second while a delta of --changes arrives every 500 ms for 5 s
     through `window.hypervision.apply` (requestAnimationFrame batching), and the
     longest frame.

Figures are printed, never asserted. Target: the map stays fluid (an update well
under a frame budget of 100 ms; tens of frames per second while updating).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

# The sibling bench's helpers: throwaway databases, environment, migrations, figures.
from ngsild import environment, migrate, percentile, postgres_databases, progress  # noqa: E402

CHROMIUM = os.environ.get("ALZETTE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# --- Worker: server side -----------------------------------------------------------------


def territory_box() -> tuple[float, float, float, float]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    unit = TerritorialUnit.objects.using("territory").get(kind=UnitKind.EPCI)
    return unit.bbox_min_x, unit.bbox_min_y, unit.bbox_max_x, unit.bbox_max_y


def load(devices: int) -> list[str]:
    from alzette.territory.geo.services import load_reference_units
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    load_reference_units()
    west, south, east, north = territory_box()
    rng = random.Random(15)
    op = Op(tenant="", ctx=jsonld.core(), actor="system:bench")
    ids = [f"urn:ngsi-ld:WasteContainer:bench-{n:06d}" for n in range(devices)]
    for start in range(0, devices, 1000):
        payload = [
            {
                "id": entity_id,
                "type": "WasteContainer",
                "name": {"type": "Property", "value": f"bac {n}"},
                "location": {
                    "type": "GeoProperty",
                    "value": {
                        "type": "Point",
                        "coordinates": [
                            round(rng.uniform(west, east), 6),
                            round(rng.uniform(south, north), 6),
                        ],
                    },
                },
                "fillingLevel": {"type": "Property", "value": round(rng.random(), 3)},
                "status": {"type": "Property", "value": "ok"},
            }
            for n, entity_id in enumerate(ids[start : start + 1000], start=start)
        ]
        result = batch.write(op, payload, "upsert")
        if result.errors:
            raise RuntimeError(f"batch write: {result.errors[:2]}")
    return ids


def update(ids: list[str]) -> None:
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    rng = random.Random(16)
    op = Op(tenant="", ctx=jsonld.core(), actor="system:bench")
    for start in range(0, len(ids), 1000):
        payload = [
            {
                "id": i,
                "type": "WasteContainer",
                "fillingLevel": {"type": "Property", "value": round(rng.random(), 3)},
            }
            for i in ids[start : start + 1000]
        ]
        batch.write(op, payload, "update")


def analyze() -> None:
    """Statistics, as autovacuum would gather shortly after a load (PostgreSQL)."""
    from django.db import connections

    if connections["territory"].vendor == "postgresql":
        with connections["territory"].cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def agent_client() -> object:
    from django.test import Client

    from alzette.personal.accounts.models import Role
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(email="bench-agent@example.org", role=Role.AGENT))
    return client


def server(args: argparse.Namespace, out: dict) -> tuple[str, str, dict]:
    from alzette.territory.hypervision import layers, live

    began = time.perf_counter()
    ids = load(args.devices)
    progress(f"  {args.devices:,} containers loaded in {time.perf_counter() - began:.0f} s")
    analyze()
    client = agent_client()
    url = "/hypervision/features.geojson?layers=waste"
    response = client.get(url)  # warm-up
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    latencies = []
    for _ in range(args.runs):
        began = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - began)
    body = response.content.decode()
    count = len(json.loads(body)["features"])
    out["features"] = {
        "p50": percentile(latencies, 0.5) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "bytes": len(body),
        "count": count,
    }
    progress(
        f"  features.geojson: {count:,} features, {len(body):,} bytes, "
        f"p50 {out['features']['p50']:.0f} ms"
    )
    page = client.get("/hypervision/?layers=waste").content.decode()

    changed = random.Random(17).sample(ids, args.changes)
    since = datetime.now(UTC)
    began = time.perf_counter()
    update(changed)
    written = time.perf_counter() - began
    poller = live.Poller([layers.layers()["waste"]], None, since)
    poller.cursor = since
    began = time.perf_counter()
    delta, _ = poller.changes()  # (features, removals)
    spent = time.perf_counter() - began
    events = "".join(
        live.event("delta", {"cursor": "x", "features": delta[s : s + live.BATCH]})
        for s in range(0, len(delta), live.BATCH)
    )
    out["delta"] = {
        "ms": spent * 1000,
        "count": len(delta),
        "bytes": len(events),
        "write_ms": written * 1000,
    }
    progress(f"  delta of {len(delta):,} changes in {spent * 1000:.0f} ms, {len(events):,} bytes")
    return page, body, {"features": delta}


# --- Worker: browser side ----------------------------------------------------------------


def static_file(path: str) -> bytes | None:
    from django.contrib.staticfiles import finders

    found = finders.find(path)
    return Path(found).read_bytes() if found else None


def browser(
    args: argparse.Namespace, page_html: str, features: str, delta: dict, out: dict
) -> None:
    from playwright.sync_api import sync_playwright

    origin = "http://bench.invalid"
    delta_json = json.dumps(delta["features"])

    def serve(route: object) -> None:
        url = route.request.url.removeprefix(origin)
        if url.startswith("/hypervision/features.geojson"):
            route.fulfill(status=200, content_type="application/geo+json", body=features)
        elif url.startswith("/hypervision/live"):
            route.fulfill(status=204, body="")  # EventSource stops on 204
        elif url.startswith("/static/"):
            content = static_file(url.removeprefix("/static/").split("?")[0])
            if content is None:
                route.fulfill(status=404, body="")
            else:
                kind = "text/css" if url.endswith(".css") else "application/javascript"
                route.fulfill(status=200, content_type=kind, body=content)
        elif url.startswith("/hypervision/"):
            route.fulfill(status=200, content_type="text/html", body=page_html)
        else:
            route.abort()

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", serve)
        page.goto(f"{origin}/hypervision/?layers=waste")
        page.wait_for_selector("#hv-map[data-state=drawn]", timeout=120_000)
        draws, builds = [], []
        for _ in range(args.browser_runs):
            ms = page.evaluate("""async () => {
                const began = performance.now();
                await window.hypervision.reload();
                await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                return [performance.now() - began, window.hypervision.state.lastDrawMs];
            }""")
            draws.append(ms[0])
            builds.append(ms[1])
        markers = int(page.get_attribute("#hv-map", "data-markers"))
        applies, placed = [], []
        for n in range(args.browser_runs):
            values = page.evaluate(
                """async ([text, n]) => {
                const features = JSON.parse(text);
                features.forEach(f => {
                    f.properties.value = ((n * 37 + f.properties.value * 100) % 100) / 100;
                });
                const began = performance.now();
                const placed = window.hypervision.applyNow(features);
                await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
                return [performance.now() - began, placed];
            }""",
                [delta_json, n],
            )
            applies.append(values[0])
            placed.append(values[1])
        fps = page.evaluate(
            """async (text) => {
            const features = JSON.parse(text);
            let frames = 0, longest = 0, last = performance.now(), running = true;
            function tick(now) {
                frames += 1; longest = Math.max(longest, now - last); last = now;
                if (running) requestAnimationFrame(tick);
            }
            requestAnimationFrame(tick);
            const began = performance.now();
            let round = 0;
            while (performance.now() - began < 5000) {
                round += 1;
                features.forEach(f => { f.properties.value = Math.random(); });
                const copy = features.map(f => ({...f, properties: {...f.properties}}));
                window.hypervision.apply(copy);
                await new Promise(r => setTimeout(r, 500));
            }
            running = false;
            const seconds = (performance.now() - began) / 1000;
            return [frames / seconds, longest, round];
        }""",
            delta_json,
        )
        chromium.close()
    out["browser"] = {
        "markers": markers,
        "draw_ms": statistics.median(draws),
        "draw_max_ms": max(draws),
        "build_ms": statistics.median(builds),
        "apply_ms": statistics.median(applies),
        "apply_max_ms": max(applies),
        "place_ms": statistics.median(placed),
        "fps": fps[0],
        "longest_frame_ms": fps[1],
        "deltas": fps[2],
    }
    b = out["browser"]
    progress(
        f"  browser: draw {b['draw_ms']:.0f} ms, apply {b['apply_ms']:.0f} ms, "
        f"{b['fps']:.0f} fps while updating"
    )


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, ORM after
    import django

    django.setup()
    from django.db import connections

    from alzette.core.runtime import settle

    settle()
    vendor = connections["territory"].vendor
    progress(f"== {vendor}")
    out: dict = {"backend": vendor}
    page, features, delta = server(args, out)
    if not args.no_browser:
        browser(args, page, features, delta, out)
    Path(args.result).write_text(json.dumps(out))


# --- Driver ------------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> dict | None:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alzette-bench-")))
        urls = stack.enter_context(postgres_databases()) if backend == "postgresql" else {}
        env = environment(folder / "data", urls)
        migrate(env)
        result = folder / "result.json"
        command = [
            sys.executable,
            __file__,
            "--worker",
            "--result",
            str(result),
            "--devices",
            str(args.devices),
            "--changes",
            str(args.changes),
            "--runs",
            str(args.runs),
            "--browser-runs",
            str(args.browser_runs),
        ]
        if args.no_browser:
            command.append("--no-browser")
        done = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if done.returncode or not result.exists():
            progress(f"{backend}: the worker failed (exit {done.returncode})")
            return None
        return json.loads(result.read_text())


def report(results: dict[str, dict | None], args: argparse.Namespace) -> None:
    print(
        f"\nLive map, {args.devices:,} WasteContainers, a delta of {args.changes:,} changes, "
        f"{os.cpu_count()} CPU core(s)"
    )
    for backend, out in results.items():
        if out is None:
            print(f"{backend}: failed")
            continue
        f, d = out["features"], out["delta"]
        print(
            f"{backend}: features.geojson {f['count']:,} features, {f['bytes']:,} bytes, "
            f"p50 {f['p50']:.0f} ms / p95 {f['p95']:.0f} ms ({args.runs} runs)"
        )
        print(
            f"{backend}: delta of {d['count']:,} changes computed in {d['ms']:.0f} ms, "
            f"{d['bytes']:,} bytes of events (the updates written in {d['write_ms']:.0f} ms)"
        )
        b = out.get("browser")
        if b:
            print(
                f"browser: {b['markers']:,} markers, initial draw {b['draw_ms']:.0f} ms "
                f"(max {b['draw_max_ms']:.0f}; placing the markers {b['build_ms']:.0f} ms), "
                f"delta applied and drawn {b['apply_ms']:.0f} ms (max {b['apply_max_ms']:.0f}; "
                f"placing {b['place_ms']:.0f} ms), {b['fps']:.0f} frames/s while a delta "
                f"arrives every 500 ms, longest frame {b['longest_frame_ms']:.0f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--devices", type=int, default=15_000, help="containers (15,000)")
    parser.add_argument("--changes", type=int, default=1_500, help="changes in a delta (1,500)")
    parser.add_argument("--runs", type=int, default=5, help="timed features requests (5)")
    parser.add_argument("--browser-runs", type=int, default=3, help="timed draws/applies (3)")
    parser.add_argument("--no-browser", action="store_true", help="server figures only")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    backend = "postgresql" if args.postgres else "sqlite"
    try:
        results = {backend: run_backend(backend, args)}
    except KeyboardInterrupt:
        sys.exit("interrupted; databases dropped")
    report(results, args)


if __name__ == "__main__":
    main()
