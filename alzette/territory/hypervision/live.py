"""The live map's server-sent events: a stateless poll of the layers' changes.

The stream keeps no state on the server between connections: its cursor is the
event id, an instant (ISO 8601 UTC). A client that reconnects sends it back in
``Last-Event-ID`` (the browser's EventSource does so itself) and gets what
changed since. Each poll asks the layers for changes since the cursor minus a
grace period, because a transaction that started before the cursor may commit
after it; what the stream already sent is not sent twice (deltas are
idempotent anyway: they set a feature's state by its id).

Events (docs/hypervision.md):

- ``ready``: ``{"cursor"}`` once, when the stream opens;
- ``delta``: ``{"cursor", "features": [Feature...], "removed": [{"layer", "id"}...]}``,
  at most ``BATCH`` items; only the last batch of a poll carries the new id, so a
  cut between batches replays the poll;
- ``heartbeat``: ``{"cursor"}`` when nothing changed for ``HEARTBEAT`` seconds;
- ``reset``: ``{"cursor"}`` when the cursor is too old: reload the features;
- ``bye``: the stream ends after ``ALZETTE_HYPERVISION_STREAM_SECONDS``; the
  browser reconnects after ``retry`` milliseconds.

A feature that leaves the map while its thing still exists (a closed alert or
event) comes as a feature with ``gone: true``; an NGSI-LD entity deleted from the
store cannot be read any more, so its deletion leaves a ``Tombstone`` row
(``on_change``, one of the store's ``entities.change_hooks``) and the stream sends
``removed`` items for the tombstones since the cursor: the entity's feature on the
device layers of its types, its open alerts on the alerts layer. Tombstones live
``TOMBSTONE_KEEP``, longer than a cursor stays valid (``MAX_LAG``), and are pruned
by the next deletion: the stream stays stateless.

The same ``Poller`` serves an ASGI server (an async generator, the ORM through
``sync_to_async``) and a WSGI one (a plain generator, e.g. the test server).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time as clock
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q

from alzette.territory.hypervision.layers import (
    AlertsLayer,
    EntityLayer,
    Feature,
    Layer,
    _alert_model,
    iso,
)

logger = logging.getLogger(__name__)
DB = "territory"

GRACE = timedelta(seconds=5)
#: A cursor older than this asks for a reload rather than a huge delta.
MAX_LAG = timedelta(minutes=15)
BATCH = 1000
HEARTBEAT = 15.0
RETRY_MS = 2000
#: How long a deletion is remembered: past ``MAX_LAG`` a cursor gets a reset, not a delta.
TOMBSTONE_KEEP = MAX_LAG + timedelta(minutes=5)

#: ``{"layer": slug, "id": feature id}``: a feature to take off the map.
Removal = dict[str, str]


def poll_seconds() -> float:
    return float(getattr(settings, "ALZETTE_HYPERVISION_POLL_SECONDS", 2))


def stream_seconds() -> float:
    return float(getattr(settings, "ALZETTE_HYPERVISION_STREAM_SECONDS", 300))


def parse_cursor(text: str | None) -> datetime | None:
    """The instant of a cursor (an event id), or None when it is not one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def event(name: str, data: Any, event_id: str | None = None) -> str:
    """One SSE event, its data as compact JSON on one line."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _local(iri: str) -> str:
    return re.split(r"[/#:]", iri)[-1]


def on_change(op: Any, writes: list[Any], deleted: list[Any]) -> None:
    """``entities.change_hooks``: a tombstone for each entity deleted from the default
    tenant (the one the layers draw), in the deletion's transaction; the expired ones go.
    A failure here costs a stale marker until the map reloads, never the deletion."""
    from alzette.territory.hypervision.models import Tombstone
    from alzette.territory.ngsild.models import DEFAULT_TENANT

    rows = [row for row in deleted if row.tenant == DEFAULT_TENANT]
    if not rows:
        return
    now = datetime.now(UTC)
    try:
        with transaction.atomic(using=DB):  # a savepoint
            Tombstone.objects.using(DB).bulk_create(
                Tombstone(
                    entity_id=row.entity_id,
                    types=sorted({_local(t) for t in row.types}),
                    deleted_at=now,
                )
                for row in rows
            )
            Tombstone.objects.using(DB).filter(deleted_at__lt=now - TOMBSTONE_KEEP).delete()
    except Exception:
        logger.exception("map tombstones could not be written")


def tombstones(since: datetime) -> list[Any]:
    """The entities deleted at or after ``since``."""
    from alzette.territory.hypervision.models import Tombstone

    return list(Tombstone.objects.using(DB).filter(deleted_at__gte=since))


def removals(layer: Layer, dead: list[Any]) -> list[Removal]:
    """What the deleted entities ``dead`` take off ``layer``: their feature on a device
    layer of one of their types (a layer narrowed further, e.g. by name prefix, may get
    an id it never drew: the client ignores it), their open alerts on the alerts layer."""
    if not dead:
        return []
    if isinstance(layer, EntityLayer):
        kinds = set(layer.entity_types)
        return [{"layer": layer.slug, "id": t.entity_id} for t in dead if kinds & set(t.types)]
    model = _alert_model()
    if isinstance(layer, AlertsLayer) and model is not None:
        # Supervision closes a deleted entity's alerts in the deletion's transaction:
        # those closed from then on were open on the map until it.
        gone_since = min(t.deleted_at for t in dead) - timedelta(seconds=1)
        pks = (
            model.objects.using(DB)
            .filter(entity_id__in={t.entity_id for t in dead})
            .filter(Q(state__in=layer.OPEN) | Q(closed_at__gte=gone_since))
            .values_list("pk", flat=True)
        )
        return [{"layer": layer.slug, "id": f"alert:{pk}"} for pk in pks]
    return []


class Poller:
    """What changed on ``layers`` (in ``commune``) since the cursor, as SSE events."""

    def __init__(self, layers: list[Layer], commune: str | None, since: datetime | None) -> None:
        self.layers = layers
        self.commune = commune
        now = datetime.now(UTC)
        self.reset = since is not None and since < now - MAX_LAG
        self.cursor = now if since is None or self.reset else min(since, now)
        self.sent: dict[tuple[str, str], tuple[str, datetime]] = {}
        self.quiet_since = clock.monotonic()

    def opening(self) -> list[str]:
        cursor = iso(self.cursor)
        chunks = [f"retry: {RETRY_MS}\n\n", event("ready", {"cursor": cursor}, cursor)]
        if self.reset:
            chunks.append(event("reset", {"cursor": cursor}, cursor))
        return chunks

    def _unsent(self, key: tuple[str, str], text: str, now: datetime) -> bool:
        """Whether ``text`` is news for ``key`` on this stream (then remembered as sent)."""
        if self.sent.get(key, ("",))[0] == text:
            return False
        self.sent[key] = (text, now)
        return True

    def changes(self) -> tuple[list[Feature], list[Removal]]:
        """The features changed and removed since the cursor that this stream has not
        sent yet. Removals are not filtered by commune (a deleted entity has no place
        any more): a client ignores the id of a marker it does not have."""
        now = datetime.now(UTC)
        since = self.cursor - GRACE
        fresh: list[Feature] = []
        present: set[str] = set()
        for layer in self.layers:
            for found in layer.changes(since):
                present.add(str(found.get("id")))
                props = found["properties"]
                if self.commune and props.get("commune") not in (self.commune, None):
                    continue
                text = json.dumps(found, separators=(",", ":"), sort_keys=True)
                if self._unsent((layer.slug, str(found.get("id"))), text, now):
                    fresh.append(found)
        removed: list[Removal] = []
        dead = tombstones(since) if self._may_lose_entities() else []
        for layer in self.layers:
            for item in removals(layer, dead):
                # Changed since: created again after its deletion, so it is there.
                if item["id"] not in present and self._unsent(
                    (layer.slug, item["id"]), "removed", now
                ):
                    removed.append(item)
        forget = now - GRACE - timedelta(seconds=2 * poll_seconds() + 1)
        self.sent = {k: v for k, v in self.sent.items() if v[1] >= forget}
        self.cursor = now
        return fresh, removed

    def _may_lose_entities(self) -> bool:
        return any(isinstance(layer, EntityLayer | AlertsLayer) for layer in self.layers)

    def poll(self) -> list[str]:
        """The events of one poll: deltas, or a heartbeat when quiet for long."""
        fresh, removed = self.changes()
        cursor = iso(self.cursor)
        if not fresh and not removed:
            if clock.monotonic() - self.quiet_since < HEARTBEAT:
                return []
            self.quiet_since = clock.monotonic()
            return [event("heartbeat", {"cursor": cursor}, cursor)]
        self.quiet_since = clock.monotonic()
        # Features then removals, BATCH items a delta: a feature's index i, a removal's
        # len(fresh) + j; a delta always has both keys (possibly empty).
        total = len(fresh) + len(removed)
        chunks = []
        for start in range(0, total, BATCH):
            end = start + BATCH
            data = {
                "cursor": cursor,
                "features": fresh[start:end],
                "removed": removed[max(start - len(fresh), 0) : max(end - len(fresh), 0)],
            }
            chunks.append(event("delta", data, cursor if end >= total else None))
        return chunks

    def closing(self) -> str:
        return event("bye", {"cursor": iso(self.cursor)}, iso(self.cursor))


def _poll_and_release(poller: Poller) -> list[str]:
    """One poll, then the database connections let go as after a request (with
    ``CONN_MAX_AGE`` 0, closed), so an open map does not hold one for minutes.
    A connection inside a transaction (a test's) is left alone."""
    try:
        return poller.poll()
    finally:
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()


async def stream_async(poller: Poller) -> AsyncIterator[str]:
    """The stream for an ASGI server: the database is polled in the request's
    thread for synchronous code, between sleeps that hold no connection."""
    for chunk in poller.opening():
        yield chunk
    ends = clock.monotonic() + stream_seconds()
    while clock.monotonic() < ends:
        for chunk in await sync_to_async(_poll_and_release)(poller):
            yield chunk
        await asyncio.sleep(min(poll_seconds(), max(ends - clock.monotonic(), 0)))
    yield poller.closing()


def stream_sync(poller: Poller) -> Iterator[str]:
    """The same stream for a WSGI server (one thread held while it lasts)."""
    yield from poller.opening()
    ends = clock.monotonic() + stream_seconds()
    while clock.monotonic() < ends:
        yield from poller.poll()
        clock.sleep(min(poll_seconds(), max(ends - clock.monotonic(), 0)))
    yield poller.closing()
