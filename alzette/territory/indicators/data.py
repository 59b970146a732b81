"""What indicators read from the NGSI-LD store (default tenant), by local names.

Entities are stored with expanded IRIs, whose vocabulary depends on the @context
they were written with (a Smart Data Models context, the core one, ...). The
indicators name types and attributes by their local name ("WasteObserved",
"weight"), which is how Smart Data Models define them, whatever the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from django.db.models import Q

from alzette.core.repositories import TERRITORY
from alzette.territory.ngsild.entities import local_name
from alzette.territory.ngsild.models import DEFAULT_TENANT, AttributeInstance, Entity, EntityType

#: Gaps between two power samples longer than this are not counted in an energy.
MAX_GAP_HOURS = 2.0


@dataclass(frozen=True)
class Stored:
    entity_id: str
    values: dict[str, Any]  # local attribute name -> value of its first instance
    iris: dict[str, str]  # local attribute name -> stored IRI
    units: dict[str, str]  # local attribute name -> unitCode


def _named(column: str, name: str) -> Q:
    return (Q(**{column: name}) | Q(**{f"{column}__endswith": f"/{name}"})
            | Q(**{f"{column}__endswith": f"#{name}"}))  # fmt: skip


def entities(type_name: str) -> Iterator[Stored]:
    """Every entity of the type whose local name is ``type_name``."""
    typed = (
        EntityType.objects.using(TERRITORY)
        .filter(tenant=DEFAULT_TENANT)
        .filter(_named("type_iri", type_name))
    )
    rows = Entity.objects.using(TERRITORY).filter(tenant=DEFAULT_TENANT,
                                                  pk__in=typed.values("entity_id"))  # fmt: skip
    for entity_id, body in rows.order_by("entity_id").values_list("entity_id", "body").iterator():
        values, iris, units = {}, {}, {}
        for iri, instances in body.items():
            if not isinstance(instances, list) or not instances:
                continue
            name, first = local_name(iri), instances[0]
            values[name] = first.get("object", first.get("value"))
            iris[name] = iri
            if first.get("unitCode"):
                units[name] = first["unitCode"]
        yield Stored(entity_id, values, iris, units)


def count(type_name: str) -> int:
    typed = (
        EntityType.objects.using(TERRITORY)
        .filter(tenant=DEFAULT_TENANT)
        .filter(_named("type_iri", type_name))
    )
    return typed.values("entity_id").distinct().count()


def samples(
    entity_ids: list[str], attribute: str, start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Numeric history of ``attribute`` per entity, observed in [start, end), in time order."""
    rows = AttributeInstance.objects.using(TERRITORY).filter(
        tenant=DEFAULT_TENANT, entity_id__in=entity_ids, observed_at__gte=start,
        observed_at__lt=end, number__isnull=False,
    ).filter(_named("attribute", attribute))  # fmt: skip
    found: dict[str, list[tuple[datetime, float]]] = {}
    for entity_id, moment, number in rows.order_by("entity_id", "observed_at", "pk").values_list(
        "entity_id", "observed_at", "number"
    ):
        found.setdefault(entity_id, []).append((moment, number))
    return found


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def increase(series: list[tuple[datetime, float]]) -> float:
    """How much a cumulative counter (a meter) rose along ``series``: the sum of its
    rises, so that a meter replaced or reset to zero does not count negatively."""
    return sum(max(0.0, b - a) for (_t, a), (_u, b) in pairwise(series))


def energy_kwh(series: list[tuple[datetime, float]], kilowatts: float = 1.0) -> float | None:
    """Energy from power samples (trapezoids), ``kilowatts`` per unit of the samples;
    gaps longer than ``MAX_GAP_HOURS`` are left out rather than guessed. None when no
    two samples are close enough to measure anything."""
    total, measured = 0.0, False
    for (t0, p0), (t1, p1) in pairwise(series):
        hours = (t1 - t0).total_seconds() / 3600
        if 0 < hours <= MAX_GAP_HOURS:
            total += (p0 + p1) / 2 * hours * kilowatts
            measured = True
    return total if measured else None


#: UN/CEFACT codes of power units, in kilowatts.
POWER_UNITS = {"KWT": 1.0, "WTT": 0.001, "MAW": 1000.0}
