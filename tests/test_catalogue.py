"""The open-data catalogue: publishing with checked metadata, the ledger, refreshes,
and the platform API's dataset pages and streamed downloads."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from alzette.ledger.models import LedgerEntry
from alzette.territory.catalogue import downloads, services, sources
from alzette.territory.catalogue.models import Dataset, LedgerRecord, Organisation
from alzette.territory.events.models import ProcedureStatistic, TerritoryEvent
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def ccphva():
    return Organisation.objects.using("territory").create(
        slug="ccphva", name="Communauté de communes Pays Haut Val d'Alzette"
    )


def publish(org, identifier="communes", **fields):
    defaults = {"title": {"fr": "Communes", "en": "Municipalities"}, "licence": "etalab-2.0",
                "themes": ["REGI"], "source": "communes", "source_options": {},
                "frequency": "ANNUAL", "communes": ["57041"]}  # fmt: skip
    return services.publish(org, identifier, **{**defaults, **fields})


@pytest.fixture
def events():
    for n, (kind, day) in enumerate([("illegal_dump", 3), ("illegal_dump", 5), ("pothole", 4)]):
        TerritoryEvent.objects.using("territory").create(
            kind=kind, categories=["bulky"], commune_code="57041", lon=5.98 + n / 100,
            lat=49.47, observed_on=date(2026, 11, day), source_ref=f"ref-{n}",
        )  # fmt: skip


def test_publishing_records_in_the_ledger(ccphva):
    dataset = publish(ccphva)
    record = LedgerRecord.objects.using("territory").get(dataset_id=dataset.pk)
    assert record.kind == "dataset.published"
    assert record.payload["identifier"] == "communes"
    entry = LedgerEntry.objects.using("ledger").get(index=record.leaf_index)
    assert entry.kind == "dataset.published" and entry.object == f"dataset:{dataset.pk}"
    services.change(dataset, keywords=["limites"])
    services.withdraw(dataset)
    kinds = list(LedgerRecord.objects.using("territory").values_list("kind", flat=True))
    assert kinds == ["dataset.published", "dataset.changed", "dataset.deleted"]
    assert not Dataset.objects.using("territory").exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"licence": "wtfpl"}, "licence"),
        ({"themes": ["FOOD"]}, "themes"),
        ({"frequency": "SOMETIMES"}, "frequency"),
        ({"title": {"en": "Only English"}}, "title"),
        ({"title": {"xx": "Klingon", "fr": "Communes"}}, "title"),
        ({"communes": ["Audun"]}, "communes"),
        ({"keywords": "one, two"}, "keywords"),
        ({"source": "nowhere"}, "source"),
        ({"source": "ngsild-entities", "source_options": {}}, "source"),
        ({"source": "communes", "source_options": {"type": "x"}}, "source"),
        ({"licence": "other-closed"}, "licence"),
        ({"temporal_start": date(2026, 2, 1), "temporal_end": date(2026, 1, 1)}, "temporal_end"),
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_written(ccphva, fields, field):
    with pytest.raises(ValidationError) as refused:
        publish(ccphva, **fields)
    assert field in refused.value.message_dict
    assert not Dataset.objects.using("territory").exists()
    assert not LedgerRecord.objects.using("territory").exists()


def test_a_closed_licence_is_fine_for_community_data(ccphva):
    dataset = publish(ccphva, licence="other-closed", access="community")
    assert dataset.access == "community"
    assert not services.visible().exists()


def test_only_known_fields_change(ccphva):
    dataset = publish(ccphva)
    with pytest.raises(ValidationError):
        services.change(dataset, identifier="renamed")


def test_refresh_measures_the_source(ccphva, territory):
    dataset = publish(ccphva)
    assert services.refresh(dataset)
    dataset.refresh_from_db()
    assert dataset.row_count == 8
    west, south, east, north = dataset.extent
    assert 5.8 < west < east < 6.2 and 49.3 < south < north < 49.6
    assert dataset.refreshed_at is not None and dataset.refresh_error == ""


def test_a_failed_refresh_keeps_the_last_good_figures(ccphva, territory, monkeypatch):
    dataset = publish(ccphva)
    services.refresh(dataset)

    def broken(self, dataset):
        raise RuntimeError("the source is down")

    monkeypatch.setattr(sources.Communes, "records", broken)
    assert not services.refresh(dataset)
    dataset.refresh_from_db()
    assert dataset.row_count == 8 and dataset.extent is not None
    assert "the source is down" in dataset.refresh_error


def test_refresh_due_follows_the_frequency(ccphva, territory):
    yearly = publish(ccphva)
    assert services.refresh_due() == 1
    assert services.refresh_due() == 0  # refreshed a moment ago, due in a year
    yearly.refresh_from_db()
    assert yearly.refreshed_at is not None


def test_distributions_follow_the_source(ccphva):
    spatial = publish(ccphva)
    flat = publish(ccphva, "procedures", source="procedure-statistics")
    assert [d.format for d in services.distributions(spatial)] == ["csv", "json", "geojson"]
    assert [d.format for d in services.distributions(flat)] == ["csv", "json"]
    assert services.distributions(spatial)[0].id == spatial.distribution_id("csv")
    assert services.distributions(spatial)[0].path == "/api/v1/territory/datasets/communes/data.csv"


def test_downloads_in_every_format(ccphva, events):
    publish(ccphva, "dumps", source="territory-events", source_options={"kind": "illegal_dump"},
            themes=["ENVI"])  # fmt: skip
    client = Client()
    answer = client.get("/api/v1/territory/datasets/dumps/data.csv")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.streaming
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["observed_on"] for r in rows] == ["2026-11-03", "2026-11-05"]
    assert json.loads(rows[0]["categories"]) == ["bulky"]
    assert json.loads(rows[0]["geometry"])["type"] == "Point"
    geo = json.loads(b"".join(client.get("/api/v1/territory/datasets/dumps/data.geojson")
                              .streaming_content))  # fmt: skip
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 2
    assert geo["features"][0]["geometry"]["coordinates"] == [5.98, 49.47]
    plain = json.loads(b"".join(client.get("/api/v1/territory/datasets/dumps/data.json")
                                .streaming_content))  # fmt: skip
    assert [p["kind"] for p in plain] == ["illegal_dump", "illegal_dump"]


def test_a_large_download_streams_in_small_chunks(ccphva):
    ProcedureStatistic.objects.using("territory").bulk_create(
        ProcedureStatistic(procedure=f"p{n}", commune_code="57041", month="2026-11", filed=n,
                           decided=n, accepted=n) for n in range(3000)
    )  # fmt: skip
    dataset = publish(ccphva, "procedures", source="procedure-statistics")
    chunks = list(downloads.stream(dataset, "csv"))
    assert len(chunks) > 1 and max(len(c) for c in chunks) < 80_000
    assert b"".join(chunks).decode("utf-8-sig").count("\r\n") == 3001


def test_dataset_pages_of_the_api(ccphva, territory):
    dataset = publish(ccphva, description={"fr": "Limites", "de": "Grenzen"})
    services.refresh(dataset)
    client = Client()
    listed = client.get("/api/v1/territory/datasets").json()
    assert [d["identifier"] for d in listed] == ["communes"]
    detail = client.get("/api/v1/territory/datasets/communes").json()
    assert detail["row_count"] == 8 and detail["publisher"].startswith("Communauté")
    assert [f["name"] for f in detail["fields"]] == ["code", "name", "department"]
    assert detail["distributions"][2]["format"] == "geojson"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/territory/datasets/unknown",
        "/api/v1/territory/datasets/hidden",
        "/api/v1/territory/datasets/shared",
        "/api/v1/territory/datasets/hidden/data.csv",
        "/api/v1/territory/datasets/shared/data.geojson",
        "/api/v1/territory/datasets/procedures/data.geojson",
        "/api/v1/territory/datasets/procedures/data.xlsx",
    ],
)
def test_what_is_not_open_is_not_found(ccphva, path):
    publish(ccphva, "hidden", published=False)
    publish(ccphva, "shared", access="community", licence="other-closed")
    publish(ccphva, "procedures", source="procedure-statistics")
    answer = Client().get(path)
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"


def test_ngsild_entities_as_rows(ccphva):
    from tests.ngsild_helpers import NgsiLd

    broker = NgsiLd()
    bins = [{"id": f"urn:ngsi-ld:WasteContainer:{n}", "type": "WasteContainer",
             "fillingLevel": {"type": "Property", "value": n / 10},
             "location": {"type": "GeoProperty",
                          "value": {"type": "Point", "coordinates": [5.98, 49.47 + n / 1000]}}}
            for n in range(3)]  # fmt: skip
    assert broker.post("/entityOperations/create", bins).status_code == 201
    dataset = publish(ccphva, "bins", source="ngsild-entities",
                      source_options={"type": "WasteContainer"}, themes=["ENVI"])  # fmt: skip
    records = list(services.records(dataset))
    assert [r.values["fillingLevel"] for r in records] == [0.0, 0.1, 0.2]
    assert records[2].geometry == {"type": "Point", "coordinates": [5.98, 49.472]}
    assert [f.name for f in services.fields(dataset)][:2] == ["id", "fillingLevel"]
    assert services.sources.get("ngsild-entities").count(dataset) == 3


def test_entities_named_by_their_smart_data_model(ccphva, territory):
    from alzette.territory.catalogue.demo import ensure_demo_datasets
    from alzette.territory.ngsild.demo import ensure_demo_context

    ensure_demo_context()
    assert ensure_demo_datasets() == 5
    assert ensure_demo_datasets() == 5  # idempotent
    bins = Dataset.objects.using("territory").get(identifier="conteneurs-dechets")
    assert bins.row_count == 48 and bins.refresh_error == ""
    first = next(iter(services.records(bins)))
    assert {"fillingLevel", "wasteType", "name"} <= set(first.values)
    assert first.geometry["type"] == "Point"


def test_an_unknown_context_is_refused(ccphva):
    unknown = {"type": "WasteContainer", "context": "https://example.org/x.jsonld"}
    with pytest.raises(ValidationError) as refused:
        publish(ccphva, "bins", source="ngsild-entities", source_options=unknown)
    assert "Unknown @context" in str(refused.value)


def test_the_refresh_command(ccphva, territory):
    from django.core.management import CommandError, call_command

    publish(ccphva)
    call_command("catalogue", "refresh", "communes")
    assert Dataset.objects.using("territory").get().row_count == 8
    with pytest.raises(CommandError):
        call_command("catalogue", "refresh", "nothing-like-it")


def test_the_history_of_an_attribute_as_rows(ccphva, monkeypatch):
    from tests.ngsild_helpers import NgsiLd

    monkeypatch.setattr(sources, "_HISTORY_CHUNK", 4)  # several chunks per entity
    broker = NgsiLd()
    for meter in ("A", "B"):
        readings = [{"type": "Property", "value": n + (10 if meter == "B" else 0),
                     "observedAt": f"2026-01-01T0{n}:00:00Z"} for n in range(6)]  # fmt: skip
        # A second series at the same times, under its own datasetId.
        readings += [{**r, "value": -r["value"], "datasetId": "urn:ngsi-ld:Dataset:backup"}
                     for r in readings[:5]]  # fmt: skip
        body = {"id": f"urn:ngsi-ld:Meter:{meter}", "type": "Meter", "temperature": readings}
        assert broker.post("/temporal/entities", body).status_code == 201
    dataset = publish(ccphva, "temperatures", source="ngsild-history",
                      source_options={"type": "Meter", "attribute": "temperature"},
                      frequency="HOURLY")  # fmt: skip
    rows = [r.values for r in services.records(dataset)]
    assert len(rows) == 22 == sources.get("ngsild-history").count(dataset)
    assert [r["id"][-1] for r in rows] == ["A"] * 11 + ["B"] * 11
    assert sorted(r["temperature"] for r in rows[:11]) == sorted(
        [*range(6), *(-n for n in range(5))]
    )
    assert rows[0]["observedAt"] == "2026-01-01T00:00:00.000Z"
    assert [f.name for f in services.fields(dataset)] == ["id", "observedAt", "temperature"]
    text = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig")
    assert text.splitlines()[0] == "id,observedAt,temperature"
    with pytest.raises(ValidationError):
        publish(ccphva, "nothing", source="ngsild-history", source_options={"type": "Meter"})
