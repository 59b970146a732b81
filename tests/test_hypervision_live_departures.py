"""Removals of entities that still exist but left a layer: an NGSI-LD entity that lost
its location, changed type, or (on a stream filtered by commune) moved out of the
commune leaves the agents' maps without a reload; a change that keeps it on its layer
stays a feature update. Deletions are in tests/test_hypervision_live_removals.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.test import Client

from alzette.territory.hypervision import layers, live
from alzette.territory.hypervision.models import Tombstone
from tests.conftest import ALL_DATABASES
from tests.test_hypervision_layers import AUDUN, VILLERUPT, container, inside, set_fill, upsert
from tests.test_hypervision_live import delta_ids, events, now
from tests.test_hypervision_live_removals import _rule, removed

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

LIVE = "/hypervision/live"
BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"
OTHER = "urn:ngsi-ld:WasteContainer:bin-54580-001"
#: A water pressure sensor: its data model does not require a location (a container's does).
SENSOR = "urn:ngsi-ld:DeviceMeasurement:pressure-57038-01"


@pytest.fixture(autouse=True)
def _short_streams(settings, monkeypatch):
    settings.ALZETTE_HYPERVISION_STREAM_SECONDS = 0.3
    settings.ALZETTE_HYPERVISION_POLL_SECONDS = 0.1
    monkeypatch.setattr(live, "GRACE", timedelta(0))  # "before" and "after" exact
    layers.reload()


@pytest.fixture
def bins(territory):
    x, y = inside(AUDUN, 0.001)
    sensor = {
        "id": SENSOR,
        "type": "DeviceMeasurement",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}},
        "numValue": {"type": "Property", "value": 3.2},
    }
    upsert(
        [
            container("bin-57038-001", AUDUN, 0.2),
            container("bin-54580-001", VILLERUPT, 0.5),
            sensor,
        ]
    )


@pytest.fixture
def agent(agent_audun):
    client = Client()
    client.force_login(agent_audun)
    return client


def _op():
    from alzette.territory.ngsild import jsonld
    from alzette.territory.ngsild.entities import Op

    return Op(tenant="", ctx=jsonld.core())


def merge(entity_id: str, fragment: dict) -> None:
    from alzette.territory.ngsild import entities

    entities.merge(_op(), entity_id, fragment)


def drop_location(entity_id: str) -> None:
    from alzette.territory.ngsild import entities

    entities.delete_attribute(_op(), entity_id, "location", delete_all=True)


def retype(entity_id: str, kind: str) -> None:
    """Replace the entity (§5.6.18) with the same attributes under another type."""
    from alzette.territory.ngsild import entities

    body = container("bin-57038-001", AUDUN, 0.2)
    body.update(id=entity_id, type=kind)
    entities.replace(_op(), entity_id, body)


def move(name: str, code: str) -> None:
    x, y = inside(code)
    merge(
        f"urn:ngsi-ld:WasteContainer:{name}",
        {"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}},
    )


def stream(agent, **params) -> list[dict]:
    return events(agent.get(LIVE, params))


# --- Location lost ------------------------------------------------------------------------


def test_an_entity_that_lost_its_location_is_removed(bins, agent):
    since = now()
    drop_location(SENSOR)
    found = stream(agent, layers="water-sensors", since=since)
    assert removed(found) == [{"layer": "water-sensors", "id": SENSOR}]
    assert SENSOR not in delta_ids(found)
    (stone,) = Tombstone.objects.using("territory").all()
    assert stone.entity_id == SENSOR and stone.types == ["DeviceMeasurement"]
    assert removed(stream(agent, layers="water-sensors", since=now())) == []


def test_a_location_given_back_in_the_window_is_a_feature(bins, agent):
    since = now()
    drop_location(SENSOR)
    x, y = inside(AUDUN)
    merge(
        SENSOR,
        {"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}},
    )
    found = stream(agent, layers="water-sensors", since=since)
    assert removed(found) == [] and SENSOR in delta_ids(found)


# --- Type changed -------------------------------------------------------------------------


def test_an_entity_that_changed_type_leaves_the_layers_of_its_old_type(bins, agent):
    since = now()
    retype(BIN, "Streetlight")
    assert removed(stream(agent, layers="waste", since=since)) == [{"layer": "waste", "id": BIN}]
    (stone,) = Tombstone.objects.using("territory").all()
    assert stone.types == ["WasteContainer"]
    # Shown by the layer of its new type: a feature there, not a removal.
    found = stream(agent, layers=["waste", "streetlights"], since=since)
    assert delta_ids(found)[BIN]["layer"] == "streetlights" and removed(found) == []


def test_a_batch_upsert_replace_that_changes_type_removes_it(bins, agent):
    from alzette.territory.ngsild import batch

    since = now()
    item = container("bin-57038-001", AUDUN, 0.2)
    item["type"] = "RetiredContainer"  # a type no layer draws
    assert not batch.write(_op(), [item], "upsert-replace").errors
    assert removed(stream(agent, layers="waste", since=since)) == [{"layer": "waste", "id": BIN}]


def test_a_type_added_keeps_the_entity_on_its_layer(bins, agent):
    since = now()
    merge(BIN, {"type": "Streetlight", "fillingLevel": {"type": "Property", "value": 0.4}})
    found = stream(agent, layers="waste", since=since)
    assert removed(found) == [] and delta_ids(found)[BIN]["value"] == 0.4
    assert not Tombstone.objects.using("territory").exists()


def test_a_layer_removes_only_what_it_no_longer_draws(bins):
    """``Layer.removed`` checks the current state: a tombstone of an entity that is
    back on the layer (a later write) names nothing."""
    sensors = layers.layers()["water-sensors"]
    since = datetime.now(UTC) - timedelta(seconds=1)
    stone = SimpleNamespace(entity_id=SENSOR, types=["DeviceMeasurement"], deleted_at=since)
    assert sensors.removed(since, [stone]) == []
    drop_location(SENSOR)
    assert sensors.removed(since, [stone]) == [SENSOR]
    assert layers.layers()["waste"].removed(since, [stone]) == []
    assert layers.layers()["events"].removed(since, [stone]) == []


# --- Still qualifying ---------------------------------------------------------------------


def test_a_change_that_keeps_it_on_its_layer_is_an_update(bins, agent):
    since = now()
    set_fill("bin-57038-001", 0.85)
    merge(BIN, {"status": {"type": "Property", "value": "lidOpen"}})
    found = stream(agent, layers="waste", since=since)
    assert removed(found) == []
    assert delta_ids(found)[BIN]["value"] == 0.85 and delta_ids(found)[BIN]["status"] == "lidOpen"
    assert not Tombstone.objects.using("territory").exists()


def test_departures_are_found_from_the_write_alone():
    def write(types, before, after, types_before=None):
        row = SimpleNamespace(types=types, body=after)
        return SimpleNamespace(row=row, before=before, types_before=types_before)

    where = {"https://uri.etsi.org/ngsi-ld/location": [{"type": "GeoProperty", "value": {}}]}
    level = {"https://x/fillingLevel": [{"type": "Property", "value": 1}]}
    kinds = ["https://uri.etsi.org/ngsi-ld/default-context/WasteContainer"]
    lamp = ["https://smartdatamodels.org/dataModel.Streetlighting/Streetlight"]
    assert live.departed(write(kinds, {**where, **level}, {**where, **level}, kinds)) == []
    assert live.departed(write(kinds, {**where, **level}, level)) == ["WasteContainer"]
    assert live.departed(write(lamp, where, where, kinds)) == ["WasteContainer"]
    assert live.departed(write(kinds + lamp, where, where, kinds)) == []  # a type added
    assert live.departed(write(kinds, None, level)) == []  # nothing known before


# --- Alerts -------------------------------------------------------------------------------


def _alert(entity_id: str = BIN):
    from alzette.territory.supervision.models import Alert

    return Alert.objects.using("territory").create(
        rule=_rule(), entity_id=entity_id, message="full", fired_at=datetime.now(UTC)
    )


def test_the_alerts_of_an_entity_without_location_leave_the_map(bins, agent):
    alert = _alert(SENSOR)
    since = now()
    drop_location(SENSOR)
    found = stream(agent, layers="alerts", since=since)
    assert removed(found) == [{"layer": "alerts", "id": f"alert:{alert.pk}"}]


def test_a_retyped_entity_keeps_its_alerts_on_the_map(bins, agent):
    _alert()
    since = now()
    retype(BIN, "Streetlight")
    assert removed(stream(agent, layers="alerts", since=since)) == []


# --- Commune filter -----------------------------------------------------------------------


def test_an_entity_moved_out_of_the_commune_is_removed(bins, agent):
    since = now()
    move("bin-57038-001", VILLERUPT)
    found = stream(agent, layers="waste", commune=AUDUN, since=since)
    assert removed(found) == [{"layer": "waste", "id": BIN}] and delta_ids(found) == {}
    # The unfiltered map draws it where it went.
    found = stream(agent, layers="waste", since=since)
    assert delta_ids(found)[BIN]["commune"] == VILLERUPT and removed(found) == []
    # The other commune's map gets it as a feature.
    assert BIN in delta_ids(stream(agent, layers="waste", commune=VILLERUPT, since=since))


def test_a_moved_entity_comes_back_as_a_feature(bins, agent):
    since = now()
    move("bin-57038-001", VILLERUPT)
    move("bin-57038-001", AUDUN)
    found = stream(agent, layers="waste", commune=AUDUN, since=since)
    assert removed(found) == [] and delta_ids(found)[BIN]["commune"] == AUDUN


def test_changes_outside_the_commune_cost_one_removal_per_stream(bins):
    """The stream cannot tell whether the map had a feature now outside its commune, so
    it sends one removal for it, not one per change; once back inside, it is news again."""
    waste = layers.layers()["waste"]
    poller = live.Poller([waste], AUDUN, datetime.now(UTC))
    set_fill("bin-54580-001", 0.6)
    assert poller.changes() == ([], [{"layer": "waste", "id": OTHER}])
    set_fill("bin-54580-001", 0.7)
    assert poller.changes() == ([], [])
    x, y = inside(AUDUN, 0.0005)
    merge(
        OTHER,
        {"location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}},
    )
    fresh, gone = poller.changes()
    assert [f["id"] for f in fresh] == [OTHER] and gone == []
    move("bin-54580-001", VILLERUPT)
    assert poller.changes() == ([], [{"layer": "waste", "id": OTHER}])


def test_wrong_role_cannot_stream(bins, citizen):
    client = Client()
    client.force_login(citizen)
    drop_location(SENSOR)
    assert client.get(LIVE, {"layers": "waste", "since": now()}).status_code == 403
