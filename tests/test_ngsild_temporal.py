"""Temporal API, history storage and the oneM2M-to-context mapping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alzette.territory.ngsild import mapping, partitions, temporal
from alzette.territory.ngsild.models import (
    AttributeDailyRollup,
    AttributeInstance,
    AttributeRollup,
    Entity,
)
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd, problem

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"


@pytest.fixture
def ld():
    return NgsiLd()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def readings(n: int, step: timedelta, seed: int = 1) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    return [(START + i * step, round(rng.uniform(0, 100), 3)) for i in range(n)]


@pytest.fixture
def meter(ld):
    """A meter whose temperature was posted every 15 minutes for three days."""
    series = readings(3 * 96, timedelta(minutes=15))
    body = {
        "id": "urn:ngsi-ld:Meter:1",
        "type": "Meter",
        "temperature": [
            {"type": "Property", "value": v, "observedAt": stamp(t)} for t, v in series
        ],
    }
    response = ld.post("/temporal/entities", body)
    assert response.status_code == 201, response.content
    return series


def test_temporal_entity_creates_the_entity_with_its_latest_values(ld, meter):
    entity = ld.entity("urn:ngsi-ld:Meter:1")
    assert entity["temperature"]["value"] == meter[-1][1]
    assert AttributeInstance.objects.count() == len(meter)


def test_timerel_between_before_after(ld, meter):
    t0, t1 = START + timedelta(hours=1), START + timedelta(hours=2)
    between = ld.get(
        "/temporal/entities/urn:ngsi-ld:Meter:1",
        timerel="between",
        timeAt=stamp(t0),
        endTimeAt=stamp(t1),
    ).json()
    expected = [v for t, v in meter if t0 <= t < t1]
    assert [i["value"] for i in between["temperature"]] == expected
    assert all(
        i["instanceId"].startswith("urn:ngsi-ld:attribute:instance:")
        for i in between["temperature"]
    )
    before = ld.get(
        "/temporal/entities/urn:ngsi-ld:Meter:1", timerel="before", timeAt=stamp(t0)
    ).json()
    assert [i["value"] for i in before["temperature"]] == [v for t, v in meter if t < t0]
    after = ld.get(
        "/temporal/entities/urn:ngsi-ld:Meter:1", timerel="after", timeAt=stamp(meter[-3][0])
    ).json()
    assert [i["value"] for i in after["temperature"]] == [v for _, v in meter[-3:]]


def test_last_n_and_temporal_values(ld, meter):
    last = ld.get(
        "/temporal/entities/urn:ngsi-ld:Meter:1", lastN="4", options="temporalValues"
    ).json()
    values = last["temperature"]["values"]
    assert values == [[v, stamp(t)] for t, v in meter[-4:]]


@pytest.mark.parametrize("period", ["PT1H", "P1D", "PT45M", "P1M"])
def test_aggregations_match_the_raw_data(ld, meter, period):
    response = ld.get(
        "/temporal/entities/urn:ngsi-ld:Meter:1",
        options="aggregatedValues",
        aggrMethods="totalCount,sum,avg,min,max",
        aggrPeriodDuration=period,
        timerel="between",
        timeAt=stamp(START),
        endTimeAt=stamp(START + timedelta(days=3)),
    )
    assert response.status_code == 200, response.content
    got = response.json()["temperature"]
    length = {
        "PT1H": timedelta(hours=1),
        "P1D": timedelta(days=1),
        "PT45M": timedelta(minutes=45),
        "P1M": timedelta(days=365),
    }[period]
    buckets: dict[datetime, list[float]] = {}
    for t, v in meter:
        start = START + ((t - START) // length) * length
        buckets.setdefault(start, []).append(v)
    assert [c[0] for c in got["totalCount"]] == [len(b) for b in buckets.values()]
    assert [c[0] for c in got["max"]] == [max(b) for b in buckets.values()]
    assert [c[0] for c in got["min"]] == [min(b) for b in buckets.values()]
    assert [c[0] for c in got["sum"]] == pytest.approx([sum(b) for b in buckets.values()])
    assert [c[0] for c in got["avg"]] == pytest.approx([sum(b) / len(b) for b in buckets.values()])
    assert got["avg"][0][1] == stamp(START).replace("Z", ".000Z")


def test_rollup_follows_the_raw_history(ld, meter):
    rollup = {r.hour: r.count for r in AttributeRollup.objects.all()}
    assert sum(rollup.values()) == len(meter)
    assert set(rollup.values()) == {4}
    daily = {r.day: r for r in AttributeDailyRollup.objects.all()}
    assert sorted(daily) == [START + timedelta(days=n) for n in range(3)]
    for day, row in daily.items():
        values = [v for t, v in meter if day <= t < day + timedelta(days=1)]
        assert (row.count, row.minimum, row.maximum) == (96, min(values), max(values))
        assert row.total == pytest.approx(sum(values))


@pytest.mark.parametrize(
    ("offset", "period", "source"),
    [
        (timedelta(0), "P1D", "day"),
        (timedelta(0), "P2D", "day"),
        (timedelta(hours=1), "P1D", "hour"),
        (timedelta(minutes=15), "P1D", None),
    ],
)
def test_each_rollup_gives_the_raw_answer(ld, meter, offset, period, source):
    """Days from a midnight read the daily rollup, from another hour the hourly one,
    from a quarter past the rows: all three agree with the raw readings."""
    low, high = START + offset, START + timedelta(days=3)
    chosen = temporal._rollup(temporal.parse_duration(period), low, high)
    assert (chosen[1] if chosen else None) == source
    got = ld.get(
        "/temporal/entities/urn:ngsi-ld:Meter:1", options="aggregatedValues",
        aggrMethods="totalCount,sum,min,max", aggrPeriodDuration=period,
        timerel="between", timeAt=stamp(low), endTimeAt=stamp(high),
    ).json()["temperature"]  # fmt: skip
    length = timedelta(days=int(period[1]))
    buckets: dict[datetime, list[float]] = {}
    for t, v in meter:
        if low <= t < high:
            buckets.setdefault(low + ((t - low) // length) * length, []).append(v)
    assert [c[0] for c in got["totalCount"]] == [len(b) for b in buckets.values()]
    assert [c[0] for c in got["min"]] == [min(b) for b in buckets.values()]
    assert [c[0] for c in got["max"]] == [max(b) for b in buckets.values()]
    assert [c[0] for c in got["sum"]] == pytest.approx([sum(b) for b in buckets.values()])
    assert [c[1] for c in got["sum"]] == [stamp(b).replace("Z", ".000Z") for b in buckets]


def test_daily_rollups_are_filled_from_hourly_ones_on_migration(ld, meter):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("alzette.territory.ngsild.migrations.0005_daily_rollup")
    expected = {r.day: (r.count, r.minimum, r.maximum) for r in AttributeDailyRollup.objects.all()}
    AttributeDailyRollup.objects.all().delete()
    migration.backfill(apps, SimpleNamespace(connection=SimpleNamespace(alias="territory")))
    assert {
        r.day: (r.count, r.minimum, r.maximum) for r in AttributeDailyRollup.objects.all()
    } == expected


@pytest.mark.parametrize(
    "params",
    [
        {"timerel": "during", "timeAt": "2026-01-01T00:00:00Z"},
        {"timerel": "before"},
        {
            "timerel": "between",
            "timeAt": "2026-01-02T00:00:00Z",
            "endTimeAt": "2026-01-01T00:00:00Z",
        },
        {"timerel": "after", "timeAt": "yesterday"},
        {"lastN": "0"},
        {"options": "aggregatedValues", "aggrMethods": "median"},
        {"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "1 day"},
        {"options": "aggregatedValues,temporalValues"},
    ],
)
def test_bad_temporal_queries(ld, meter, params):
    response = ld.get("/temporal/entities/urn:ngsi-ld:Meter:1", **params)
    assert response.status_code == 400, response.content
    assert problem(response) == "BadRequestData"


def test_temporal_query_over_entities(ld, meter):
    response = ld.get("/temporal/entities", type="Meter", lastN="1")
    assert response.status_code == 200
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:Meter:1"]
    assert problem(ld.get("/temporal/entities", lastN="1")) == "BadRequestData"


def test_instances_can_be_corrected_and_deleted(ld, meter):
    first = ld.get("/temporal/entities/urn:ngsi-ld:Meter:1", lastN="1").json()["temperature"][0]
    path = f"/temporal/entities/urn:ngsi-ld:Meter:1/attrs/temperature/{first['instanceId']}"
    assert ld.patch(path, {"value": 1000.0}).status_code == 204
    assert AttributeRollup.objects.order_by("-hour").first().maximum == 1000.0
    assert AttributeDailyRollup.objects.order_by("-day").first().maximum == 1000.0
    assert ld.delete(path).status_code == 204
    assert AttributeInstance.objects.count() == len(meter) - 1
    assert problem(ld.delete(path)) == "ResourceNotFound"
    assert ld.delete("/temporal/entities/urn:ngsi-ld:Meter:1/attrs/temperature").status_code == 204
    assert not AttributeInstance.objects.exists()
    assert not AttributeRollup.objects.exists()
    assert not AttributeDailyRollup.objects.exists()


def test_adding_instances_to_an_existing_entity(ld, meter):
    later = stamp(START + timedelta(days=10))
    response = ld.post(
        "/temporal/entities/urn:ngsi-ld:Meter:1/attrs",
        {"temperature": [{"type": "Property", "value": 5, "observedAt": later}]},
    )
    assert response.status_code == 204
    assert AttributeInstance.objects.count() == len(meter) + 1
    missing = ld.post("/temporal/entities/urn:ngsi-ld:Meter:404/attrs", {"temperature": 1})
    assert problem(missing) == "ResourceNotFound"


def test_retention_drops_old_history(settings, ld, meter):
    settings.ALZETTE_NGSILD_HISTORY_MONTHS = 1
    partitions.apply_retention(datetime(2026, 6, 1, tzinfo=UTC))
    assert not AttributeInstance.objects.exists()
    assert not AttributeRollup.objects.exists()
    assert not AttributeDailyRollup.objects.exists()
    assert Entity.objects.filter(entity_id="urn:ngsi-ld:Meter:1").exists()


def test_duration_parsing():
    assert temporal.parse_duration("PT15M").seconds == 900
    assert temporal.parse_duration("P1M").months == 1
    assert temporal.parse_duration("P1DT1H").seconds == 90000
    with pytest.raises(Exception):  # noqa: B017
        temporal.parse_duration("P1MT1H")


# --- from oneM2M to NGSI-LD -------------------------------------------------------------


@pytest.fixture
def fill_mapping():
    return mapping.define(
        name="bins",
        container="alzette/*/fill",
        entity_type="WasteContainer",
        entity_id="urn:ngsi-ld:WasteContainer:{ae}",
        attribute="fillingLevel",
        value_path="level",
        unit_code="P1",
    )


BIN_LOCATION = {"type": "Point", "coordinates": [5.98, 49.47]}


def test_a_content_instance_shows_up_in_ngsi_ld_and_its_history(ld, m2m, fill_mapping):
    # The inventory created the container with its location; the device feeds its level.
    ld.create(
        {
            "id": "urn:ngsi-ld:WasteContainer:bin7",
            "type": "WasteContainer",
            "location": BIN_LOCATION,
        }
    )
    ae = m2m.register("bin7")
    m2m.container("alzette/bin7", "fill", ae["aei"])
    for level in (0.25, 0.5, 0.75):
        response = m2m.instance("alzette/bin7/fill", {"level": level}, ae["aei"])
        assert response.status_code == 201, response.content
    entity = ld.entity("urn:ngsi-ld:WasteContainer:bin7")
    assert entity["type"] == "WasteContainer"
    assert entity["fillingLevel"]["value"] == 0.75
    assert entity["fillingLevel"]["unitCode"] == "P1"
    assert entity["fillingLevel"]["observedAt"].endswith("Z")
    history = ld.get("/temporal/entities/urn:ngsi-ld:WasteContainer:bin7").json()
    assert [i["value"] for i in history["fillingLevel"]] == [0.25, 0.5, 0.75]
    assert history["fillingLevel"][0]["instanceId"].startswith("urn:ngsi-ld:onem2m:instance:")
    # One copy: the history of a mapped attribute is the container's instances.
    assert not AttributeInstance.objects.filter(
        entity_id="urn:ngsi-ld:WasteContainer:bin7", attribute__endswith="fillingLevel"
    ).exists()
    total = ld.get(
        "/temporal/entities/urn:ngsi-ld:WasteContainer:bin7",
        options="aggregatedValues",
        aggrMethods="max,totalCount",
    ).json()
    assert total["fillingLevel"]["max"][0][0] == 0.75
    assert total["fillingLevel"]["totalCount"][0][0] == 3


def test_a_device_without_an_entity_creates_one(ld, m2m):
    mapping.define(
        name="meters",
        container="alzette/*/temp",
        entity_type="Meter",
        entity_id="urn:ngsi-ld:Meter:{ae}",
        attribute="temperature",
    )
    ae = m2m.register("meter3")
    m2m.container("alzette/meter3", "temp", ae["aei"])
    m2m.instance("alzette/meter3/temp", "21.5", ae["aei"])
    assert ld.entity("urn:ngsi-ld:Meter:meter3")["temperature"]["value"] == 21.5


def test_a_value_outside_the_data_model_does_not_reach_the_context(ld, m2m, fill_mapping):
    ld.create(
        {
            "id": "urn:ngsi-ld:WasteContainer:bin8",
            "type": "WasteContainer",
            "location": BIN_LOCATION,
        }
    )
    ae = m2m.register("bin8")
    m2m.container("alzette/bin8", "fill", ae["aei"])
    m2m.instance("alzette/bin8/fill", {"level": 0.5}, ae["aei"])
    response = m2m.instance("alzette/bin8/fill", {"level": 7}, ae["aei"])
    assert response.status_code == 201  # the device is never refused for the context's sake
    assert ld.entity("urn:ngsi-ld:WasteContainer:bin8")["fillingLevel"]["value"] == 0.5


def test_bad_mappings_are_refused():
    with pytest.raises(ValueError, match="invalid mapping"):
        mapping.define(
            name="x",
            container="alzette/*/fill",
            entity_type="Bin",
            entity_id="not-a-uri-{ae}",
            attribute="fill",
        )
    with pytest.raises(ValueError, match="invalid mapping"):
        mapping.define(
            name="x",
            container="alzette/*/fill",
            entity_type="Bin",
            entity_id="urn:x:{2}",
            attribute="fill",
        )


def test_smart_data_model_is_enforced_on_write(ld):
    response = ld.post(
        "/entities",
        {
            "id": "urn:ngsi-ld:WasteContainer:1",
            "location": BIN_LOCATION,
            "type": "WasteContainer",
            "fillingLevel": 1.5,
        },
    )
    assert response.status_code == 400
    assert problem(response) == "BadRequestData"
    assert response.json()["attribute"] == "fillingLevel"
    assert "fillingLevel" in response.json()["detail"]
    ok = ld.post(
        "/entities",
        {
            "id": "urn:ngsi-ld:WasteContainer:1",
            "type": "WasteContainer",
            "fillingLevel": 0.5,
            "location": BIN_LOCATION,
        },
    )
    assert ok.status_code == 201, ok.content
    no_location = ld.post(
        "/entities", {"id": "urn:ngsi-ld:WasteContainer:2", "type": "WasteContainer"}
    )
    assert no_location.json()["attribute"] == "location"
