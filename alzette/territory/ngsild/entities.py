"""Entity operations (CIM 009 §5.6): the domain logic behind /entities.

Each public function is one atomic operation on the territory database: the
entity rows, their indexes, their history, the notifications they trigger
(an outbox, ``subscriptions.queue``) and, for creations and deletions, the
ledger entries are written together or not at all.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild import store, tenants
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, exists, not_found
from alzette.territory.ngsild.jsonld import DEFAULT_VOCAB, Context
from alzette.territory.ngsild.models import Entity
from alzette.territory.smartdatamodels import validation

DB = store.DB
SDM_PREFIX = "https://smartdatamodels.org/"
MAX_BATCH = 1000


@dataclass
class Op:
    """Who writes, where, and with which @context."""

    tenant: str
    ctx: Context
    actor: str = "system:ngsi-ld"
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Attributes whose history is kept elsewhere (oneM2M containers, see mapping.py).
    no_history: frozenset[str] = frozenset()

    @property
    def stamp(self) -> str:
        return rep.iso(self.now)

    def expander(self) -> rep.Expander:
        return rep.Expander(self.ctx, self.stamp)


@dataclass
class Outcome:
    """Partial success of an attribute operation (§5.2.18 UpdateResult)."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {"updated": self.updated, "notUpdated": self.not_updated}


# -- single-entity operations ------------------------------------------------


def create(op: Op, payload: Any) -> str:
    """Create an entity; AlreadyExists when its id is taken."""
    with transaction.atomic(using=DB):
        write = new_write(op, payload)
        if store.get(op.tenant, write.row.entity_id) is not None:
            raise exists(f"entity {write.row.entity_id} already exists")
        _commit(op, [write], created=[write.row.entity_id])
    return write.row.entity_id


def replace(op: Op, entity_id: str, payload: Any) -> None:
    """Replace all attributes (and the type when given) of an entity (§5.6.18)."""
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        payload = _object(payload)
        _same_id(payload, entity_id)
        before, types_before = row.body, list(row.types)
        types = rep.expand_types(payload["type"], op.ctx) if "type" in payload else row.types
        body = op.expander().attributes(payload)
        keep_created(before, body)
        row.types, row.body, row.scope = types, body, rep.check_scope(payload.get("scope"))
        write = _update_write(op, row, before, list(body))
        write.types_before = types_before
        _commit(op, [write])


def merge(op: Op, entity_id: str, payload: Any) -> None:
    """Merge a fragment into an entity (§5.6.17): null deletes, the rest overwrites."""
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        payload = _object(payload)
        _same_id(payload, entity_id)
        before = copy.deepcopy(row.body)
        fragment = op.expander().attributes(payload, allow_null=True)
        changed = merge_into(row.body, fragment)
        if "type" in payload:
            row.types = list(dict.fromkeys(row.types + rep.expand_types(payload["type"], op.ctx)))
        if "scope" in payload:
            row.scope = rep.check_scope(payload["scope"])
        _commit(op, [_update_write(op, row, before, changed)])


def delete(op: Op, entity_id: str) -> None:
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        queue_changes(op, [], deleted=[row])
        store.delete([row])
        _ledger(op, "entity.deleted", [row.entity_id])


def append(op: Op, entity_id: str, payload: Any, *, no_overwrite: bool = False) -> Outcome:
    """Append attributes (§5.6.3); existing ones are overwritten unless no_overwrite."""
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        fragment = op.expander().attributes(_object(payload))
        outcome, changed, before = Outcome(), [], copy.deepcopy(row.body)
        for iri, instances in fragment.items():
            name = op.ctx.compact(iri)
            for instance in instances:
                current = row.body.setdefault(iri, [])
                old = rep.find_instance(current, instance.get("datasetId"))
                if old is not None and no_overwrite:
                    outcome.not_updated.append({"attributeName": name, "reason": "exists"})
                    continue
                put_instance(current, old, instance)
                changed.append(iri)
            if not row.body[iri]:
                del row.body[iri]
            if name not in [n["attributeName"] for n in outcome.not_updated]:
                outcome.updated.append(name)
        _commit(op, [_update_write(op, row, before, changed)])
    return outcome


def update_attributes(op: Op, entity_id: str, payload: Any) -> Outcome:
    """Update existing attributes only (§5.6.2); the others are reported as not updated."""
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        fragment = op.expander().attributes(_object(payload))
        outcome, changed, before = Outcome(), [], copy.deepcopy(row.body)
        for iri, instances in fragment.items():
            name = op.ctx.compact(iri)
            current = row.body.get(iri)
            olds = [rep.find_instance(current or [], i.get("datasetId")) for i in instances]
            if current is None or any(o is None for o in olds):
                reason = "attribute does not exist" if current is None else "datasetId not found"
                outcome.not_updated.append({"attributeName": name, "reason": reason})
                continue
            for instance, old in zip(instances, olds, strict=True):
                put_instance(current, old, instance)
            changed.append(iri)
            outcome.updated.append(name)
        _commit(op, [_update_write(op, row, before, changed)])
    return outcome


def patch_attribute(op: Op, entity_id: str, name: str, payload: Any) -> None:
    """Partial update of one attribute instance (§5.6.4)."""
    payload = _object(payload)
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        iri = op.ctx.expand(rep.check_name(name))
        current = row.body.get(iri)
        old = rep.find_instance(current or [], payload.get("datasetId"))
        if old is None:
            raise not_found(f"entity {entity_id} has no attribute {name} with that datasetId")
        merged = {
            k: v for k, v in _compacted_instance(op, old).items() if k not in rep.SYSTEM_MEMBERS
        }
        for key, value in payload.items():
            merged[key] = value
        if "type" in payload and payload["type"] != old["type"]:
            raise bad_data(f"attribute {name}: its type cannot change in a partial update")
        before = copy.deepcopy(row.body)
        new = op.expander().instance(name, merged)
        put_instance(current, old, new)
        _commit(op, [_update_write(op, row, before, [iri])])


def replace_attribute(op: Op, entity_id: str, name: str, payload: Any) -> None:
    """Replace one attribute (§5.6.19)."""
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        iri = op.ctx.expand(rep.check_name(name))
        if iri not in row.body:
            raise not_found(f"entity {entity_id} has no attribute {name}")
        before = copy.deepcopy(row.body)
        instances = op.expander().attribute(name, payload)
        for instance in instances:
            put_instance(
                row.body[iri], rep.find_instance(row.body[iri], instance.get("datasetId")), instance
            )
        _commit(op, [_update_write(op, row, before, [iri])])


def delete_attribute(
    op: Op, entity_id: str, name: str, *, dataset_id: str | None = None, delete_all: bool = False
) -> None:
    """Delete an attribute instance, or all its instances (§5.6.5)."""
    with transaction.atomic(using=DB):
        row = _existing(op, entity_id)
        iri = op.ctx.expand(rep.check_name(name))
        current = row.body.get(iri)
        before = copy.deepcopy(row.body)
        if current is None:
            raise not_found(f"entity {entity_id} has no attribute {name}")
        if delete_all:
            del row.body[iri]
        else:
            old = rep.find_instance(current, dataset_id)
            if old is None:
                raise not_found(f"attribute {name} has no instance with datasetId {dataset_id}")
            current.remove(old)
            if not current:
                del row.body[iri]
        _commit(op, [_update_write(op, row, before, [iri])])


# -- helpers -------------------------------------------------------------------


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise bad_data("the payload must be a JSON object")
    return payload


def _same_id(payload: dict, entity_id: str) -> None:
    given = payload.get("id", payload.get("@id"))
    if given is not None and given != entity_id:
        raise bad_data(f"the payload's id {given} differs from the target {entity_id}")


def _existing(op: Op, entity_id: str) -> Entity:
    rep.check_entity_id(entity_id)
    row = store.get(op.tenant, entity_id, lock=True)
    if row is None:
        raise not_found(f"entity {entity_id} not found")
    return row


def new_write(op: Op, payload: Any) -> store.Write:
    payload = _object(payload)
    entity_id = rep.check_entity_id(payload.get("id", payload.get("@id")))
    if "type" not in payload and "@type" not in payload:
        raise bad_data("an entity needs a type")
    types = rep.expand_types(payload.get("type", payload.get("@type")), op.ctx)
    body = op.expander().attributes(payload)
    row = Entity(
        tenant=op.tenant,
        entity_id=entity_id,
        types=types,
        scope=rep.check_scope(payload.get("scope")),
        body=body,
        created_at=op.now,
        modified_at=op.now,
    )
    history = [(iri, i) for iri, instances in body.items() for i in instances
               if iri not in op.no_history]  # fmt: skip
    return store.Write(row=row, created=True, history=history)


def _update_write(op: Op, row: Entity, before: dict, changed: list[str]) -> store.Write:
    row.modified_at = op.now
    history = [(iri, i) for iri in dict.fromkeys(changed) for i in row.body.get(iri, [])
               if i.get("modifiedAt") == op.stamp and iri not in op.no_history]  # fmt: skip
    return store.Write(row=row, created=False, history=history, before=before)


def keep_created(before: dict, body: dict) -> None:
    # An attribute that survives a replacement keeps its creation time (§4.8).
    for iri, instances in body.items():
        for instance in instances:
            old = rep.find_instance(before.get(iri, []), instance.get("datasetId"))
            if old is not None and "createdAt" in old:
                instance["createdAt"] = old["createdAt"]


def put_instance(current: list[dict], old: dict | None, new: dict) -> None:
    if old is not None:
        new["createdAt"] = old.get("createdAt", new["createdAt"])
        current[current.index(old)] = new
    else:
        current.append(new)


def merge_into(body: dict[str, list], fragment: dict[str, list]) -> list[str]:
    """Merge-patch attribute instances (§5.5.12); returns the IRIs that changed."""
    changed = []
    for iri, instances in fragment.items():
        for instance in instances:
            current = body.get(iri, [])
            old = rep.find_instance(current, instance.get("datasetId"))
            if instance.get("value") == rep.NULL:
                if old is not None:
                    current.remove(old)
            elif old is None:
                current.append(instance)
            else:
                merged = {**old, **{k: v for k, v in instance.items() if k != "createdAt"}}
                for key, value in list(merged.items()):
                    if isinstance(value, list) and value and value[0].get("value") == rep.NULL:
                        del merged[key]
                current[current.index(old)] = merged
            if current:
                body[iri] = current
            else:
                body.pop(iri, None)
            changed.append(iri)
    return changed


def _compacted_instance(op: Op, instance: dict) -> dict:
    return rep.Renderer(op.ctx, sys_attrs=True).instance(instance)


def _commit(op: Op, writes: list[store.Write], created: list[str] | None = None) -> None:
    for write in writes:
        validate(write.row)
    tenants.ensure(op.tenant)
    store.persist(writes)
    queue_changes(op, writes)
    if created:
        _ledger(op, "entity.created", created)


def validate(row: Entity) -> None:
    """Check an entity of a Smart Data Model type against its schema (issue item 5)."""
    for type_iri in row.types:
        name = sdm_name(type_iri)
        if name is None or not validation.has_schema(name):
            continue
        entity = {"id": row.entity_id, "type": name}
        for iri, instances in row.body.items():
            entity[local_name(iri)] = _for_schema(instances[0])
        try:
            validation.validate(entity)
        except validation.ModelError as exc:
            raise NgsiLdError(
                "BadRequestData",
                f"{row.entity_id} does not follow the Smart Data Model {name}: "
                f"attribute {exc.attribute}: {exc.message}",
                {"attribute": exc.attribute, "dataModel": name},
            ) from None


def _for_schema(instance: dict) -> dict:
    out = {k: v for k, v in instance.items() if k in rep.CORE_MEMBERS}
    if instance.get("type") == rep.LANGUAGEPROPERTY:
        texts = instance["languageMap"]
        out = {"type": "Property", "value": next(iter(texts.values()))}
    return out


def sdm_name(type_iri: str) -> str | None:
    """The Smart Data Model name of a type IRI, or None for another vocabulary."""
    if type_iri.startswith((SDM_PREFIX, DEFAULT_VOCAB)):
        return local_name(type_iri)
    return None


def local_name(iri: str) -> str:
    return iri.rstrip("/").replace("#", "/").rsplit("/", 1)[-1]


Hook = Callable[[Op, list[store.Write], list[Entity]], None]
#: Called inside the write's transaction (subscriptions register their outbox here).
change_hooks: list[Hook] = []


def queue_changes(op: Op, writes: list[store.Write], deleted: list[Entity] | None = None) -> None:
    for hook in change_hooks:
        hook(op, writes, deleted or [])


def _ledger(op: Op, kind: str, entity_ids: list[str]) -> None:
    record(op.actor, kind, [{"tenant": op.tenant, "entity": e} for e in entity_ids])


_OBJECT = re.compile(r"[A-Za-z0-9_.:-]{1,150}")


def record(actor: str, kind: str, payloads: list[dict[str, str]]) -> None:
    """Ledger entries for creations and deletions (measurements are not ledger events)."""
    from alzette.ledger import services as ledger
    from alzette.ledger.entries import Entry, commit

    now = ledger.now_ms()
    entries = []
    for payload in payloads:
        name = payload.get("entity") or payload.get("subscription") or ""
        if not _OBJECT.fullmatch(name):  # an id the ledger cannot spell is referenced by hash
            name = hashlib.sha256(name.encode()).hexdigest()[:40]
        digest = commit(payload).digest
        entries.append(Entry(now, kind, actor, f"ngsi-ld:{name}", digest))
    ledger.append_many(entries, receipts=False)
