"""Removals in the live map's deltas: an NGSI-LD entity deleted from the store leaves a
tombstone, and the next delta of a stream whose cursor predates it carries
``removed`` items (its feature; its open alerts); closed alerts and events leave as
``gone`` features; tombstones expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.territory.hypervision import layers, live
from alzette.territory.hypervision.models import Tombstone
from tests.conftest import ALL_DATABASES
from tests.test_hypervision_layers import AUDUN, VILLERUPT, _event, container, set_fill, upsert
from tests.test_hypervision_live import delta_ids, events, now

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

LIVE = "/hypervision/live"
BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"
OTHER = "urn:ngsi-ld:WasteContainer:bin-54580-001"


@pytest.fixture(autouse=True)
def _short_streams(settings, monkeypatch):
    settings.ALZETTE_HYPERVISION_STREAM_SECONDS = 0.3
    settings.ALZETTE_HYPERVISION_POLL_SECONDS = 0.1
    monkeypatch.setattr(live, "GRACE", timedelta(0))  # "before" and "after" exact
    layers.reload()


@pytest.fixture
def bins(territory):
    upsert([container("bin-57038-001", AUDUN, 0.2), container("bin-54580-001", VILLERUPT, 0.5)])


@pytest.fixture
def agent(agent_audun):
    client = Client()
    client.force_login(agent_audun)
    return client


def delete(*entity_ids: str, tenant: str = "") -> None:
    from alzette.territory.ngsild import batch, entities, jsonld
    from alzette.territory.ngsild.entities import Op

    op = Op(tenant=tenant, ctx=jsonld.core())
    if len(entity_ids) == 1:
        entities.delete(op, entity_ids[0])
    else:
        assert not batch.delete(op, list(entity_ids)).errors


def removed(found: list[dict]) -> list[dict]:
    return [r for e in found if e["event"] == "delta" for r in e["data"]["removed"]]


def test_a_deleted_entity_is_removed_for_a_cursor_taken_before(bins, agent):
    before = now()
    delete(BIN)
    after = now()
    found = events(agent.get(LIVE, {"layers": "waste", "since": before}))
    assert removed(found) == [{"layer": "waste", "id": BIN}]
    delta = next(e for e in found if e["event"] == "delta")
    assert delta["data"]["features"] == [] and delta["id"] == delta["data"]["cursor"]
    assert removed(events(agent.get(LIVE, {"layers": "waste", "since": after}))) == []


def test_last_event_id_replays_a_deletion_once_per_stream(bins, agent, monkeypatch):
    monkeypatch.setattr(live, "GRACE", timedelta(seconds=30))  # polls overlap
    before = now()
    delete(BIN, OTHER)  # a batch deletion
    found = events(agent.get(LIVE, {"layers": "waste"}, HTTP_LAST_EVENT_ID=before))
    assert sorted(r["id"] for r in removed(found)) == [OTHER, BIN]


def test_a_deletion_during_the_stream_is_removed(bins, agent):
    response = agent.get(LIVE, {"since": now()})
    delete(BIN)  # after the cursor, before the first poll
    assert {"layer": "waste", "id": BIN} in removed(events(response))


def test_removals_go_to_the_layers_of_the_entity_types_only(bins, agent):
    since = now()
    delete(BIN)
    assert removed(events(agent.get(LIVE, {"layers": "events", "since": since}))) == []
    assert removed(events(agent.get(LIVE, {"theme": "lighting", "since": since}))) == []


def test_an_entity_created_again_is_not_removed(bins, agent):
    since = now()
    delete(BIN)
    upsert([container("bin-57038-001", AUDUN, 0.3)])
    found = events(agent.get(LIVE, {"layers": "waste", "since": since}))
    assert removed(found) == []
    assert delta_ids(found)[BIN]["value"] == 0.3


def test_a_change_then_a_deletion_in_one_window(bins, agent):
    since = now()
    set_fill("bin-54580-001", 0.9)
    delete(BIN)
    found = events(agent.get(LIVE, {"layers": "waste", "since": since}))
    assert list(delta_ids(found)) == [OTHER]
    assert removed(found) == [{"layer": "waste", "id": BIN}]


def test_removals_count_in_batches(bins, agent, monkeypatch):
    monkeypatch.setattr(live, "BATCH", 1)
    since = now()
    set_fill("bin-54580-001", 0.9)
    delete(BIN)
    deltas = [e for e in events(agent.get(LIVE, {"since": since})) if e["event"] == "delta"]
    assert [(len(d["data"]["features"]), len(d["data"]["removed"])) for d in deltas] == [
        (1, 0),
        (0, 1),
    ]
    assert deltas[0]["id"] is None and deltas[1]["id"] == deltas[1]["data"]["cursor"]


def test_another_tenant_leaves_no_tombstone(bins):
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    op = Op(tenant="elsewhere", ctx=jsonld.core())
    assert not batch.write(op, [container("bin-57038-009", AUDUN, 0.1)], "upsert").errors
    delete("urn:ngsi-ld:WasteContainer:bin-57038-009", tenant="elsewhere")
    assert not Tombstone.objects.using("territory").exists()


def test_a_tombstone_records_the_local_type_names(bins):
    delete(BIN)
    (stone,) = Tombstone.objects.using("territory").all()
    assert stone.entity_id == BIN and stone.types == ["WasteContainer"]
    assert stone.deleted_at > datetime.now(UTC) - timedelta(minutes=1)


def test_expired_tombstones_are_pruned_by_the_next_deletion(bins):
    old = datetime.now(UTC) - live.TOMBSTONE_KEEP - timedelta(seconds=1)
    kept = datetime.now(UTC) - live.MAX_LAG
    Tombstone.objects.using("territory").create(entity_id="urn:x:old", deleted_at=old)
    Tombstone.objects.using("territory").create(entity_id="urn:x:kept", deleted_at=kept)
    delete(BIN)
    left = Tombstone.objects.using("territory").values_list("entity_id", flat=True)
    assert sorted(left) == [BIN, "urn:x:kept"]
    assert live.TOMBSTONE_KEEP > live.MAX_LAG + live.GRACE


def test_a_failing_tombstone_never_fails_the_deletion(bins, monkeypatch):
    from alzette.territory.ngsild.models import Entity

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Tombstone.objects, "bulk_create", broken)
    delete(BIN)
    assert not Entity.objects.using("territory").filter(entity_id=BIN).exists()


def _rule():
    from alzette.territory.supervision.models import AlertRule

    return AlertRule.objects.using("territory").create(
        name="full",
        entity_type="WasteContainer",
        attribute="fillingLevel",
        kind="threshold",
        operator=">",
        value=0.8,
        created_by="ab" * 16,
        unit="P1",
    )


def test_the_open_alerts_of_a_deleted_entity_leave_the_alerts_layer(bins, agent):
    from alzette.territory.supervision.models import Alert

    rule = _rule()
    alert = Alert.objects.using("territory").create(
        rule=rule, entity_id=BIN, message="full", fired_at=datetime.now(UTC)
    )
    closed = Alert.objects.using("territory").create(
        rule=rule,
        entity_id=BIN,
        message="was full",
        fired_at=datetime.now(UTC) - timedelta(hours=2),
        state="closed",
        closed_at=datetime.now(UTC) - timedelta(hours=1),
    )
    since = now()
    delete(BIN)
    found = events(agent.get(LIVE, {"layers": "alerts", "since": since}))
    assert removed(found) == [{"layer": "alerts", "id": f"alert:{alert.pk}"}]
    assert f"alert:{closed.pk}" not in str(found)
    alert.refresh_from_db(using="territory")
    assert alert.state == "closed"  # supervision closed it with the deletion


def test_a_closed_alert_leaves_its_layer(bins, agent):
    from alzette.territory.supervision.models import Alert

    alert = Alert.objects.using("territory").create(
        rule=_rule(), entity_id=BIN, message="full", fired_at=datetime.now(UTC)
    )
    since = now()
    alert.state, alert.closed_at = "closed", datetime.now(UTC)
    alert.save(using="territory")
    found = events(agent.get(LIVE, {"layers": "alerts", "since": since}))
    assert delta_ids(found)[f"alert:{alert.pk}"]["gone"] is True
    after = now()
    assert delta_ids(events(agent.get(LIVE, {"layers": "alerts", "since": after}))) == {}


def test_a_closed_event_leaves_its_layer(territory, agent):
    event = _event()
    since = now()
    event.status, event.closed_on = "closed", timezone.localdate()
    event.save(using="territory")
    found = events(agent.get(LIVE, {"layers": "events", "since": since}))
    assert delta_ids(found)[f"event:{event.pk}"]["gone"] is True
    assert removed(found) == []
