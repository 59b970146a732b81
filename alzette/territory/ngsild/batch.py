"""Batch entity operations (CIM 009 §5.6.7-§5.6.10, §5.6.20): /entityOperations.

A batch is not all-or-nothing: each entity succeeds or fails on its own and
the answer lists both (BatchOperationResult). The successful part is written
in one transaction with bulk statements, so a thousand entities cost a
handful of round trips to the database.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from alzette.territory.ngsild import entities, store, tenants
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, exists, not_found

DB = store.DB


@dataclass
class BatchResult:
    success: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def fail(self, entity_id: Any, error: NgsiLdError) -> None:
        self.errors.append({"entityId": entity_id if isinstance(entity_id, str) else str(entity_id),
                            "error": error.problem()})  # fmt: skip

    def body(self) -> dict[str, Any]:
        return {"success": self.success, "errors": self.errors}


def _items(payload: Any) -> list[Any]:
    if not isinstance(payload, list):
        raise bad_data("a batch payload is a JSON array")
    if not payload:
        raise bad_data("a batch needs at least one item")
    if len(payload) > entities.MAX_BATCH:
        raise bad_data(f"a batch holds at most {entities.MAX_BATCH} items")
    return payload


def _id_of(item: Any) -> Any:
    return item.get("id", item.get("@id")) if isinstance(item, dict) else None


def write(op: Op, payload: Any, mode: str) -> BatchResult:
    """create, upsert (update|replace), update (noOverwrite) or merge a batch."""
    items = _items(payload)
    result = BatchResult()
    with transaction.atomic(using=DB):
        ids = [i for i in (_id_of(item) for item in items) if isinstance(i, str)]
        rows = store.get_many(op.tenant, ids, lock=True)
        writes: dict[str, store.Write] = {}
        for item in items:
            try:
                _one(op, item, mode, rows, writes)
            except NgsiLdError as exc:
                result.fail(_id_of(item), exc)
                continue
            result.success.append(_id_of(item))
        _store(op, writes, result)
    return result


def _one(op: Op, item: Any, mode: str, rows: dict, writes: dict[str, store.Write]) -> None:
    entity_id = rep.check_entity_id(_id_of(item))
    row = rows.get(entity_id)
    if row is None:
        if mode in ("update", "merge", "update-noOverwrite"):
            raise not_found(f"entity {entity_id} not found")
        write = entities.new_write(op, item)
        entities.validate(write.row)
        rows[entity_id] = write.row
        writes[entity_id] = write
        return
    if mode == "create":
        raise exists(f"entity {entity_id} already exists")
    write = writes.get(entity_id) or store.Write(
        row=row, created=False, before=copy.deepcopy(row.body), types_before=list(row.types)
    )
    snapshot = (copy.deepcopy(row.body), list(row.types))
    try:
        _change(op, row, item, mode, write)
        entities.validate(row)
    except NgsiLdError:
        row.body, row.types = snapshot
        raise
    writes[entity_id] = write


def _change(op: Op, row: Any, item: dict, mode: str, write: store.Write) -> None:
    expander = op.expander()
    if mode == "upsert-replace":
        body = expander.attributes(item)
        entities.keep_created(row.body, body)
        row.body = body
        row.types = rep.expand_types(item.get("type", item.get("@type")), op.ctx)
        changed = list(body)
    elif mode == "merge":
        changed = entities.merge_into(row.body, expander.attributes(item, allow_null=True))
    else:
        fragment = expander.attributes(item)
        changed = []
        for iri, instances in fragment.items():
            current = row.body.setdefault(iri, [])
            for instance in instances:
                old = rep.find_instance(current, instance.get("datasetId"))
                if old is not None and mode == "update-noOverwrite":
                    continue
                entities.put_instance(current, old, instance)
                changed.append(iri)
        if "type" in item and mode.startswith("upsert"):
            row.types = list(dict.fromkeys(row.types + rep.expand_types(item["type"], op.ctx)))
    row.modified_at = op.now
    for iri in dict.fromkeys(changed):
        for instance in row.body.get(iri, []):
            if instance.get("modifiedAt") == op.stamp:
                write.history.append((iri, instance))


def _store(op: Op, writes: dict[str, store.Write], result: BatchResult) -> None:
    if not writes:
        return
    tenants.ensure(op.tenant)
    batch = list(writes.values())
    store.persist(batch)
    entities.queue_changes(op, batch)
    result.created = [w.row.entity_id for w in batch if w.created]
    if result.created:
        entities.record(op.actor, "entity.created",
                        [{"tenant": op.tenant, "entity": e} for e in result.created])  # fmt: skip


def delete(op: Op, payload: Any) -> BatchResult:
    items = _items(payload)
    result = BatchResult()
    with transaction.atomic(using=DB):
        valid = [i for i in items if rep.is_uri(i)]
        rows = store.get_many(op.tenant, valid, lock=True)
        gone = []
        for entity_id in items:
            if not rep.is_uri(entity_id):
                result.fail(entity_id, bad_data(f"{entity_id!r} is not an entity id"))
            elif entity_id not in rows:
                result.fail(entity_id, not_found(f"entity {entity_id} not found"))
            else:
                gone.append(rows.pop(entity_id))
                result.success.append(entity_id)
        if gone:
            entities.queue_changes(op, [], deleted=gone)
            store.delete(gone)
            payloads = [{"tenant": op.tenant, "entity": r.entity_id} for r in gone]
            entities.record(op.actor, "entity.deleted", payloads)
    return result
