"""Territory events, the domain: what the bridge writes and what readers query."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction

from alzette.core.repositories import TERRITORY
from alzette.territory.events.models import (
    Aggregate,
    AggregateRelease,
    ProcedureStatistic,
    TerritoryEvent,
)

#: Four decimals of a degree: about 11 m north-south, 7 m east-west here.
COORDINATE_DECIMALS = 4


def record_event(
    source_ref: str,
    kind: str,
    lon: float,
    lat: float,
    observed_on: date,
    commune_code: str = "",
    categories: Iterable[str] = (),
    asset_ref: str = "",
) -> TerritoryEvent:
    """Create (or leave as is) the event of ``source_ref``."""
    event, _created = TerritoryEvent.objects.get_or_create(
        source_ref=source_ref,
        defaults={
            "kind": kind,
            "lon": round(lon, COORDINATE_DECIMALS),
            "lat": round(lat, COORDINATE_DECIMALS),
            "observed_on": observed_on,
            "commune_code": commune_code,
            "categories": sorted(set(categories)),
            "asset_ref": asset_ref,
        },
    )
    return event


def close_event(source_ref: str, closed_on: date) -> bool:
    return bool(
        TerritoryEvent.objects.filter(source_ref=source_ref, status="open").update(
            status="closed", closed_on=closed_on
        )
    )


def replace_statistics(rows: Iterable[dict[str, Any]]) -> int:
    """Replace every procedure statistic with ``rows`` (the bridge's aggregates)."""
    fields = ("procedure", "commune_code", "month", "filed", "decided", "accepted")
    objects = [
        ProcedureStatistic(
            **{key: row[key] for key in fields}, mean_delay_days=row["mean_delay_days"]
        )
        for row in rows
    ]
    with transaction.atomic(using=TERRITORY):
        ProcedureStatistic.objects.all().delete()
        ProcedureStatistic.objects.bulk_create(objects)
    return len(objects)


# --- Aggregates released by the bridge -----------------------------------------------------

CELL_FIELDS = ("commune_code", "period", "category", "subjects", "measures")


def cells_digest(cells: list[dict[str, Any]]) -> str:
    """SHA-256 of the released cells' canonical JSON: the ledger entry commits to it."""
    public = [{key: cell[key] for key in CELL_FIELDS} for cell in cells]
    text = json.dumps(public, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def replace_aggregates(
    spec: str, log: dict[str, Any], cells: list[dict[str, Any]]
) -> AggregateRelease:
    """Replace the cells of ``spec`` with ``cells`` and log the release, all or nothing.

    ``log`` holds the release's ``period_from``, ``period_to``, ``k``, ``epsilon``,
    ``cells_suppressed`` and ``measures``. The ledger entry is recorded last, once
    every row is written (docs/ledger.md, "Atomicity with domain writes").
    """
    from alzette.ledger import services as ledger

    with transaction.atomic(using=TERRITORY):
        Aggregate.objects.filter(spec=spec).delete()
        release = AggregateRelease(spec=spec, cells_released=len(cells), digest=cells_digest(cells),
                                   **log)  # fmt: skip
        release.save()
        Aggregate.objects.bulk_create(
            Aggregate(release=release, spec=spec, fingerprints=cell.get("fingerprints", {}),
                      **{key: cell[key] for key in CELL_FIELDS})
            for cell in cells
        )  # fmt: skip
        payload = {"spec": spec, "period_from": release.period_from,
                   "period_to": release.period_to, "k": release.k, "epsilon": release.epsilon,
                   "cells_released": len(cells), "cells_suppressed": release.cells_suppressed,
                   "cells_sha256": release.digest}  # fmt: skip
        receipt, commitment = ledger.record(
            "bridge.released", "system:bridge", f"aggregate-release:{release.pk}", payload
        )
        release.payload, release.ledger_index = payload, receipt.leaf_index
        release.ledger_salt = commitment.salt
        release.save(update_fields=["payload", "ledger_index", "ledger_salt", "updated_at"])
    return release


def aggregates(spec: str) -> Any:
    """The cells of ``spec`` currently released."""
    return Aggregate.objects.filter(spec=spec).order_by("commune_code", "period", "category")


def latest_release(spec: str) -> AggregateRelease | None:
    return AggregateRelease.objects.filter(spec=spec).order_by("-released_at").first()


def events(kind: str = "", commune_code: str = "", status: str = "") -> Any:
    found = TerritoryEvent.objects.all()
    if kind:
        found = found.filter(kind=kind)
    if commune_code:
        found = found.filter(commune_code=commune_code)
    if status:
        found = found.filter(status=status)
    return found
