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
- ``delta``: ``{"cursor", "features": [Feature...]}``, at most ``BATCH`` features;
  only the last batch of a poll carries the new id, so a cut between batches
  replays the poll;
- ``heartbeat``: ``{"cursor"}`` when nothing changed for ``HEARTBEAT`` seconds;
- ``reset``: ``{"cursor"}`` when the cursor is too old: reload the features;
- ``bye``: the stream ends after ``ALZETTE_HYPERVISION_STREAM_SECONDS``; the
  browser reconnects after ``retry`` milliseconds.

The same ``Poller`` serves an ASGI server (an async generator, the ORM through
``sync_to_async``) and a WSGI one (a plain generator, e.g. the test server).
"""

from __future__ import annotations

import asyncio
import json
import time as clock
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from alzette.territory.hypervision.layers import Feature, Layer, iso

GRACE = timedelta(seconds=5)
#: A cursor older than this asks for a reload rather than a huge delta.
MAX_LAG = timedelta(minutes=15)
BATCH = 1000
HEARTBEAT = 15.0
RETRY_MS = 2000


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

    def changes(self) -> list[Feature]:
        """The features changed since the cursor that this stream has not sent yet."""
        now = datetime.now(UTC)
        since = self.cursor - GRACE
        fresh: list[Feature] = []
        for layer in self.layers:
            for found in layer.changes(since):
                props = found["properties"]
                if self.commune and props.get("commune") not in (self.commune, None):
                    continue
                key = (layer.slug, str(found.get("id")))
                text = json.dumps(found, separators=(",", ":"), sort_keys=True)
                if self.sent.get(key, ("",))[0] == text:
                    continue
                self.sent[key] = (text, now)
                fresh.append(found)
        forget = now - GRACE - timedelta(seconds=2 * poll_seconds() + 1)
        self.sent = {k: v for k, v in self.sent.items() if v[1] >= forget}
        self.cursor = now
        return fresh

    def poll(self) -> list[str]:
        """The events of one poll: deltas, or a heartbeat when quiet for long."""
        fresh = self.changes()
        cursor = iso(self.cursor)
        if not fresh:
            if clock.monotonic() - self.quiet_since < HEARTBEAT:
                return []
            self.quiet_since = clock.monotonic()
            return [event("heartbeat", {"cursor": cursor}, cursor)]
        self.quiet_since = clock.monotonic()
        chunks = []
        for start in range(0, len(fresh), BATCH):
            last = start + BATCH >= len(fresh)
            data = {"cursor": cursor, "features": fresh[start : start + BATCH]}
            chunks.append(event("delta", data, cursor if last else None))
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
