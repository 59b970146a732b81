"""The ngsild-aggregate source: an attribute's history per hour, day or month, read
from the broker's rollups, checked against sums computed here from the raw values."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.core.exceptions import ValidationError

from alzette.territory.catalogue import downloads, services
from alzette.territory.catalogue.models import Organisation
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

# (meter, time, value, datasetId): two days of January, one of February, two series on A.
READINGS = [
    ("A", "2026-01-30T08:10:00Z", 10.0, None),
    ("A", "2026-01-30T08:50:00Z", 14.0, None),
    ("A", "2026-01-30T09:05:00Z", 11.0, None),
    ("A", "2026-01-31T23:59:00Z", 20.0, None),
    ("A", "2026-01-30T08:30:00Z", -2.0, "urn:ngsi-ld:Dataset:backup"),
    ("A", "2026-02-01T00:00:00Z", 5.0, None),
    ("B", "2026-01-30T08:15:00Z", 100.0, None),
]


@pytest.fixture
def meters():
    broker = NgsiLd()
    series = defaultdict(list)
    for meter, moment, value, dataset_id in READINGS:
        instance = {"type": "Property", "value": value, "observedAt": moment}
        if dataset_id:
            instance["datasetId"] = dataset_id
        series[meter].append(instance)
    for meter, instances in series.items():
        body = {"id": f"urn:ngsi-ld:Meter:{meter}", "type": "Meter", "temperature": instances}
        assert broker.post("/temporal/entities", body).status_code == 201


def publish(period: str | None, identifier: str = "temperatures"):
    org, _ = Organisation.objects.using("territory").get_or_create(slug="ccphva", name="CCPHVA")
    options = {"type": "Meter", "attribute": "temperature"}
    if period:
        options["period"] = period
    return services.publish(org, identifier, title={"fr": "Températures"}, licence="etalab-2.0",
                            source="ngsild-aggregate", source_options=options)  # fmt: skip


def expected(cut) -> list[tuple]:
    """(entity, period start, count, min, max, sum) from READINGS, ``cut`` giving the
    period of a time."""
    groups = defaultdict(list)
    for meter, moment, value, _ in READINGS:
        groups[(f"urn:ngsi-ld:Meter:{meter}", cut(moment))].append(value)
    return [(key[0], key[1], len(v), min(v), max(v), sum(v)) for key, v in sorted(groups.items())]


def rows_of(dataset) -> list[tuple]:
    return [(r.values["id"], r.values["period_start"], r.values["count"], r.values["min"],
             r.values["max"], r.values["sum"]) for r in services.records(dataset)]  # fmt: skip


@pytest.mark.parametrize(
    ("period", "cut"),
    [
        ("hour", lambda m: m[:13] + ":00:00.000Z"),
        ("day", lambda m: m[:10] + "T00:00:00.000Z"),
        ("month", lambda m: m[:7] + "-01T00:00:00.000Z"),
    ],
)
def test_an_attribute_per_period(meters, period, cut):
    dataset = publish(period)
    assert rows_of(dataset) == expected(cut)
    first = next(services.records(dataset)).values
    assert first["avg"] == pytest.approx(first["sum"] / first["count"])


def test_the_period_ends_and_the_default(meters):
    dataset = publish(None)
    assert dataset.source_options["period"] == "day"
    rows = [r.values for r in services.records(dataset)]
    assert (rows[0]["period_start"], rows[0]["period_end"]) == (
        "2026-01-30T00:00:00.000Z", "2026-01-31T00:00:00.000Z"
    )  # fmt: skip
    january = next(r.values for r in services.records(publish("month", "monthly")))
    assert january["period_end"] == "2026-02-01T00:00:00.000Z"


def test_aggregates_as_a_download(meters):
    dataset = publish("day")
    services.refresh(dataset)
    dataset.refresh_from_db()
    assert dataset.row_count == 4 and dataset.extent is None
    lines = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig").splitlines()
    assert lines[0] == "id,period_start,period_end,count,min,max,avg,sum"
    assert lines[1].startswith("urn:ngsi-ld:Meter:A,2026-01-30T00:00:00.000Z,")
    assert [d.format for d in services.distributions(dataset)] == ["csv", "json"]


@pytest.mark.parametrize(
    "options",
    [
        {"type": "Meter", "attribute": "temperature", "period": "week"},
        {"type": "Meter", "period": "day"},
        {"attribute": "temperature"},
    ],
)
def test_bad_options_are_refused(options):
    org = Organisation.objects.using("territory").create(slug="ccphva", name="CCPHVA")
    with pytest.raises(ValidationError) as refused:
        services.publish(org, "x", title={"fr": "X"}, licence="etalab-2.0",
                         source="ngsild-aggregate", source_options=options)  # fmt: skip
    assert "source" in refused.value.message_dict
