"""Reading and writing entity rows with their index rows and history.

Every write goes through ``persist``: the entity row, its type/value/geo index
rows and the history rows of the attributes that changed are written in the
caller's transaction, in bulk, so a batch of a thousand entities costs a
handful of statements rather than thousands.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections

from alzette.core import spatial
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.models import (
    AttributeIndex,
    AttributeInstance,
    Entity,
    EntityType,
    GeoIndex,
)

DB = "territory"
_TEXT_MAX = 255


@dataclass
class Write:
    """An entity to store, and the attribute instances to add to its history."""

    row: Entity
    created: bool
    history: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    before: dict[str, list] | None = None
    #: The types before an update that may replace them (None: unchanged or unknown).
    types_before: list[str] | None = None


def get(tenant: str, entity_id: str, *, lock: bool = False) -> Entity | None:
    rows = Entity.objects.using(DB).filter(tenant=tenant, entity_id=entity_id)
    if lock:
        rows = rows.select_for_update()
    return rows.first()


def get_many(tenant: str, entity_ids: Iterable[str], *, lock: bool = False) -> dict[str, Entity]:
    rows = Entity.objects.using(DB).filter(tenant=tenant, entity_id__in=list(entity_ids))
    if lock:
        rows = rows.select_for_update()
    return {row.entity_id: row for row in rows}


def persist(writes: list[Write]) -> None:
    """Write entity rows, rebuild their index rows, and append history."""
    if not writes:
        return
    new = [w.row for w in writes if w.created]
    old = [w.row for w in writes if not w.created]
    if new:
        Entity.objects.using(DB).bulk_create(new, batch_size=500)
        if new[0].pk is None:  # backends that return no ids (none of ours, but be safe)
            ids = get_many(new[0].tenant, [r.entity_id for r in new])
            for row in new:
                row.pk = ids[row.entity_id].pk
    if old:
        _update_rows(old)
        _drop_indexes([r.pk for r in old])
    _write_indexes([w.row for w in writes])
    _write_history(writes)


_UPDATED = ("types", "scope", "body", "modified_at")


def _update_rows(rows: list[Entity]) -> None:
    """One prepared UPDATE run for every row (Django's bulk_update builds a CASE per
    column and row, which costs more than the database work itself)."""
    connection = connections[DB]
    fields = [Entity._meta.get_field(name) for name in _UPDATED]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(Entity._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def delete(rows: list[Entity]) -> None:
    pks = [r.pk for r in rows]
    _drop_indexes(pks)
    Entity.objects.using(DB).filter(pk__in=pks).delete()


def _drop_indexes(pks: list[int]) -> None:
    for model in (EntityType, AttributeIndex, GeoIndex):
        model.objects.using(DB).filter(entity_id__in=pks).delete()


def _write_indexes(rows: list[Entity]) -> None:
    types, values, boxes = [], [], []
    for row in rows:
        for iri in row.types:
            types.append(EntityType(entity_id=row.pk, tenant=row.tenant, type_iri=iri))
        for iri, instances in row.body.items():
            for instance in instances:
                values.extend(_value_rows(row.pk, iri, instance))
                box = _box(instance)
                if box is not None:
                    boxes.append(GeoIndex(entity_id=row.pk, attribute=iri, **box))
    EntityType.objects.using(DB).bulk_create(types, batch_size=1000)
    AttributeIndex.objects.using(DB).bulk_create(values, batch_size=1000)
    GeoIndex.objects.using(DB).bulk_create(boxes, batch_size=1000)


def _value_rows(pk: int, iri: str, instance: dict[str, Any]) -> list[AttributeIndex]:
    rows = _values(pk, iri, instance)
    for row in rows:
        row.kind = instance.get("type", rep.PROPERTY)
    return rows


def _values(pk: int, iri: str, instance: dict[str, Any]) -> list[AttributeIndex]:
    """One row per scalar the q language may compare (§4.9: arrays match by element)."""
    kind = instance.get("type")
    if kind == rep.RELATIONSHIP:
        scalars = _scalars(instance.get("object"))
    elif kind == rep.LANGUAGEPROPERTY:
        scalars = _scalars(list(instance.get("languageMap", {}).values()))
    elif kind == rep.PROPERTY:
        scalars = _scalars(instance.get("value"))
    else:
        scalars = []
    rows = [_row(pk, iri, v) for v in dict.fromkeys(scalars)]
    return rows or [AttributeIndex(entity_id=pk, attribute=iri)]  # existence only


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if isinstance(value, list):
        return [s for item in value for s in _scalars(item)]
    if isinstance(value, bool | int | float | str):
        return [value]
    return []


def _row(pk: int, iri: str, value: Any) -> AttributeIndex:
    if isinstance(value, bool):
        return AttributeIndex(entity_id=pk, attribute=iri, text=str(value).lower())
    if isinstance(value, int | float):
        return AttributeIndex(entity_id=pk, attribute=iri, number=float(value))
    return AttributeIndex(
        entity_id=pk, attribute=iri, text=value[:_TEXT_MAX], folded=fold(value)[:_TEXT_MAX]
    )


def fold(text: str) -> str:
    """Lower case without accents ("Énergie" and "energie" alike; "Straße", "strasse")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _box(instance: dict[str, Any]) -> dict[str, float] | None:
    if instance.get("type") != rep.GEOPROPERTY:
        return None
    try:
        box = spatial.bbox_of(spatial.parse_geometry(instance["value"]))
    except (spatial.SpatialError, KeyError, TypeError):
        return None
    return {"min_x": box.min_x, "min_y": box.min_y, "max_x": box.max_x, "max_y": box.max_y}


def history_row(
    tenant: str, entity_id: str, iri: str, instance: dict[str, Any], recorded: datetime
) -> AttributeInstance:
    observed = instance.get("observedAt")
    observed_at = rep.parse_datetime(observed, "observedAt") if observed else recorded
    value = instance.get("value")
    number = (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    )
    return AttributeInstance(
        tenant=tenant,
        entity_id=entity_id,
        attribute=iri,
        dataset_id=instance.get("datasetId", ""),
        observed_at=observed_at,
        recorded_at=recorded,
        number=number,
        instance=instance,
    )


def _write_history(writes: list[Write]) -> None:
    rows = [
        history_row(w.row.tenant, w.row.entity_id, iri, instance, w.row.modified_at)
        for w in writes
        for iri, instance in w.history
        if instance.get("value") != rep.NULL
    ]
    write_history(rows)


def write_history(rows: list[AttributeInstance]) -> None:
    """Append history rows and fold them into the hourly rollup."""
    from alzette.territory.ngsild import partitions, temporal

    if not rows:
        return
    partitions.ensure({row.observed_at for row in rows})
    AttributeInstance.objects.using(DB).bulk_create(rows, batch_size=1000)
    temporal.add_rollups(rows)
