"""Temporal API endpoints (CIM 009 §6.18-§6.22): thin adapters over temporal.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.http import HttpResponse

from alzette.territory.ngsild import queries, store, temporal, tenants
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op, record, validate
from alzette.territory.ngsild.errors import bad_data, not_found
from alzette.territory.ngsild.http import Call, answer, empty, endpoint, flag, not_allowed
from alzette.territory.ngsild.models import Entity
from alzette.territory.ngsild.views import BASE, entity_query

T_OPTIONS = {"temporalValues", "aggregatedValues", "sysAttrs", "normalized", "concise"}
_PLURAL = {"Relationship": "objects", "LanguageProperty": "languageMaps"}


def _time_query(call: Call) -> temporal.TimeQuery:
    return temporal.time_query(call.param("timerel"), call.param("timeAt") or call.param("time"),
                               call.param("endTimeAt") or call.param("endTime"),
                               call.param("lastN"), call.param("timeproperty"))  # fmt: skip


def _options(call: Call) -> set[str]:
    options = set(call.list_param("options") or [])
    fmt = call.param("format")
    if fmt:
        options.add(fmt)
    if options - T_OPTIONS:
        raise bad_data(f"unknown options: {', '.join(sorted(options - T_OPTIONS))}")
    if {"temporalValues", "aggregatedValues"} <= options:
        raise bad_data("temporalValues and aggregatedValues exclude each other")
    return options


@endpoint(body=True)
def temporal_entities_view(call: Call) -> HttpResponse:
    if call.request.method == "POST":
        call.require_write()
        created, entity_id = add(Op(call.tenant, call.ctx, call.caller.actor), call.body, None)
        if created:
            location = f"{BASE}/temporal/entities/{quote(entity_id, safe=':')}"
            return empty(call, 201, {"Location": location})
        return empty(call)
    if call.request.method != "GET":
        return not_allowed(["GET", "POST"])
    call.require_read()
    query = entity_query(call)
    rows, total = queries.run(call.tenant, query)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    return answer(call, _render(call, rows, query.attrs), 200, headers)


@endpoint(body=True)
def temporal_entity_view(call: Call, entity_id: str) -> HttpResponse:
    rep.check_entity_id(entity_id)
    if call.request.method == "GET":
        call.require_read()
        row = store.get(call.tenant, entity_id)
        if row is None:
            raise not_found(f"entity {entity_id} not found")
        attrs = call.list_param("attrs")
        expanded = {call.ctx.expand(a) for a in attrs} if attrs else None
        return answer(call, _render(call, [row], expanded)[0])
    if call.request.method == "DELETE":
        call.require_write()
        deleted = temporal.delete_history(call.tenant, entity_id)
        if not deleted and store.get(call.tenant, entity_id) is None:
            raise not_found(f"entity {entity_id} has no temporal representation")
        return empty(call)
    return not_allowed(["GET", "DELETE"])


@endpoint(body=True)
def temporal_attrs_view(call: Call, entity_id: str) -> HttpResponse:
    if call.request.method != "POST":
        return not_allowed(["POST"])
    call.require_write()
    payload = call.body if isinstance(call.body, dict) else None
    if payload is None:
        raise bad_data("the payload is a JSON object of attribute instances")
    if store.get(call.tenant, rep.check_entity_id(entity_id)) is None:
        raise not_found(f"entity {entity_id} not found")
    add(Op(call.tenant, call.ctx, call.caller.actor), {**payload, "id": entity_id}, entity_id)
    return empty(call)


@endpoint(body=True)
def temporal_attr_view(call: Call, entity_id: str, attr: str) -> HttpResponse:
    if call.request.method != "DELETE":
        return not_allowed(["DELETE"])
    call.require_write()
    iri = call.ctx.expand(rep.check_name(attr))
    dataset = None if flag(call.param("deleteAll")) else call.param("datasetId") or ""
    if not temporal.delete_history(call.tenant, entity_id, iri, dataset):
        raise not_found(f"{entity_id} has no history of {attr}")
    return empty(call)


@endpoint(body=True)
def temporal_instance_view(call: Call, entity_id: str, attr: str, instance_id: str) -> HttpResponse:
    call.require_write()
    iri = call.ctx.expand(rep.check_name(attr))
    with transaction.atomic(using=store.DB):
        row = temporal.instance_row(call.tenant, entity_id, iri, instance_id)
        if call.request.method == "DELETE":
            row.delete(using=store.DB)
        elif call.request.method == "PATCH":
            if not isinstance(call.body, dict):
                raise bad_data("the payload is an attribute instance fragment")
            fragment = call.body.get(attr, call.body)
            merged = {**row.instance, **(fragment if isinstance(fragment, dict) else {})}
            new = rep.Expander(call.ctx).instance(attr, _plain(merged))
            new["createdAt"] = row.instance.get("createdAt", new["createdAt"])
            fresh = store.history_row(call.tenant, entity_id, iri, new, row.recorded_at)
            row.instance, row.number, row.observed_at = new, fresh.number, fresh.observed_at
            row.save(using=store.DB)
        else:
            return not_allowed(["PATCH", "DELETE"])
        temporal.rebuild_rollups(call.tenant, entity_id, iri)
    return empty(call)


def _plain(instance: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in instance.items() if k not in ("instanceId",)}


# -- adding instances ----------------------------------------------------------------------


def add(op: Op, payload: Any, entity_id: str | None) -> tuple[bool, str]:
    """Add attribute instances to the history; create the entity when it is new."""
    if not isinstance(payload, dict):
        raise bad_data("a temporal entity is a JSON object")
    entity_id = rep.check_entity_id(payload.get("id"))
    expander = op.expander()
    history = []
    for name, value in payload.items():
        if name in rep.ENTITY_MEMBERS and name not in rep.CORE_GEO:
            continue
        iri = op.ctx.expand(rep.check_name(name))
        items = value if isinstance(value, list) else [value]
        for item in items:
            history.append((iri, expander.instance(name, item)))
    if not history:
        raise bad_data("a temporal entity needs at least one attribute instance")
    with transaction.atomic(using=store.DB):
        row = store.get(op.tenant, entity_id, lock=True)
        created = row is None
        if created:
            row = _new_entity(op, payload, entity_id, history)
        tenants.ensure(op.tenant)
        rows = [store.history_row(op.tenant, entity_id, iri, i, op.now) for iri, i in history]
        store.write_history(rows)
        if created:
            record(op.actor, "entity.created", [{"tenant": op.tenant, "entity": entity_id}])
    return created, entity_id


def _new_entity(op: Op, payload: dict, entity_id: str, history: list) -> Entity:
    if "type" not in payload:
        raise bad_data("a new temporal entity needs a type")
    latest: dict[str, dict] = {}
    for iri, instance in history:
        key = (iri, instance.get("datasetId", ""))
        if key not in latest or instance.get("observedAt", "") >= latest[key].get("observedAt", ""):
            latest[key] = instance
    body: dict[str, list] = {}
    for (iri, _), instance in latest.items():
        body.setdefault(iri, []).append(instance)
    row = Entity(tenant=op.tenant, entity_id=entity_id,
                 types=rep.expand_types(payload["type"], op.ctx), body=body,
                 created_at=op.now, modified_at=op.now)  # fmt: skip
    validate(row)
    store.persist([store.Write(row=row, created=True)])
    return row


# -- rendering -----------------------------------------------------------------------------


def _render(call: Call, rows: list[Entity], attrs: set[str] | None) -> list[dict[str, Any]]:
    options = _options(call)
    tq = _time_query(call)
    ids = [r.entity_id for r in rows]
    ctx = call.ctx
    if "aggregatedValues" in options:
        methods = call.list_param("aggrMethods") or []
        period = temporal.parse_duration(call.param("aggrPeriodDuration"))
        found = temporal.aggregate(call.tenant, ids, attrs, tq, methods, period)
        return [_entity(ctx, r, {ctx.compact(a): v for a, v in found.get(r.entity_id, {}).items()})
                for r in rows]  # fmt: skip
    histories = temporal.history(call.tenant, ids, attrs, tq)
    simplified = "temporalValues" in options
    renderer = rep.Renderer(ctx, sys_attrs="sysAttrs" in options, lang=call.param("lang"))
    out = []
    for row in rows:
        attributes = {}
        for iri, instances in histories[row.entity_id].attributes.items():
            if simplified:
                attributes[ctx.compact(iri)] = _values(instances)
            else:
                attributes[ctx.compact(iri)] = [_instance(renderer, i) for i in instances]
        out.append(_entity(ctx, row, attributes))
    return out


def _instance(renderer: rep.Renderer, instance: dict) -> dict:
    rendered = renderer.instance({k: v for k, v in instance.items() if k != "instanceId"})
    if isinstance(rendered, dict):
        rendered["instanceId"] = instance["instanceId"]
    return rendered


def _values(instances: list[dict]) -> dict[str, Any]:
    kind = instances[0].get("type", "Property") if instances else "Property"
    member = {"Relationship": "object", "LanguageProperty": "languageMap"}.get(kind, "value")
    pairs = [[i.get(member), i.get("observedAt") or i.get("modifiedAt")] for i in instances]
    return {"type": kind, _PLURAL.get(kind, "values"): pairs}


def _entity(ctx: Any, row: Entity, attributes: dict[str, Any]) -> dict[str, Any]:
    types = [ctx.compact(t) for t in row.types]
    return {"id": row.entity_id, "type": types[0] if len(types) == 1 else types, **attributes}
