"""Water devices through oneM2M: district inflow, pressure, quality, household meters,
and the messages the water app refuses (quarantined with a reason, never applied)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alzette.territory.ngsild import store
from alzette.territory.supervision.models import QuarantinedMessage
from alzette.territory.water import demo, services, signals
from alzette.territory.water.models import District, DistrictHour, Meter, Reading
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def network(territory):
    return demo.ensure_demo_water()


@pytest.fixture
def heard():
    got = []

    def receiver(sender, **kwargs):
        got.append(kwargs)

    signals.meter_reading.connect(receiver, dispatch_uid="test-water-readings")
    yield got
    signals.meter_reading.disconnect(dispatch_uid="test-water-readings")


def device(m2m, name: str, container: str) -> str:
    ae = m2m.register(name)
    m2m.container(f"alzette/{name}", container, ae["aei"])
    return ae["aei"]


def post(m2m, aei, name, container, content):
    response = m2m.instance(f"alzette/{name}/{container}", content, aei)
    assert response.status_code == 201, response.content
    return response


def value(entity_id: str, term: str):
    return services.value(store.get("", entity_id).body, term)


def reasons() -> list[tuple[str, str]]:
    return list(QuarantinedMessage.objects.order_by("pk").values_list("kind", "reason"))


def test_demo_network(network):
    assert network["districts"] == 10
    assert network["meters"] == 60
    assert District.objects.count() == 10
    assert demo.demo_meters()[0] == ("W26-000001", "54521")
    assert demo.ensure_demo_water() == network  # idempotent
    assert value(services.pressure_id("57038-1"), "controlledProperty") == "pressure"


def test_inflow_pressure_quality_reach_their_entities(network, m2m):
    now = datetime.now(UTC) - timedelta(minutes=1)
    aei = device(m2m, "dmeter-57038-1", "flow")
    post(m2m, aei, "dmeter-57038-1", "flow", {"index": 12345.6, "flow": 2400.0, "t": iso(now)})
    eid = services.inflow_id("57038-1")
    assert value(eid, "flow") == 2400.0
    assert value(eid, "waterConsumption") == 12345
    assert value(eid, "inflowIndex") == 12345.6
    aei = device(m2m, "pressure-57038-1", "pressure")
    post(m2m, aei, "pressure-57038-1", "pressure", {"bar": 3.9, "t": iso(now)})
    assert value(services.pressure_id("57038-1"), "numValue") == 3.9
    aei = device(m2m, "quality-57038-1", "quality")
    post(m2m, aei, "quality-57038-1", "quality", {"pH": 7.4, "turbidity": 0.2, "t": iso(now)})
    assert value(services.quality_id("57038-1"), "pH") == 7.4
    assert reasons() == []


@pytest.mark.parametrize(
    ("name", "container", "content", "kind", "words"),
    [
        ("dmeter-57038-1", "flow", {"index": 1.0, "flow": -5.0}, "out_of_range", "flow = -5"),
        ("dmeter-57038-1", "flow", "not json", "unreadable", "index and flow"),
        ("dmeter-99999-1", "flow", {"index": 1.0, "flow": 5.0}, "unknown_device", "no entity"),
        ("pressure-57038-1", "pressure", {"bar": 17.5}, "out_of_range", "bar = 17.5"),
        ("pressure-57038-1", "pressure", {"bar": "high"}, "unreadable", "not a number"),
        ("quality-57038-1", "quality", {"pH": 15}, "out_of_range", "pH = 15"),
        ("quality-57038-1", "quality", {"colour": "blue"}, "unreadable", "quality reading"),
        ("pressure-57038-1", "pressure", {"bar": 3.0, "t": "2099-01-01T00:00:00Z"},
         "future_time", "future"),
        ("pressure-57038-1", "pressure", {"bar": 3.0, "t": "yesterday"}, "invalid_time",
         "unreadable"),
    ],
)  # fmt: skip
def test_impossible_device_messages_are_quarantined(network, m2m, name, container, content,
                                                    kind, words):  # fmt: skip
    aei = device(m2m, name, container)
    post(m2m, aei, name, container, content)
    found = reasons()
    assert len(found) == 1 and found[0][0] == kind and words in found[0][1], found


def test_household_meter_readings(network, m2m, heard):
    aei = device(m2m, "hmeter-W26-000003", "index")
    meter = Meter.objects.get(serial="W26-000003")
    start = datetime.now(UTC).replace(minute=5, second=0, microsecond=0) - timedelta(hours=3)
    post(m2m, aei, "hmeter-W26-000003", "index", {"index": 1000, "t": iso(start)})
    post(m2m, aei, "hmeter-W26-000003", "index",
         {"index": 1120, "t": iso(start + timedelta(hours=1))})  # fmt: skip
    meter.refresh_from_db()
    assert (meter.last_index, meter.last_at) == (1120, start + timedelta(hours=1))
    hour = DistrictHour.objects.get(district=meter.district)
    assert (hour.litres, hour.meters) == (120, 1)
    assert [h["index_litres"] for h in heard] == [1000, 1120]
    assert heard[0]["meter"] == "W26-000003" and heard[0]["source_ri"]
    assert list(meter.recent_hours.values()) == [120]
    assert reasons() == []
    # Bad ones
    bad = [
        {"index": 1100, "t": iso(start + timedelta(hours=2))},  # backwards
        {"index": 99_000, "t": iso(start + timedelta(hours=2))},  # 98 m³ in an hour
        {"index": 1200, "t": "2099-01-01T00:00:00Z"},  # future
        {"index": 12.5},  # not litres
    ]
    for content in bad:
        post(m2m, aei, "hmeter-W26-000003", "index", content)
    found = reasons()
    assert [k for k, _ in found] == ["out_of_range", "out_of_range", "future_time", "unreadable"]
    assert "backwards" in found[0][1] and "more than a household" in found[1][1]
    unknown = device(m2m, "hmeter-W26-999999", "index")
    post(m2m, unknown, "hmeter-W26-999999", "index", {"index": 5})
    assert reasons()[-1][0] == "unknown_device"
    meter.refresh_from_db()
    assert meter.last_index == 1120 and len(heard) == 2


def test_a_replayed_message_is_applied_once(network, m2m, heard):
    from alzette.territory.onem2m.models import Resource
    from alzette.territory.water import receivers

    aei = device(m2m, "hmeter-W26-000003", "index")
    post(m2m, aei, "hmeter-W26-000003", "index", {"index": 10})
    instance = Resource.objects.filter(ty=4).order_by("-pk").first()
    receivers.on_instance(None, instance=instance, container_path="alzette/hmeter-W26-000003/index")
    assert len(heard) == 1 and Reading.objects.count() == 1


# --- Meters reporting in an hour ------------------------------------------------------------


def test_add_hour_use_counts_a_meter_once_an_hour(network):
    district = District.objects.get(slug="57038-1")
    meter = Meter.objects.filter(district=district).first()
    at = datetime(2026, 12, 3, 9, 5, tzinfo=UTC)
    assert services.counted_in_hour(meter, at) is False
    services.add_hour_use(district.pk, at, 30, new_meter=True)
    meter.recent_hours = {"2026-12-03T09:00:00.000Z": 30}  # as the receiver keeps it
    assert services.counted_in_hour(meter, at.replace(minute=50)) is True
    assert services.counted_in_hour(meter, at + timedelta(hours=1)) is False
    services.add_hour_use(district.pk, at.replace(minute=50), 12, new_meter=False)
    services.add_hour_use(district.pk, at.replace(minute=20), 7, new_meter=True)  # another one
    services.add_hour_use(district.pk, at + timedelta(hours=1), 5, new_meter=False)
    rows = DistrictHour.objects.filter(district=district).order_by("hour")
    assert [(r.hour.hour, r.litres, r.meters) for r in rows] == [(9, 49, 2), (10, 5, 0)]


def test_a_reading_after_a_gap_shares_its_litres_over_the_district_hours(network, m2m):
    district = District.objects.get(slug="57038-1")
    meter = Meter.objects.filter(district=district).order_by("serial").first()
    aei = device(m2m, f"hmeter-{meter.serial}", "index")
    start = datetime.now(UTC).replace(minute=5, second=0, microsecond=0) - timedelta(hours=10)
    post(m2m, aei, f"hmeter-{meter.serial}", "index", {"index": 1000, "t": iso(start)})
    # Silent for four hours, then 400 L: 55, 60, 60, 60 and 5 minutes of use.
    post(m2m, aei, f"hmeter-{meter.serial}", "index",
         {"index": 1400, "t": iso(start + timedelta(hours=4))})  # fmt: skip
    rows = DistrictHour.objects.filter(district=district).order_by("hour")
    top = start.replace(minute=0)
    assert [(r.hour - top, r.litres, r.meters) for r in rows] == [
        (timedelta(hours=1), 92, 1), (timedelta(hours=2), 100, 1),
        (timedelta(hours=3), 100, 1), (timedelta(hours=4), 108, 1),
    ]  # fmt: skip
    meter.refresh_from_db()
    assert list(meter.recent_hours.values()) == [400]  # the leak detector sees no fake hours
    assert reasons() == []


def test_a_meter_reporting_twice_in_an_hour_counts_once(network, m2m):
    """Needs receivers.record_index to count through services.add_hour_use (docs/water.md)."""
    district = District.objects.get(slug="57038-1")
    first, second = Meter.objects.filter(district=district).order_by("serial")[:2]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    a = device(m2m, f"hmeter-{first.serial}", "index")
    b = device(m2m, f"hmeter-{second.serial}", "index")
    readings = [  # (aei, serial, minutes after start, index)
        (a, first.serial, -50, 1000), (b, second.serial, -40, 500),  # first readings: no use yet
        (a, first.serial, 5, 1040), (a, first.serial, 35, 1100),  # twice in the hour
        (b, second.serial, 20, 530),
        (a, first.serial, 65, 1100),  # the next hour, no use: still a meter reporting
    ]  # fmt: skip
    for aei, serial, minutes, index in readings:
        post(m2m, aei, f"hmeter-{serial}", "index",
             {"index": index, "t": iso(start + timedelta(minutes=minutes))})  # fmt: skip
    rows = DistrictHour.objects.filter(district=district).order_by("hour")
    assert [(r.hour, r.litres, r.meters) for r in rows] == [
        (start, 130, 2),
        (start + timedelta(hours=1), 0, 1),
    ]
    assert reasons() == []
