"""Supervision's alert rules with 15,000 devices: what the rules add to writes, and the
"no data" check the worker runs every five minutes.

    python bench/supervision.py                  # SQLite (embedded default)
    python bench/supervision.py --postgres       # PostgreSQL
    python bench/supervision.py --devices 3000   # a quick look

A worker process on fresh databases (as bench/livemap.py does) loads the communes and
--devices WasteContainer entities, then:

1. writes --changes fillingLevel updates in batches of 1,000 without any rule, then
   with a threshold rule (fillingLevel > 0.9: some updates fire alerts, the next
   ones close them again, docs/supervision.md "Back to normal"): the time per write
   each way, and the alerts fired and closed;
2. with a "no data" rule (60 minutes), times `alerts.check_no_data` four times: with
   every device recent (nothing fires), two hours later (every device fires), once
   more (every alert already open), and back at the start (every alert closes).

Figures are printed, never asserted. Targets: the rules add under 2 ms to a write;
the "no data" check of 15,000 devices takes well under its five-minute period (under
30 s when every device fires at once).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

# The siblings' helpers: throwaway databases, environment, migrations, the fleet.
from livemap import analyze, load  # noqa: E402
from ngsild import environment, migrate, postgres_databases, progress  # noqa: E402


def _write_levels(ids: list[str], seed: int) -> float:
    """Seconds to write a new fillingLevel to each of ``ids``, by batches of 1,000."""
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    rng = random.Random(seed)
    op = Op(tenant="", ctx=jsonld.core(), actor="system:bench")
    began = time.perf_counter()
    for start in range(0, len(ids), 1000):
        payload = [
            {"id": i, "type": "WasteContainer",
             "fillingLevel": {"type": "Property", "value": round(rng.random(), 3)}}
            for i in ids[start : start + 1000]
        ]  # fmt: skip
        batch.write(op, payload, "update")
    return time.perf_counter() - began


def _rule(**fields: object) -> object:
    from alzette.territory.supervision import alerts
    from alzette.territory.supervision.models import AlertRule

    # Written directly: the rule's own ledger entry is not what is timed here.
    rule = AlertRule.objects.using("territory").create(
        entity_type="WasteContainer", unit="CCPHVA", created_by="bench", **fields
    )
    alerts.forget_rules()
    return rule


def writes(args: argparse.Namespace, ids: list[str], out: dict) -> None:
    from alzette.territory.supervision.models import Alert

    changed = random.Random(17).sample(ids, args.changes)
    bare = _write_levels(changed, 1)
    _rule(name="Bac plein", kind="threshold", attribute="fillingLevel", operator="gt", value=0.9)
    ruled = _write_levels(changed, 2)
    again = _write_levels(changed, 3)  # most of the full ones are emptied: alerts close
    alerts = Alert.objects.using("territory")
    out["writes"] = {
        "bare_ms": bare / len(changed) * 1000,
        "ruled_ms": (ruled + again) / (2 * len(changed)) * 1000,
        "fired": alerts.count(),
        "closed": alerts.filter(state="closed").count(),
    }
    w = out["writes"]
    progress(f"  writes: {w['bare_ms']:.2f} ms bare, {w['ruled_ms']:.2f} ms with a threshold "
             f"rule ({w['fired']} fired, {w['closed']} closed)")  # fmt: skip


def no_data(out: dict) -> None:
    from alzette.territory.supervision import alerts
    from alzette.territory.supervision.models import Alert

    rule = _rule(name="Capteur muet", kind="nodata", attribute="fillingLevel", minutes=60)
    closed = Alert.objects.using("territory").filter(rule=rule, state="closed")
    now = datetime.now(UTC)
    figures = {}
    later = now + timedelta(hours=2)
    # "all_back": checked at the loading time again, every device counts as heard from:
    # the outage is over and its 15,000 alerts close.
    steps = (("recent", now), ("all_fire", later), ("all_open", later), ("all_back", now))
    for label, moment in steps:
        began = time.perf_counter()
        fired = alerts.check_no_data(moment)
        figures[label] = {"s": time.perf_counter() - began, "fired": len(fired),
                          "closed": closed.count()}  # fmt: skip
        progress(f"  no-data check ({label}): {figures[label]['s']:.1f} s, "
                 f"{len(fired)} fired, {figures[label]['closed']} closed")  # fmt: skip
    out["nodata"] = figures


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alzette.conf.settings")
    import django

    django.setup()
    from django.db import connections

    from alzette.core.runtime import settle

    settle()
    out: dict = {"backend": connections["territory"].vendor}
    progress(f"== {out['backend']}")
    began = time.perf_counter()
    ids = load(args.devices)
    progress(f"  {args.devices:,} containers loaded in {time.perf_counter() - began:.0f} s")
    analyze()
    writes(args, ids, out)
    no_data(out)
    Path(args.result).write_text(json.dumps(out))


def run_backend(backend: str, args: argparse.Namespace) -> dict | None:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alzette-bench-")))
        urls = stack.enter_context(postgres_databases()) if backend == "postgresql" else {}
        env = environment(folder / "data", urls)
        migrate(env)
        result = folder / "result.json"
        command = [sys.executable, __file__, "--worker", "--result", str(result),
                   "--devices", str(args.devices), "--changes", str(args.changes)]  # fmt: skip
        done = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if done.returncode or not result.exists():
            progress(f"{backend}: the worker failed (exit {done.returncode})")
            return None
        return json.loads(result.read_text())


def report(backend: str, out: dict | None, args: argparse.Namespace) -> None:
    print(f"\nSupervision, {args.devices:,} WasteContainers, {os.cpu_count()} CPU core(s)")
    if out is None:
        print(f"{backend}: failed")
        return
    w, n = out["writes"], out["nodata"]
    print(f"{backend}: a fillingLevel write {w['bare_ms']:.2f} ms without rules, "
          f"{w['ruled_ms']:.2f} ms with a threshold rule ({args.changes:,} writes twice; "
          f"{w['fired']} alerts fired, {w['closed']} closed back to normal)")  # fmt: skip
    print(f"{backend}: no-data check {n['recent']['s']:.1f} s with every device recent, "
          f"{n['all_fire']['s']:.1f} s when {n['all_fire']['fired']:,} fire, "
          f"{n['all_open']['s']:.1f} s with all open, {n['all_back']['s']:.1f} s when "
          f"{n['all_back']['closed']:,} close")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--devices", type=int, default=15_000, help="containers (15,000)")
    parser.add_argument("--changes", type=int, default=3_000, help="writes timed (3,000)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    backend = "postgresql" if args.postgres else "sqlite"
    try:
        out = run_backend(backend, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; databases dropped")
    report(backend, out, args)


if __name__ == "__main__":
    main()
