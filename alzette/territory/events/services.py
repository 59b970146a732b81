"""Territory events, the domain: what the bridge writes and what readers query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction

from alzette.core.repositories import TERRITORY
from alzette.territory.events.models import ProcedureStatistic, TerritoryEvent

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


def events(kind: str = "", commune_code: str = "", status: str = "") -> Any:
    found = TerritoryEvent.objects.all()
    if kind:
        found = found.filter(kind=kind)
    if commune_code:
        found = found.filter(commune_code=commune_code)
    if status:
        found = found.filter(status=status)
    return found
