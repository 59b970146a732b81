"""The live map's server-sent events: deltas after an entity update, the cursor
(Last-Event-ID, ``since``, reset), filters, batches, heartbeats, refusals; over WSGI
(Django's test client) and ASGI (its async client)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from alzette.territory.hypervision import layers, live
from tests.conftest import ALL_DATABASES
from tests.test_hypervision_layers import AUDUN, VILLERUPT, container, set_fill, upsert

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

LIVE = "/hypervision/live"
BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"


@pytest.fixture(autouse=True)
def _short_streams(settings, monkeypatch):
    settings.ALZETTE_HYPERVISION_STREAM_SECONDS = 0.3
    settings.ALZETTE_HYPERVISION_POLL_SECONDS = 0.1
    # No grace: a test's "before" and "after" are then exact.
    monkeypatch.setattr(live, "GRACE", timedelta(0))
    layers.reload()


@pytest.fixture
def bins(territory):
    upsert([container("bin-57038-001", AUDUN, 0.2), container("bin-54580-001", VILLERUPT, 0.5)])


def now() -> str:
    return layers.iso(datetime.now(UTC))


def events(response) -> list[dict]:
    """The stream's events: [{"id", "event", "data"}] (comments and retry skipped)."""
    text = b"".join(response.streaming_content).decode()
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append(
                {
                    "id": fields.get("id"),
                    "event": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return out


def delta_ids(found: list[dict]) -> dict[str, dict]:
    return {
        f["id"]: f["properties"]
        for e in found
        if e["event"] == "delta"
        for f in e["data"]["features"]
    }


@pytest.fixture
def agent(agent_audun):
    client = Client()
    client.force_login(agent_audun)
    return client


def test_stream_sends_a_delta_after_an_entity_update(bins, agent):
    since = now()
    response = agent.get(LIVE, {"layers": "waste", "since": since})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    set_fill("bin-57038-001", 0.95)  # after the cursor, before the first poll
    found = events(response)
    assert found[0]["event"] == "ready" and found[0]["id"] == since
    assert delta_ids(found) == {BIN: delta_ids(found)[BIN]}
    assert delta_ids(found)[BIN]["value"] == 0.95
    assert found[-1]["event"] == "bye"
    delta = next(e for e in found if e["event"] == "delta")
    assert delta["id"] == delta["data"]["cursor"] and delta["id"] > since


def test_nothing_changed_gives_no_delta(bins, agent):
    response = agent.get(LIVE, {"since": now()})
    assert [e["event"] for e in events(response) if e["event"] == "delta"] == []


def test_last_event_id_wins_over_since(bins, agent):
    before = now()
    set_fill("bin-57038-001", 0.6)
    after = now()
    resumed = agent.get(LIVE, {"since": after}, HTTP_LAST_EVENT_ID=before)
    assert BIN in delta_ids(events(resumed))
    current = agent.get(LIVE, {"since": before}, HTTP_LAST_EVENT_ID=after)
    assert delta_ids(events(current)) == {}


def test_a_malformed_last_event_id_falls_back_to_since(bins, agent):
    before = now()
    set_fill("bin-57038-001", 0.6)
    response = agent.get(LIVE, {"since": before}, HTTP_LAST_EVENT_ID="not-a-time")
    assert BIN in delta_ids(events(response))


def test_a_stale_cursor_asks_for_a_reload(bins, agent):
    old = layers.iso(datetime.now(UTC) - timedelta(hours=2))
    found = events(agent.get(LIVE, HTTP_LAST_EVENT_ID=old))
    assert [e["event"] for e in found][:2] == ["ready", "reset"]
    assert found[1]["data"]["cursor"] > old


def test_commune_filter_applies_to_deltas(bins, agent):
    since = now()
    set_fill("bin-57038-001", 0.7)
    set_fill("bin-54580-001", 0.7)
    response = agent.get(LIVE, {"since": since, "commune": VILLERUPT})
    assert list(delta_ids(events(response))) == ["urn:ngsi-ld:WasteContainer:bin-54580-001"]


def test_large_deltas_come_in_batches_with_the_id_on_the_last(bins, agent, monkeypatch):
    monkeypatch.setattr(live, "BATCH", 1)
    since = now()
    set_fill("bin-57038-001", 0.7)
    set_fill("bin-54580-001", 0.7)
    deltas = [e for e in events(agent.get(LIVE, {"since": since})) if e["event"] == "delta"]
    assert len(deltas) == 2
    assert deltas[0]["id"] is None and deltas[1]["id"] == deltas[1]["data"]["cursor"]


def test_each_change_is_sent_once_per_stream(bins, agent, monkeypatch):
    monkeypatch.setattr(live, "GRACE", timedelta(seconds=30))  # polls overlap
    since = now()
    set_fill("bin-57038-001", 0.7)
    deltas = [e for e in events(agent.get(LIVE, {"since": since})) if e["event"] == "delta"]
    sent = [f["id"] for e in deltas for f in e["data"]["features"] if f["id"] == BIN]
    assert sent == [BIN]


def test_heartbeats_when_quiet(bins, agent, monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT", 0)
    found = events(agent.get(LIVE, {"since": now()}))
    beats = [e for e in found if e["event"] == "heartbeat"]
    assert beats and all(b["id"] == b["data"]["cursor"] for b in beats)


@pytest.mark.parametrize("params", [{"commune": "99999"}, {"layers": "nope"}, {"theme": "x"}])
def test_bad_filters_are_refused(bins, agent, params):
    assert agent.get(LIVE, params).status_code == 400


def test_only_get(bins, agent):
    assert agent.post(LIVE).status_code in (403, 405)


@pytest.mark.parametrize("persona", ["citizen", "partner", None])
def test_wrong_role_gets_403(bins, persona, request):
    client = Client()
    if persona:
        client.force_login(request.getfixturevalue(persona))
    assert client.get(LIVE).status_code == 403


def test_the_asgi_stream_is_an_async_generator(bins, agent_audun):
    async def read() -> tuple[int, str, bool]:
        client = AsyncClient()
        await client.aforce_login(agent_audun)
        since = now()
        response = await client.get(LIVE, {"since": since})
        chunks = []
        first = True
        async for chunk in response.streaming_content:
            chunks.append(chunk.decode())
            if first:
                first = False
                from asgiref.sync import sync_to_async

                await sync_to_async(set_fill)("bin-57038-001", 0.33)
        return response.status_code, "".join(chunks), response.is_async

    status, text, is_async = async_to_sync(read)()
    assert status == 200 and is_async
    assert BIN in text and "event: bye" in text


def test_cursor_parsing():
    assert live.parse_cursor("2026-12-04T10:00:00.5Z") == datetime(
        2026, 12, 4, 10, 0, 0, 500000, tzinfo=UTC
    )
    assert live.parse_cursor("2026-12-04T10:00:00") is None  # no offset: ambiguous
    assert live.parse_cursor("yesterday") is None
    assert live.parse_cursor(None) is None
