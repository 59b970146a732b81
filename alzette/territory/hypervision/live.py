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
event) comes as a feature with ``gone: true``. An NGSI-LD entity deleted from the
store cannot be read any more, and one that lost a type or its geometry is no longer
among a layer's features at all: so such a write leaves a ``Tombstone`` row
(``on_change``, one of the store's ``entities.change_hooks``; the types it left, all
of them for a deletion or a lost geometry), and the stream sends ``removed`` items
for the tombstones since the cursor, as each layer's ``removed`` maps them (the
entity's feature on the device layers it no longer qualifies for, its open alerts
when it has no place any more). A feature of a stream filtered by commune that
changed and now lies outside it (moved away) comes as a removal too, once per
stream: the client ignores an id it does not have. Tombstones live
``TOMBSTONE_KEEP``, longer than a cursor stays valid (``MAX_LAG``), and are pruned
by the next one: the stream stays stateless.

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

from alzette.territory.hypervision.layers import Feature, Layer, iso
from alzette.territory.ngsild.representation import GEOPROPERTY

logger = logging.getLogger(__name__)
DB = "territory"

GRACE = timedelta(seconds=5)
#: A cursor older than this asks for a reload rather than a huge delta.
MAX_LAG = timedelta(minutes=15)
BATCH = 1000
HEARTBEAT = 15.0
RETRY_MS = 2000
#: How long a departure is remembered: past ``MAX_LAG`` a cursor gets a reset, not a delta.
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
    """``entities.change_hooks``: a tombstone for each entity of the default tenant (the
    one the layers draw) deleted, or updated so that it left types or its geometry, in
    the write's transaction; the expired ones go. A failure here costs a stale marker
    until the map reloads, never the write."""
    from alzette.territory.hypervision.models import Tombstone
    from alzette.territory.ngsild.models import DEFAULT_TENANT

    left = [
        (row.entity_id, sorted({_local(t) for t in row.types}))
        for row in deleted
        if row.tenant == DEFAULT_TENANT
    ]
    for write in writes:
        if not write.created and write.row.tenant == DEFAULT_TENANT:
            types = departed(write)
            if types:
                left.append((write.row.entity_id, types))
    if not left:
        return
    now = datetime.now(UTC)
    try:
        with transaction.atomic(using=DB):  # a savepoint
            Tombstone.objects.using(DB).bulk_create(
                Tombstone(entity_id=entity_id, types=types, deleted_at=now)
                for entity_id, types in left
            )
            Tombstone.objects.using(DB).filter(deleted_at__lt=now - TOMBSTONE_KEEP).delete()
    except Exception:
        logger.exception("map tombstones could not be written")


def departed(write: Any) -> list[str]:
    """The types (local names) whose layers an update may have taken the entity off:
    those it lost, all of them when it lost a geometry; usually none, found from the
    write alone (no query: this runs for every write)."""
    retyped = write.types_before is not None and write.types_before != write.row.types
    unplaced = _lost_geometry(write.before or {}, write.row.body)
    if not (retyped or unplaced):
        return []
    now = {_local(t) for t in write.row.types}
    lost = {_local(t) for t in write.types_before} - now if retyped else set()
    return sorted(lost | now if unplaced else lost)


def _lost_geometry(before: dict[str, list], after: dict[str, list]) -> bool:
    """Whether an attribute that held a geometry (``location``...) holds none any more."""
    return any(
        _geometric(instances) and not _geometric(after.get(iri, []))
        for iri, instances in before.items()
    )


def _geometric(instances: list[Any]) -> bool:
    return any(isinstance(i, dict) and i.get("type") == GEOPROPERTY for i in instances)


def tombstones(since: datetime) -> list[Any]:
    """The entities deleted, or that left types or their geometry, at or after ``since``."""
    from alzette.territory.hypervision.models import Tombstone

    return list(Tombstone.objects.using(DB).filter(deleted_at__gte=since))


class Poller:
    """What changed on ``layers`` (in ``commune``) since the cursor, as SSE events."""

    def __init__(self, layers: list[Layer], commune: str | None, since: datetime | None) -> None:
        self.layers = layers
        self.commune = commune
        now = datetime.now(UTC)
        self.reset = since is not None and since < now - MAX_LAG
        self.cursor = now if since is None or self.reset else min(since, now)
        self.sent: dict[tuple[str, str], tuple[str, datetime]] = {}
        #: Features outside ``commune`` this stream already sent a removal for (it holds
        #: while the stream lasts: one removal per feature, not one per change).
        self.outside: set[tuple[str, str]] = set()
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
        sent yet. Removals come from the layers (``Layer.removed``: entities deleted or
        changed so as to leave them) and, on a stream filtered by commune, from the
        changed features now outside it, which the map had if they just moved away. The
        stream cannot know what the map holds: a client ignores an id it does not have."""
        now = datetime.now(UTC)
        since = self.cursor - GRACE
        fresh: list[Feature] = []
        removed: list[Removal] = []
        present: set[str] = set()
        for layer in self.layers:
            for found in layer.changes(since):
                fid = str(found.get("id"))
                present.add(fid)
                key = (layer.slug, fid)
                props = found["properties"]
                if self.commune and props.get("commune") not in (self.commune, None):
                    if key not in self.outside:
                        self.outside.add(key)
                        self.sent[key] = ("removed", now)
                        removed.append({"layer": layer.slug, "id": fid})
                    continue
                self.outside.discard(key)
                text = json.dumps(found, separators=(",", ":"), sort_keys=True)
                if self._unsent(key, text, now):
                    fresh.append(found)
        gone = tombstones(since) if self._may_lose_entities() else []
        for layer in self.layers:
            for fid in layer.removed(since, gone):
                # Among the changes: drawn again (created again, moved back), so it is there.
                if fid not in present and self._unsent((layer.slug, fid), "removed", now):
                    removed.append({"layer": layer.slug, "id": fid})
        forget = now - GRACE - timedelta(seconds=2 * poll_seconds() + 1)
        self.sent = {k: v for k, v in self.sent.items() if v[1] >= forget}
        self.cursor = now
        return fresh, removed

    def _may_lose_entities(self) -> bool:
        """Whether a selected layer maps tombstones to removals (else none is read)."""
        return any(type(layer).removed is not Layer.removed for layer in self.layers)

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
