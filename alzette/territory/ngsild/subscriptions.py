"""Subscriptions (CIM 009 §5.8, §5.11): which changes notify whom.

A subscription is checked against every change inside the change's
transaction; a match writes an outbox row (``Notification``) with the
rendered entities, so a notification is never lost when the process dies
after the commit. ``notifier`` delivers the outbox over HTTP or MQTT, with
retries. Subscriptions with ``timeInterval`` are served by the periodic job
instead (``due_periodic``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from alzette.territory.ngsild import entities, jsonld, ldcontexts, notifier, queries, store, tenants
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, exists, not_found
from alzette.territory.ngsild.geoquery import GeoQueryError, parse_geoquery
from alzette.territory.ngsild.models import Entity, Notification, Subscription
from alzette.territory.ngsild.query import QueryError, compile_q, parse_q

DB = store.DB
TRIGGERS = {"entityCreated", "entityUpdated", "entityDeleted", "attributeCreated",
            "attributeUpdated", "attributeDeleted"}  # fmt: skip
DEFAULT_TRIGGERS = ["entityCreated", "entityUpdated", "attributeCreated", "attributeUpdated"]
FORMATS = {"normalized", "concise", "keyValues"}
SCHEMES = {"http", "https", "mqtt", "mqtts"}
ACCEPTS = {"application/json", "application/ld+json", "application/geo+json"}
_SETTABLE = {"id", "type", "subscriptionName", "description", "entities", "watchedAttributes",
             "notificationTrigger", "timeInterval", "q", "geoQ", "isActive", "notification",
             "expiresAt", "throttling", "lang", "@context", "jsonldContext", "showChanges",
             "sysAttrs"}  # fmt: skip


# -- validation and storage ----------------------------------------------------------


def _expanded(op: Op, body: dict[str, Any]) -> dict[str, Any]:
    """Check a subscription payload; return it with type and attribute names as IRIs."""
    unknown = set(body) - _SETTABLE
    if unknown:
        raise bad_data(f"unknown subscription members: {', '.join(sorted(unknown))}")
    if body.get("type", "Subscription") != "Subscription":
        raise bad_data('a subscription\'s type is "Subscription"')
    out: dict[str, Any] = {k: v for k, v in body.items() if k not in ("@context", "id", "type")}
    out["entities"] = _selectors(op, body.get("entities"))
    watched = body.get("watchedAttributes")
    if watched is not None:
        if (
            not isinstance(watched, list)
            or not watched
            or not all(isinstance(w, str) for w in watched)
        ):
            raise bad_data("watchedAttributes is a non-empty list of attribute names")
        out["watchedAttributes"] = [op.ctx.expand(rep.check_name(w)) for w in watched]
    _check_triggers(body.get("notificationTrigger"))
    _check_times(body, watched)
    if body.get("q") is not None:
        _compile(op.ctx, body["q"])
    if body.get("geoQ") is not None:
        _geo(body["geoQ"])
    if not out["entities"] and watched is None:
        raise bad_data("a subscription needs entities or watchedAttributes")
    out["notification"] = _notification(op, body.get("notification"))
    if "isActive" in body and not isinstance(body["isActive"], bool):
        raise bad_data("isActive is true or false")
    return out


def _selectors(op: Op, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        raise bad_data("entities is a non-empty list of EntitySelectors")
    out = []
    for selector in value:
        if not isinstance(selector, dict) or not isinstance(selector.get("type"), str):
            raise bad_data("each EntitySelector is an object with a type")
        item = {"type": op.ctx.expand(rep.check_name(selector["type"]))}
        if "id" in selector:
            item["id"] = rep.check_entity_id(selector["id"])
        if "idPattern" in selector:
            item["idPattern"] = queries.check_id_pattern(str(selector["idPattern"]))
        out.append(item)
    return out


def _check_triggers(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not value or not set(value) <= TRIGGERS:
        raise bad_data(f"notificationTrigger is a list among {', '.join(sorted(TRIGGERS))}")


def _check_times(body: dict[str, Any], watched: Any) -> None:
    for name in ("timeInterval", "throttling"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value <= 0):  # fmt: skip
            raise bad_data(f"{name} is a positive number of seconds")
    if body.get("timeInterval") is not None and (watched is not None or "throttling" in body):
        raise bad_data("timeInterval excludes watchedAttributes and throttling")
    if body.get("expiresAt") is not None:
        moment = rep.parse_datetime(body["expiresAt"], "expiresAt")
        if moment <= datetime.now(UTC):
            raise bad_data("expiresAt is in the past")


def _notification(op: Op, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_data("a subscription needs a notification object")
    endpoint = value.get("endpoint")
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("uri"), str):
        raise bad_data("notification.endpoint.uri is required")
    uri = endpoint["uri"]
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise bad_data("notification.endpoint.uri must be an http(s):// or mqtt(s):// URL")
    if parts.scheme.startswith("mqtt") and not parts.path.strip("/"):
        raise bad_data("an mqtt:// endpoint names its topic in the path")
    if endpoint.get("accept", "application/json") not in ACCEPTS:
        raise bad_data(f"notification.endpoint.accept is one of {', '.join(sorted(ACCEPTS))}")
    fmt = value.get("format", "normalized")
    if fmt not in FORMATS:
        raise bad_data(f"notification.format is one of {', '.join(sorted(FORMATS))}")
    out = {k: v for k, v in value.items() if k in ("attributes", "format", "endpoint", "sysAttrs",
                                                    "showChanges")}  # fmt: skip
    attributes = value.get("attributes")
    if attributes is not None:
        if not isinstance(attributes, list) or not all(isinstance(a, str) for a in attributes):
            raise bad_data("notification.attributes is a list of attribute names")
        out["attributes"] = [op.ctx.expand(a) for a in attributes]
    for info in ("receiverInfo", "notifierInfo"):
        pairs = endpoint.get(info)
        if pairs is not None and not (isinstance(pairs, list) and all(
            isinstance(p, dict) and all(isinstance(p.get(k), str) for k in ("key", "value"))
            for p in pairs
        )):  # fmt: skip
            raise bad_data(f"notification.endpoint.{info} is a list of key/value pairs")
    return out


def _compile(ctx: jsonld.Context, text: Any) -> Any:
    try:
        return compile_q(parse_q(str(text)), ctx.expand)
    except QueryError as exc:
        raise bad_data(f"invalid q: {exc}") from None


def _geo(value: Any) -> Any:
    if not isinstance(value, dict):
        raise bad_data("geoQ is an object")
    try:
        return parse_geoquery(value.get("georel"), value.get("geometry"),
                              value.get("coordinates"), value.get("geoproperty"))  # fmt: skip
    except GeoQueryError as exc:
        raise bad_data(f"invalid geoQ: {exc}") from None


def create(op: Op, body: Any) -> str:
    if not isinstance(body, dict):
        raise bad_data("a subscription is a JSON object")
    sub_id = body.get("id") or f"urn:ngsi-ld:Subscription:{uuid.uuid4()}"
    rep.check_entity_id(sub_id)
    expanded = _expanded(op, body)
    with transaction.atomic(using=DB):
        if Subscription.objects.using(DB).filter(tenant=op.tenant, subscription_id=sub_id).exists():
            raise exists(f"subscription {sub_id} already exists")
        tenants.ensure(op.tenant)
        row = Subscription(tenant=op.tenant, subscription_id=sub_id, context=op.ctx.local,
                           created_at=op.now, modified_at=op.now, owner=op.actor)  # fmt: skip
        _apply(row, expanded, op.now)
        row.save(using=DB)
        entities.record(op.actor, "subscription.created",
                        [{"tenant": op.tenant, "subscription": sub_id}])  # fmt: skip
    return sub_id


def _apply(row: Subscription, body: dict[str, Any], now: datetime) -> None:
    row.body = body
    row.active = body.get("isActive", True)
    row.expires_at = (
        rep.parse_datetime(body["expiresAt"], "expiresAt") if body.get("expiresAt") else None
    )
    row.throttling = body.get("throttling")
    row.time_interval = body.get("timeInterval")
    row.next_due_at = now if row.time_interval else None
    row.modified_at = now


def get(tenant: str, sub_id: str, *, lock: bool = False) -> Subscription:
    rows = Subscription.objects.using(DB).filter(tenant=tenant, subscription_id=sub_id)
    row = (rows.select_for_update() if lock else rows).first()
    if row is None:
        raise not_found(f"subscription {sub_id} not found")
    return row


def update(op: Op, sub_id: str, fragment: Any) -> None:
    """Update a subscription (§5.8.2): the fragment's members replace the old ones."""
    if not isinstance(fragment, dict) or not fragment:
        raise bad_data("the payload is a non-empty JSON object")
    if "id" in fragment and fragment["id"] != sub_id:
        raise bad_data("the subscription id cannot change")
    with transaction.atomic(using=DB):
        row = get(op.tenant, sub_id, lock=True)
        ctx = (
            jsonld.resolve(row.context, ldcontexts.lookup) if "@context" not in fragment else op.ctx
        )
        merged = {**render(row, ctx, raw=True), **fragment}
        merged.pop("status", None)
        expanded = _expanded(Op(op.tenant, ctx, op.actor, op.now), merged)
        _apply(row, expanded, op.now)
        row.save(using=DB)


def delete(op: Op, sub_id: str) -> None:
    with transaction.atomic(using=DB):
        row = get(op.tenant, sub_id, lock=True)
        row.delete(using=DB)
        entities.record(op.actor, "subscription.deleted",
                        [{"tenant": op.tenant, "subscription": sub_id}])  # fmt: skip


def listing(tenant: str, limit: int, offset: int) -> tuple[list[Subscription], int]:
    rows = Subscription.objects.using(DB).filter(tenant=tenant).order_by("created_at", "pk")
    return list(rows[offset : offset + limit]), rows.count()


def status(row: Subscription, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active" if row.active else "paused"


def render(row: Subscription, ctx: jsonld.Context, *, raw: bool = False) -> dict[str, Any]:
    """The subscription as the API shows it (§5.2.12), terms compacted with ``ctx``."""
    body = dict(row.body)
    out: dict[str, Any] = {"id": row.subscription_id, "type": "Subscription"}
    for key, value in body.items():
        out[key] = value
    out["entities"] = [{**s, "type": ctx.compact(s["type"])} for s in body.get("entities", [])]
    if not out["entities"]:
        del out["entities"]
    if "watchedAttributes" in body:
        out["watchedAttributes"] = [ctx.compact(a) for a in body["watchedAttributes"]]
    notification = dict(body["notification"])
    if "attributes" in notification:
        notification["attributes"] = [ctx.compact(a) for a in notification["attributes"]]
    if not raw:
        notification.update(_notification_status(row))
        out["status"] = status(row)
        out["isActive"] = row.active
    out["notification"] = notification
    return out


def _notification_status(row: Subscription) -> dict[str, Any]:
    info: dict[str, Any] = {"timesSent": row.times_sent, "timesFailed": row.times_failed}
    info["status"] = "failed" if row.last_failure and (
        row.last_success is None or row.last_failure > row.last_success) else "ok"  # fmt: skip
    moments = {"lastNotification": row.last_notification, "lastSuccess": row.last_success,
               "lastFailure": row.last_failure}  # fmt: skip
    for name, value in moments.items():
        if value is not None:
            info[name] = rep.iso(value)
    return info


# -- matching changes ------------------------------------------------------------------------


def _selector_matches(selectors: list[dict], entity_id: str, types: list[str]) -> bool:
    if not selectors:
        return True
    for selector in selectors:
        if selector["type"] not in types:
            continue
        if "id" in selector and selector["id"] != entity_id:
            continue
        if "idPattern" in selector and not re.fullmatch(selector["idPattern"], entity_id):
            continue
        return True
    return False


def _triggers(write: store.Write | None, watched: list[str] | None) -> set[str]:
    """What happened to an entity, as notification triggers."""
    if write is None:
        return {"entityDeleted"}
    if write.created:
        return {"entityCreated"}
    before = write.before or {}
    found = {"entityUpdated"}
    keys = set(before) | set(write.row.body)
    for iri in keys:
        if watched is not None and iri not in watched:
            continue
        if iri not in before:
            found.add("attributeCreated")
        elif iri not in write.row.body:
            found.add("attributeDeleted")
        elif before[iri] != write.row.body[iri]:
            found.add("attributeUpdated")
    return found


def _watched_hit(write: store.Write | None, watched: list[str] | None) -> bool:
    if watched is None or write is None:
        return True
    if write.created:
        return any(iri in write.row.body for iri in watched)
    before = write.before or {}
    return any(before.get(iri) != write.row.body.get(iri) for iri in watched)


def on_change(op: Op, writes: list[store.Write], deleted: list[Entity]) -> None:
    """Write outbox rows for the subscriptions these changes match (entities.change_hooks)."""
    subs = [
        s for s in Subscription.objects.using(DB).filter(
            tenant=op.tenant, active=True, time_interval__isnull=True)
        if status(s, op.now) == "active"
    ]  # fmt: skip
    if not subs:
        return
    changes = [(w.row, w) for w in writes] + [(row, None) for row in deleted]
    queued = []
    for sub in subs:
        data = [row for row, write in changes if _matches(sub, row, write, op.now)]
        if data:
            queued.append(_queue(sub, data, op.now, deleted={r.pk for r in deleted}))
    if queued:
        Notification.objects.using(DB).bulk_create(queued)
        transaction.on_commit(_kick, using=DB)
        notifier.pending.set(True)


def _matches(sub: Subscription, row: Entity, write: store.Write | None, now: datetime) -> bool:
    body = sub.body
    if not _selector_matches(body.get("entities", []), row.entity_id, row.types):
        return False
    watched = body.get("watchedAttributes")
    triggers = set(body.get("notificationTrigger") or DEFAULT_TRIGGERS)
    if not (_triggers(write, watched) & triggers) or not _watched_hit(write, watched):
        return False
    if sub.throttling and sub.last_notification and (
        sub.last_notification + timedelta(seconds=sub.throttling) > now):  # fmt: skip
        return False
    ctx = _context(sub)
    if body.get("q") is not None and not _compile(ctx, body["q"]).matches(queries.document(row)):
        return False
    if body.get("geoQ") is not None:
        geo = _geo(body["geoQ"])
        iri = ctx.expand(geo.geoproperty)
        values = [i["value"] for i in row.body.get(iri, []) if i.get("type") == rep.GEOPROPERTY]
        if not any(geo.matches(v) for v in values):
            return False
    return True


def _context(sub: Subscription) -> jsonld.Context:
    try:
        return jsonld.resolve(sub.context, ldcontexts.lookup)
    except NgsiLdError:
        return jsonld.core()


def notification_payload(sub: Subscription, rows: list[Entity], now: datetime,
                         deleted: set[int] | None = None) -> dict[str, Any]:  # fmt: skip
    """The Notification (§5.3.1) with the entities rendered for this subscription."""
    ctx = _context(sub)
    spec = sub.body["notification"]
    render = rep.Renderer(ctx, fmt=spec.get("format", "normalized"),
                          sys_attrs=bool(spec.get("sysAttrs")),
                          attrs=set(spec["attributes"]) if spec.get("attributes") else None,
                          lang=sub.body.get("lang"))  # fmt: skip
    data = []
    for row in rows:
        if deleted and row.pk in deleted:
            data.append({"id": row.entity_id, "type": render.entity(row.entity_id, row.types, {},
                                                                    {})["type"],
                         "deletedAt": rep.iso(now)})  # fmt: skip
            continue
        meta = {"scope": row.scope, "createdAt": rep.iso(row.created_at),
                "modifiedAt": rep.iso(row.modified_at)}  # fmt: skip
        data.append(render.entity(row.entity_id, row.types, row.body, meta))
    return {
        "id": f"urn:ngsi-ld:Notification:{uuid.uuid4()}",
        "type": "Notification",
        "subscriptionId": sub.subscription_id,
        "notifiedAt": rep.iso(now),
        "data": data,
    }


def _queue(sub: Subscription, rows: list[Entity], now: datetime, deleted: set[int]) -> Notification:
    payload = notification_payload(sub, rows, now, deleted)
    if sub.throttling:
        # Throttling counts from the last notification sent or queued.
        Subscription.objects.using(DB).filter(pk=sub.pk).update(last_notification=now)
    return Notification(subscription=sub, payload=payload, created_at=now, next_attempt_at=now)


def _kick() -> None:
    notifier.pending.set(False)
    notifier.kick()


def due_periodic(now: datetime | None = None) -> int:
    """Queue the notifications of timeInterval subscriptions that are due (§5.11.4)."""
    now = now or datetime.now(UTC)
    count = 0
    with transaction.atomic(using=DB):
        due = Subscription.objects.using(DB).select_for_update().filter(
            active=True, time_interval__isnull=False, next_due_at__lte=now)  # fmt: skip
        for sub in due:
            sub.next_due_at = now + timedelta(seconds=sub.time_interval)
            sub.save(using=DB, update_fields=["next_due_at"])
            if status(sub, now) != "active":
                continue
            rows = _periodic_rows(sub)
            if rows:
                Notification.objects.using(DB).create(
                    subscription=sub, payload=notification_payload(sub, rows, now),
                    created_at=now, next_attempt_at=now)  # fmt: skip
                count += 1
    return count


def _periodic_rows(sub: Subscription) -> list[Entity]:
    ctx = _context(sub)
    body = sub.body
    rows: list[Entity] = []
    selectors = body.get("entities") or [{}]
    for selector in selectors:
        query = queries.EntityQuery(limit=queries.MAX_LIMIT)
        if selector.get("type"):
            query.types = [[selector["type"]]]
        if selector.get("id"):
            query.ids = [selector["id"]]
        query.id_pattern = selector.get("idPattern")
        if body.get("q") is not None:
            query.q = _compile(ctx, body["q"])
        if body.get("geoQ") is not None:
            query.geo = _geo(body["geoQ"])
            query.geoproperty = ctx.expand(query.geo.geoproperty)
        found, _ = queries.run(sub.tenant, query)
        rows.extend(r for r in found if r not in rows)
    return rows


entities.change_hooks.append(on_change)
