"""Waste devices through oneM2M: truck lifts by RFID, drop-point openings, and the
messages the waste app refuses (quarantined with a reason, never applied)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alzette.territory.ngsild import entities, store
from alzette.territory.ngsild.entities import Op
from alzette.territory.onem2m import events
from alzette.territory.onem2m.models import Resource
from alzette.territory.supervision.models import QuarantinedMessage
from alzette.territory.waste import receivers, services, signals
from alzette.territory.waste.models import Lift, Opening
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

TAG = "E2801160600002091C9A3B7F"
BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"


def make_container(short: str, **attributes) -> str:
    payload = {
        "id": services.entity_id(short),
        "type": "WasteContainer",
        "location": {"type": "GeoProperty",
                     "value": {"type": "Point", "coordinates": [5.98, 49.47]}},
        **{k: {"type": "Property", "value": v} for k, v in attributes.items()},
    }  # fmt: skip
    return entities.create(Op(tenant="", ctx=services.context()), payload)


def attribute(entity_id: str, term: str):
    return services.attribute_value(store.get("", entity_id).body, term)


@pytest.fixture
def household_bin():
    return make_container(
        "bin-57038-001", RFID=TAG, storedWasteKind="inorganic", storedWasteOrigin="household",
        binCapacity=240, fillingLevel=0.8,
    )  # fmt: skip


@pytest.fixture
def truck(m2m):
    ae = m2m.register("truck-1")
    m2m.container("alzette/truck-1", "lifts", ae["aei"])
    return ae["aei"]


@pytest.fixture
def lifts_heard():
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    signals.lift_recorded.connect(receiver, dispatch_uid="test-waste-lifts")
    yield heard
    signals.lift_recorded.disconnect(dispatch_uid="test-waste-lifts")


@pytest.fixture
def openings_heard():
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    signals.badge_opening.connect(receiver, dispatch_uid="test-waste-openings")
    yield heard
    signals.badge_opening.disconnect(dispatch_uid="test-waste-openings")


def lift(m2m, truck, **content):
    response = m2m.instance("alzette/truck-1/lifts", content, truck)
    assert response.status_code == 201, response.content
    return response


def test_a_lift_by_rfid_empties_the_bin_and_is_counted(
    territory, m2m, truck, household_bin, lifts_heard
):
    lift(m2m, truck, tag=TAG, weight=12.5)
    row = Lift.objects.get()
    assert (row.bin_id, row.weight_kg, row.truck) == (BIN, 12.5, "truck-1")
    assert attribute(BIN, "fillingLevel") == 0.0
    assert attribute(BIN, "dateLastEmptying").startswith(row.lifted_at.strftime("%Y-%m-%d"))
    assert len(lifts_heard) == 1
    heard = lifts_heard[0]
    assert (heard["bin_id"], heard["weight_kg"], heard["lift_id"]) == (BIN, 12.5, row.pk)
    assert heard["lifted_at"] == row.lifted_at
    # The commune's day of inorganic waste adds the weights of its lifts.
    lift(m2m, truck, tag=TAG, weight=7.5)
    day = receivers.observed_id("57038", "inorganic", row.lifted_at.astimezone())
    observed = store.get("", day)
    assert observed is not None
    assert services.attribute_value(observed.body, "weight") == 20.0
    assert Lift.objects.count() == 2
    assert not QuarantinedMessage.objects.exists()


def test_the_observation_time_in_the_content_is_the_lift_time(m2m, truck, household_bin):
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    lift(m2m, truck, tag=TAG, weight=3, t=moment.isoformat().replace("+00:00", "Z"))
    assert Lift.objects.get().lifted_at == moment


def test_a_late_lift_does_not_hide_a_newer_fill_reading(m2m, truck, household_bin):
    entities.append(Op(tenant="", ctx=services.context()), BIN, {"fillingLevel": {
        "type": "Property", "value": 0.3, "observedAt": "2030-01-01T00:00:00Z"}})  # fmt: skip
    lift(m2m, truck, tag=TAG, t="2026-01-05T07:00:00Z")
    assert Lift.objects.count() == 1
    assert attribute(BIN, "fillingLevel") == 0.3
    assert attribute(BIN, "dateLastEmptying") == "2026-01-05T07:00:00.000Z"


def test_an_unknown_tag_is_quarantined(m2m, truck, household_bin, lifts_heard):
    lift(m2m, truck, tag="NOT-A-KNOWN-TAG", weight=10)
    assert not Lift.objects.exists()
    assert lifts_heard == []
    refused = QuarantinedMessage.objects.get()
    assert (refused.device, refused.path) == ("truck-1", "alzette/truck-1/lifts")
    assert refused.kind == "unknown_device"
    assert "NOT-A-KNOWN-TAG" in refused.reason
    assert refused.content["tag"] == "NOT-A-KNOWN-TAG"
    assert attribute(BIN, "fillingLevel") == 0.8


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ({"tag": TAG, "weight": -4}, "out_of_range"),
        ({"tag": TAG, "weight": "heavy"}, "unreadable"),
        ({"tag": TAG, "t": "2099-01-01T00:00:00Z"}, "future_time"),
        ({"tag": TAG, "t": "yesterday"}, "invalid_time"),
        ({"weight": 3}, "unreadable"),
    ],
)
def test_impossible_lifts_are_quarantined(m2m, truck, household_bin, content, kind):
    lift(m2m, truck, **content)
    assert not Lift.objects.exists()
    assert QuarantinedMessage.objects.get().kind == kind
    assert attribute(BIN, "fillingLevel") == 0.8


def test_a_message_is_applied_once(m2m, truck, household_bin, lifts_heard):
    response = lift(m2m, truck, tag=TAG, weight=9)
    ri = response.json()["m2m:cin"]["ri"]
    resource = Resource.objects.get(ri=ri)
    events.content_instance_created(resource)  # the same instance announced again
    assert Lift.objects.count() == 1
    assert len(lifts_heard) == 1
    day = receivers.observed_id("57038", "inorganic", Lift.objects.get().lifted_at.astimezone())
    assert services.attribute_value(store.get("", day).body, "weight") == 9.0


def test_a_drop_point_opening_keeps_no_badge(m2m, openings_heard):
    make_container("pav-57038-01-glass", storedWasteKind="glass", storedWasteOrigin="household")
    ae = m2m.register("pav-57038-01-glass")
    m2m.container("alzette/pav-57038-01-glass", "openings", ae["aei"])
    response = m2m.instance("alzette/pav-57038-01-glass/openings", {"badge": "B-7731"}, ae["aei"])
    assert response.status_code == 201
    opening = Opening.objects.get()
    assert opening.container_id == "urn:ngsi-ld:WasteContainer:pav-57038-01-glass"
    assert "badge" not in {f.name for f in Opening._meta.get_fields()}
    assert len(openings_heard) == 1
    heard = openings_heard[0]
    assert (heard["container_id"], heard["badge"]) == (opening.container_id, "B-7731")
    assert heard["opened_at"] == opening.opened_at


def test_an_opening_of_an_unknown_column_or_without_badge_is_quarantined(m2m, openings_heard):
    ae = m2m.register("pav-57038-09-paper")
    m2m.container("alzette/pav-57038-09-paper", "openings", ae["aei"])
    m2m.instance("alzette/pav-57038-09-paper/openings", {"badge": "B-1"}, ae["aei"])
    make_container("pav-57038-09-paper", storedWasteKind="paper")
    m2m.instance("alzette/pav-57038-09-paper/openings", {"card": "B-1"}, ae["aei"])
    assert not Opening.objects.exists()
    assert openings_heard == []
    kinds = sorted(QuarantinedMessage.objects.values_list("kind", flat=True))
    assert kinds == ["unknown_device", "unreadable"]


def test_other_containers_are_not_the_waste_apps_business(m2m, truck, household_bin):
    m2m.container("alzette/truck-1", "position", truck)
    m2m.instance("alzette/truck-1/position", {"tag": "NOT-A-KNOWN-TAG"}, truck)
    assert not QuarantinedMessage.objects.exists()
    assert not Lift.objects.exists()


def test_a_day_created_meanwhile_is_added_to(m2m, truck, household_bin, monkeypatch):
    lift(m2m, truck, tag=TAG, weight=5)
    real_get = store.get

    def racing_get(tenant, entity_id, **kwargs):
        # The first look misses the day's entity, as if another lift created it just after.
        if entity_id.startswith(receivers.OBSERVED_PREFIX) and not racing_get.missed:
            racing_get.missed = True
            return None
        return real_get(tenant, entity_id, **kwargs)

    racing_get.missed = False
    monkeypatch.setattr(receivers.store, "get", racing_get)
    lift(m2m, truck, tag=TAG, weight=6)
    assert racing_get.missed
    day = receivers.observed_id("57038", "inorganic", Lift.objects.first().lifted_at.astimezone())
    assert services.attribute_value(real_get("", day).body, "weight") == 11.0
    assert Lift.objects.count() == 2
    assert not QuarantinedMessage.objects.exists()
