"""The NGSI-LD part of an archive: the organisation's entities, their history, the user
@contexts they need and the device mappings that feed them.

Which entities an organisation owns (docs/portability.md):

- every entity of its own tenant, the tenant named after its short name (its
  partner applications write there, docs/partners.md);
- in the shared (default) tenant, the entities of the types its datasets publish
  (sources ``ngsild-entities`` and ``ngsild-history``): the rows behind its
  datasets. ``shared=False`` leaves them out.

Entities are written as NGSI-LD normalized JSON-LD with system attributes, one per
line (``entities.jsonl``), compacted with the core @context alone so that no user
context is needed to read them; their history as NGSI-LD temporal representations,
one line per entity and up to 1,000 instances (``temporal.jsonl``). Local instance
ids are left out: they mean nothing on another instance.

The import goes through the broker's own functions: the payloads are expanded and
checked (``Expander``, Smart Data Models validation), the rows, indexes, history,
rollups and partitions are written by ``store``, subscriptions hear of the new
entities and the ledger records ``entity.created``. Only the creation and
modification times are taken from the archive instead of the clock.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from alzette.portability import records
from alzette.portability.archive import ArchiveError, Reader, Writer, dumps
from alzette.portability.plan import CREATE, UNCHANGED, UPDATE, Action, Plan
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.ngsild import entities, jsonld, ldcontexts, mapping, store, temporal, tenants
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.ngsild.models import (
    DEFAULT_TENANT,
    AttributeInstance,
    DeviceMapping,
    Entity,
    EntityType,
    JsonLdContext,
)

DB = store.DB
CORE = jsonld.CORE
CONTEXTS = "territory/ngsild/contexts.json"
MAPPINGS = "territory/ngsild/device-mappings.json"
NGSI_SOURCES = ("ngsild-entities", "ngsild-history")
_CHUNK = 500
_HISTORY_CHUNK = 1000
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Selection:
    """The entities of one tenant that the organisation owns."""

    tenant: str
    label: str  # the archive folder: "own" or "shared"
    rows: QuerySet[Entity]

    @property
    def entities_path(self) -> str:
        return f"territory/ngsild/{self.label}/entities.jsonl"

    @property
    def temporal_path(self) -> str:
        return f"territory/ngsild/{self.label}/temporal.jsonl"


def selections(org: Organisation, *, shared: bool = True) -> list[Selection]:
    own = Entity.objects.using(DB).filter(tenant=org.slug)
    found = [Selection(org.slug, "own", own)]
    types = shared_types(org) if shared else set()
    if types:
        typed = EntityType.objects.using(DB).filter(tenant=DEFAULT_TENANT, type_iri__in=types)
        rows = Entity.objects.using(DB).filter(tenant=DEFAULT_TENANT,
                                               pk__in=typed.values("entity_id"))  # fmt: skip
        found.append(Selection(DEFAULT_TENANT, "shared", rows))
    return found


def shared_types(org: Organisation) -> set[str]:
    """Type IRIs (and names as given) the organisation's NGSI-LD datasets publish."""
    types: set[str] = set()
    for options in (
        Dataset.objects.using(DB)
        .filter(organisation=org, source__in=NGSI_SOURCES)
        .values_list("source_options", flat=True)
    ):
        kind = (options or {}).get("type")
        if kind:
            context = options.get("context")
            ctx = jsonld.resolve(context) if context else jsonld.core()
            types |= {kind, ctx.expand(kind)}
    return types


# --- Export ------------------------------------------------------------------------------


def export(writer: Writer, org: Organisation, progress: Progress, *,
           shared: bool = True) -> dict[str, Any]:  # fmt: skip
    counts: dict[str, Any] = {"tenants": {}}
    chosen = selections(org, shared=shared)
    for selection in chosen:
        number = _export_entities(writer, selection, progress)
        instances = _export_history(writer, selection, progress)
        counts["tenants"][selection.label] = {"tenant": selection.tenant, "entities": number,
                                              "history_instances": instances}  # fmt: skip
    counts["device_mappings"] = _export_mappings(writer, org, chosen)
    counts["contexts"] = _export_contexts(writer, org)
    return counts


def _chunks(rows: QuerySet[Entity]) -> Iterator[list[Entity]]:
    """Rows in primary-key order, a chunk at a time (constant memory)."""
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk")[:_CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def render(row: Entity) -> dict[str, Any]:
    """An entity as NGSI-LD normalized JSON-LD with its system attributes."""
    meta = {"scope": row.scope, "createdAt": rep.iso(row.created_at),
            "modifiedAt": rep.iso(row.modified_at)}  # fmt: skip
    body = rep.Renderer(jsonld.core(), sys_attrs=True).entity(row.entity_id, row.types,
                                                               row.body, meta)  # fmt: skip
    return {**body, "@context": CORE}


def _export_entities(writer: Writer, selection: Selection, progress: Progress) -> int:
    number = 0
    with writer.part(selection.entities_path, "application/x-ndjson",
                     "Entities, NGSI-LD normalized JSON-LD with system attributes, one a line.",
                     tenant=selection.tenant) as out:  # fmt: skip
        for chunk in _chunks(selection.rows):
            for row in chunk:
                out.text(records_line(render(row)))
            number += len(chunk)
            progress(f"ngsi-ld {selection.label}: {number} entities")
    return number


def records_line(value: Any) -> str:
    return dumps(value) + "\n"


def _export_history(writer: Writer, selection: Selection, progress: Progress) -> int:
    number = 0
    renderer = rep.Renderer(jsonld.core(), sys_attrs=True)
    ctx = jsonld.core()
    with writer.part(selection.temporal_path, "application/x-ndjson",
                     "History, NGSI-LD temporal representation, up to 1,000 instances a line.",
                     tenant=selection.tenant) as out:  # fmt: skip
        for chunk in _chunks(selection.rows):
            for row in chunk:
                for line in _history_lines(row, renderer, ctx):
                    number += sum(len(v) for k, v in line.items() if k not in _HEAD)
                    out.text(records_line(line))
            progress(f"ngsi-ld {selection.label}: {number} history instances")
    return number


_HEAD = {"id", "type", "@context"}


def _history_lines(row: Entity, renderer: rep.Renderer, ctx: Any) -> Iterator[dict[str, Any]]:
    rows = AttributeInstance.objects.using(DB).filter(tenant=row.tenant, entity_id=row.entity_id)
    types = [ctx.compact(t) for t in row.types]
    last = 0
    while True:
        chunk = list(rows.filter(pk__gt=last).order_by("pk")[:_HISTORY_CHUNK])
        if not chunk:
            return
        line: dict[str, Any] = {"id": row.entity_id,
                                "type": types[0] if len(types) == 1 else types}  # fmt: skip
        for instance in chunk:
            name = ctx.compact(instance.attribute)
            line.setdefault(name, []).append(renderer.instance(instance.instance))
        yield {**line, "@context": CORE}
        last = chunk[-1].pk


def _export_mappings(writer: Writer, org: Organisation, chosen: list[Selection]) -> int:
    found = [records.dump(m) for m in owned_mappings(org, chosen)]
    writer.json(MAPPINGS, found, "Device mappings: oneM2M containers feeding the entities.",
                count=len(found))  # fmt: skip
    return len(found)


def owned_mappings(org: Organisation, chosen: list[Selection]) -> list[DeviceMapping]:
    """The mappings writing to the organisation's tenant, and, in the shared tenant,
    those creating entities of the types its datasets publish."""
    rows = DeviceMapping.objects.using(DB).order_by("name")
    found = list(rows.filter(tenant=org.slug))
    if any(s.tenant == DEFAULT_TENANT for s in chosen):
        types = shared_types(org)
        for row in rows.filter(tenant=DEFAULT_TENANT):
            try:
                iri = jsonld.resolve(row.context, ldcontexts.lookup).expand(row.entity_type)
            except NgsiLdError:
                continue
            if iri in types or row.entity_type in types:
                found.append(row)
    return found


def _export_contexts(writer: Writer, org: Organisation) -> int:
    urls = set()
    for options in (
        Dataset.objects.using(DB).filter(organisation=org).values_list("source_options", flat=True)
    ):
        urls |= _urls((options or {}).get("context"))
    for row in DeviceMapping.objects.using(DB).filter(tenant=org.slug):
        urls |= _urls(row.context)
    rows = JsonLdContext.objects.using(DB).filter(tenant=org.slug) | JsonLdContext.objects.using(
        DB
    ).filter(url__in=urls)
    found = [{"url": r.url, "kind": r.kind, "tenant": r.tenant, "document": r.document}
             for r in rows.order_by("url")]  # fmt: skip
    writer.json(CONTEXTS, found, "User @contexts the datasets and mappings name.",
                count=len(found))  # fmt: skip
    return len(found)


def _urls(context: Any) -> set[str]:
    items = context if isinstance(context, list) else [context]
    return {i for i in items if isinstance(i, str)}


# --- Import: plan ------------------------------------------------------------------------


def plan(reader: Reader, manifest: dict[str, Any], into: Plan) -> None:
    for tenant, label in tenants_of(manifest):
        _plan_entities(reader, tenant, label, into)
    for data in _mappings(reader):
        name = str(data.get("name", ""))
        into.add("device_mapping", name, DeviceMapping.objects.using(DB).filter(name=name).exists())


def tenants_of(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(tenant, folder) of the entity parts the manifest lists."""
    found = []
    for part in manifest["parts"]:
        path = part["path"]
        if path.startswith("territory/ngsild/") and path.endswith("/entities.jsonl"):
            tenant = part.get("tenant")
            if not isinstance(tenant, str):
                raise ArchiveError(f"{path} names no tenant in the manifest.")
            found.append((tenants.check(tenant), path.split("/")[2]))
    return found


def plan_contexts(reader: Reader, into: Plan) -> None:
    for item in _contexts(reader):
        row = JsonLdContext.objects.using(DB).filter(url=item["url"]).first()
        if row is not None and row.document == item["document"]:
            into.actions.append(Action("context", item["url"], UNCHANGED, "identical"))
        else:
            into.add("context", item["url"], row is not None, "another document")


def _contexts(reader: Reader) -> list[dict[str, Any]]:
    found = reader.json(CONTEXTS)
    if not isinstance(found, list) or not all(
        isinstance(i, dict) and isinstance(i.get("url"), str) for i in found
    ):
        raise ArchiveError(f"{CONTEXTS} is not a list of contexts.")
    return found


def _mappings(reader: Reader) -> list[dict[str, Any]]:
    found = reader.json(MAPPINGS)
    if not isinstance(found, list) or not all(isinstance(i, dict) for i in found):
        raise ArchiveError(f"{MAPPINGS} is not a list of mappings.")
    return found


def _batches(reader: Reader, path: str) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in reader.lines(path):
        batch.append(item)
        if len(batch) >= _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _plan_entities(reader: Reader, tenant: str, label: str, into: Plan) -> None:
    path = f"territory/ngsild/{label}/entities.jsonl"
    for batch in _batches(reader, path):
        existing = store.get_many(tenant, [str(p.get("id")) for p in batch])
        for payload in batch:
            key = f"{tenant or '(default)'}/{payload.get('id')}"
            try:
                _write(tenant, payload)  # expands and validates; nothing is stored
            except NgsiLdError as exc:
                into.refuse("entity", key, exc.detail)
                continue
            into.add("entity", key, payload["id"] in existing, keep=False)


# --- Import: apply -----------------------------------------------------------------------


@dataclass
class Imported:
    entities: int = 0
    history_instances: int = 0
    device_mappings: int = 0
    contexts: int = 0


def apply_contexts(reader: Reader, done: Plan) -> int:
    """The @contexts first: datasets and mappings resolve them."""
    number = 0
    for item in _contexts(reader):
        verb = done.verb("context", item["url"])
        if verb == CREATE:
            row = ldcontexts.add(item["document"], "", url=item["url"])
        elif verb == UPDATE:
            row = JsonLdContext.objects.using(DB).get(url=item["url"])
            row.document = item["document"]
        else:
            continue
        row.tenant = item.get("tenant") or DEFAULT_TENANT
        row.save(using=DB)
        number += 1
    return number


def apply(reader: Reader, manifest: dict[str, Any], done: Plan, actor: str,
          progress: Progress) -> Imported:  # fmt: skip
    imported = Imported()
    for tenant, label in tenants_of(manifest):
        kept = _apply_entities(reader, tenant, label, done.policy, actor, imported, progress)
        _apply_history(reader, tenant, label, kept, imported, progress)
    imported.device_mappings = _apply_mappings(reader, done)
    return imported


def _write(tenant: str, payload: dict[str, Any], actor: str = "system:portability") -> store.Write:
    """The entity as the broker would store it, with the archive's times."""
    ctx = jsonld.resolve(payload.get("@context"), ldcontexts.lookup)
    op = entities.Op(tenant, ctx, actor)
    write = entities.new_write(op, payload)
    row = write.row
    for name, member in (("createdAt", "created_at"), ("modifiedAt", "modified_at")):
        if name in payload:
            setattr(row, member, rep.parse_datetime(payload[name], name))
    restore_times(row.body, payload, ctx)
    write.history = []  # the history comes from the temporal part, as it was
    entities.validate(row)
    return write


def restore_times(body: dict[str, list], payload: dict[str, Any], ctx: Any) -> None:
    """Put back the archive's createdAt/modifiedAt the expander stamped with now."""
    for name, value in payload.items():
        if name in rep.ENTITY_MEMBERS and name not in rep.CORE_GEO:
            continue
        instances = body.get(ctx.expand(name), [])
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                found = rep.find_instance(instances, item.get("datasetId"))
                if found is not None:
                    _restore_instance(found, item, ctx)


def _restore_instance(instance: dict[str, Any], item: dict[str, Any], ctx: Any) -> None:
    for member in ("createdAt", "modifiedAt"):
        if member in item:
            instance[member] = item[member]
    subs = {k: v for k, v in item.items() if k not in rep.CORE_MEMBERS}
    if subs:
        restore_times(instance, subs, ctx)


def _apply_entities(reader: Reader, tenant: str, label: str, policy: str, actor: str,
                    imported: Imported, progress: Progress) -> set[str]:  # fmt: skip
    """Create (or replace) the entities; the ids whose history is to be imported."""
    kept: set[str] = set()
    path = f"territory/ngsild/{label}/entities.jsonl"
    for batch in _batches(reader, path):
        existing = store.get_many(tenant, [str(p.get("id")) for p in batch])
        writes = []
        for payload in batch:
            if payload["id"] in existing:
                if policy != "replace":
                    continue  # skip (fail never gets here: the plan refused it)
                _remove(tenant, payload["id"], actor)
            writes.append(_write(tenant, payload, actor))
            kept.add(payload["id"])
        _store(tenant, writes, actor)
        imported.entities += len(writes)
        progress(f"ngsi-ld {label}: {imported.entities} entities imported")
    return kept


def _remove(tenant: str, entity_id: str, actor: str) -> None:
    """Replace: the entity and its history go (recorded), the archive's come in."""
    entities.delete(entities.Op(tenant, jsonld.core(), actor), entity_id)
    temporal.delete_history(tenant, entity_id)


def _store(tenant: str, writes: list[store.Write], actor: str) -> None:
    if not writes:
        return
    tenants.ensure(tenant)
    store.persist(writes)
    entities.queue_changes(entities.Op(tenant, jsonld.core(), actor), writes)
    entities.record(actor, "entity.created",
                    [{"tenant": tenant, "entity": w.row.entity_id} for w in writes])  # fmt: skip


def _apply_history(reader: Reader, tenant: str, label: str, kept: set[str],
                   imported: Imported, progress: Progress) -> None:  # fmt: skip
    path = f"territory/ngsild/{label}/temporal.jsonl"
    for line in reader.lines(path):
        if line.get("id") not in kept:
            continue
        rows = history_rows(tenant, line)
        store.write_history(rows)
        imported.history_instances += len(rows)
    progress(f"ngsi-ld {label}: {imported.history_instances} history instances imported")


def history_rows(tenant: str, line: dict[str, Any]) -> list[AttributeInstance]:
    """A temporal fragment as history rows, each instance checked by the expander."""
    ctx = jsonld.resolve(line.get("@context"), ldcontexts.lookup)
    expander = rep.Expander(ctx)
    entity_id = rep.check_entity_id(line.get("id"))
    rows = []
    for name, items in line.items():
        if name in rep.ENTITY_MEMBERS and name not in rep.CORE_GEO:
            continue
        iri = ctx.expand(rep.check_name(name))
        for item in items if isinstance(items, list) else [items]:
            instance = expander.instance(name, item)
            if isinstance(item, dict):
                _restore_instance(instance, item, ctx)
            stamp = instance.get("modifiedAt")
            recorded = rep.parse_datetime(stamp, "modifiedAt")
            rows.append(store.history_row(tenant, entity_id, iri, instance, recorded))
    return rows


def _apply_mappings(reader: Reader, done: Plan) -> int:
    accepted = set(inspect.signature(mapping.define).parameters)
    number = 0
    for data in _mappings(reader):
        if done.verb("device_mapping", data.get("name", "")) not in (CREATE, UPDATE):
            continue
        values = records.load(DeviceMapping, data).values
        try:
            row = mapping.define(**{k: v for k, v in values.items() if k in accepted})
        except ValueError as exc:
            raise ArchiveError(f"device mapping {data.get('name')}: {exc}") from None
        rest = {k: v for k, v in values.items() if k not in accepted}
        if rest:  # fields define() does not take (enabled...): carried as they were
            DeviceMapping.objects.using(DB).filter(pk=row.pk).update(**rest)
        number += 1
    return number
