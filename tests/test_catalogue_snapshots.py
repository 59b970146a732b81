"""Snapshots: every refresh keeps the rows it read, downloads serve the newest, a failing
source changes nothing they serve, operators are alerted once, old snapshots go."""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils.dateparse import parse_datetime

from alzette.territory.catalogue import downloads, services, snapshots, sources
from alzette.territory.catalogue.models import Dataset, Snapshot
from alzette.territory.events.models import ProcedureStatistic, TerritoryEvent
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
OPERATORS = ["exploitation@ccphva.example"]


@pytest.fixture
def ccphva():
    from alzette.territory.catalogue.models import Organisation

    return Organisation.objects.using("territory").create(slug="ccphva", name="CCPHVA")


@pytest.fixture(autouse=True)
def _operators(settings):
    settings.ALZETTE_CATALOGUE_ALERT_EMAILS = OPERATORS


def statistic(procedure: str, filed: int = 1) -> None:
    ProcedureStatistic.objects.using("territory").create(
        procedure=procedure, commune_code="57041", month="2026-11", filed=filed, decided=0,
        accepted=0,
    )  # fmt: skip


def publish(org, identifier="procedures", **fields):
    defaults = {"title": {"fr": "Démarches"}, "licence": "etalab-2.0", "themes": ["GOVE"],
                "source": "procedure-statistics", "source_options": {},
                "frequency": "MONTHLY"}  # fmt: skip
    return services.publish(org, identifier, **{**defaults, **fields})


def csv_rows(dataset) -> list[dict[str, str]]:
    text = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def broken(self, dataset):
    raise RuntimeError("the source is down")


def test_downloads_serve_the_snapshot_of_the_last_refresh(ccphva, settings):
    statistic("etat-civil", 3)
    dataset = publish(ccphva)
    assert services.freshness(dataset).served_from == "live"  # never refreshed yet
    assert services.refresh(dataset)
    snapshot = Snapshot.objects.using("territory").get()
    assert (settings.ALZETTE_CATALOGUE_DIR / snapshot.path).is_file()
    assert snapshot.row_count == 1 and snapshot.columns[0]["name"] == "procedure"
    statistic("urbanisme")  # new data: served from the next refresh on
    assert [r["procedure"] for r in csv_rows(dataset)] == ["etat-civil"]
    assert services.freshness(dataset).taken_at == snapshot.taken_at
    services.refresh(dataset)
    assert [r["procedure"] for r in csv_rows(dataset)] == ["etat-civil", "urbanisme"]


def test_the_snapshot_gives_the_same_downloads_as_the_source(ccphva):
    for n, kind in enumerate(["illegal_dump", "illegal_dump", "pothole"]):
        TerritoryEvent.objects.using("territory").create(
            kind=kind, categories=["bulky", "tyres"], commune_code="57041", lon=5.98 + n / 100,
            lat=49.47, observed_on=date(2026, 11, 3 + n), source_ref=f"ref-{n}",
        )  # fmt: skip
    dataset = publish(ccphva, "events", source="territory-events", themes=["ENVI"])
    live = {fmt: b"".join(downloads.stream(dataset, fmt)) for fmt in services.FORMATS}
    services.refresh(dataset)
    assert services.freshness(dataset).served_from == "snapshot"
    for fmt, body in live.items():
        assert b"".join(downloads.stream(dataset, fmt)) == body, fmt
    dataset.refresh_from_db()
    assert dataset.extent == [5.98, 49.47, 6.0, 49.47]


def test_a_failed_refresh_keeps_serving_the_last_good_snapshot(ccphva, monkeypatch):
    statistic("etat-civil")
    dataset = publish(ccphva)
    services.refresh(dataset)
    monkeypatch.setattr(sources.ProcedureStatistics, "records", broken)
    assert not services.refresh(dataset)
    dataset.refresh_from_db()
    assert [r["procedure"] for r in csv_rows(dataset)] == ["etat-civil"]
    freshness = services.freshness(dataset)
    assert freshness.served_from == "snapshot" and freshness.row_count == 1
    assert freshness.failing_since is not None and "source is down" in freshness.error
    answer = Client().get("/api/v1/territory/datasets/procedures/data.json")
    assert answer.status_code == 200
    assert b"etat-civil" in b"".join(answer.streaming_content)


def test_columns_come_from_the_snapshot_not_from_every_row(ccphva, monkeypatch):
    from tests.ngsild_helpers import NgsiLd

    bins = [{"id": f"urn:ngsi-ld:WasteContainer:{n}", "type": "WasteContainer",
             "fillingLevel": {"type": "Property", "value": n / 10},
             "location": {"type": "GeoProperty",
                          "value": {"type": "Point", "coordinates": [5.98, 49.47 + n / 1000]}}}
            for n in range(3)]  # fmt: skip
    assert NgsiLd().post("/entityOperations/create", bins).status_code == 201
    dataset = publish(ccphva, "bins", source="ngsild-entities",
                      source_options={"type": "WasteContainer"}, themes=["ENVI"])  # fmt: skip
    services.refresh(dataset)
    monkeypatch.setattr(sources.NgsiLdEntities, "records", broken)
    assert [f.name for f in services.fields(dataset)] == ["id", "fillingLevel", "modifiedAt"]
    assert [r.values["fillingLevel"] for r in services.records(dataset)] == [0.0, 0.1, 0.2]


def test_a_changed_source_is_read_live_until_its_next_refresh(ccphva, territory):
    statistic("etat-civil")
    dataset = publish(ccphva)
    services.refresh(dataset)
    services.change(dataset, source="communes")
    assert services.freshness(dataset).served_from == "live"
    assert [f.name for f in services.fields(dataset)] == ["code", "name", "department"]
    assert services.refresh_due() == 1  # not due by its frequency, but its snapshot is stale
    assert services.freshness(dataset).served_from == "snapshot"


def test_operators_are_alerted_once_then_told_of_the_recovery(ccphva, monkeypatch, mailoutbox,
                                                              caplog):  # fmt: skip
    statistic("etat-civil")
    dataset = publish(ccphva)
    services.refresh(dataset)
    original = sources.ProcedureStatistics.records
    monkeypatch.setattr(sources.ProcedureStatistics, "records", broken)
    with caplog.at_level(logging.WARNING, logger="alzette.territory.catalogue"):
        for _ in range(3):  # the worker retries every five minutes
            assert not services.refresh(Dataset.objects.using("territory").get())
    assert len(mailoutbox) == 1
    alert = mailoutbox[0]
    assert alert.to == OPERATORS and "procedures" in alert.subject
    assert "the source is down" in alert.body
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "procedures" in errors[0].getMessage()
    failing = Dataset.objects.using("territory").get()
    assert failing.failing_since is not None
    monkeypatch.setattr(sources.ProcedureStatistics, "records", original)
    assert services.refresh(failing)
    assert services.refresh(failing)
    assert len(mailoutbox) == 2 and "procedures" in mailoutbox[1].subject
    assert Dataset.objects.using("territory").get().failing_since is None


def test_without_addresses_the_alert_is_only_logged(ccphva, settings, monkeypatch, mailoutbox):
    settings.ALZETTE_CATALOGUE_ALERT_EMAILS = []
    settings.ADMINS = [("Exploitation", "admin@ccphva.example")]
    dataset = publish(ccphva)
    monkeypatch.setattr(sources.ProcedureStatistics, "records", broken)
    services.refresh(dataset)
    assert [m.to for m in mailoutbox] == [["admin@ccphva.example"]]
    settings.ADMINS = []
    other = publish(ccphva, "other")
    services.refresh(other)
    assert len(mailoutbox) == 1


def test_a_mail_server_down_does_not_fail_the_refresh(ccphva, monkeypatch):
    from alzette.territory.catalogue import alerts

    def refused(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(alerts, "send_mail", refused)
    monkeypatch.setattr(sources.ProcedureStatistics, "records", broken)
    dataset = publish(ccphva)
    assert not services.refresh(dataset)
    assert Dataset.objects.using("territory").get().failing_since is not None


def test_old_snapshots_are_pruned(ccphva, settings):
    settings.ALZETTE_CATALOGUE_SNAPSHOTS_KEPT = 2
    statistic("etat-civil")
    dataset = publish(ccphva)
    for _ in range(4):
        services.refresh(dataset)
    paths = list(Snapshot.objects.using("territory").values_list("path", flat=True))
    assert snapshots.prune() == 2
    kept = list(Snapshot.objects.using("territory").values_list("path", flat=True))
    assert kept == paths[:2]  # the newest
    folder = settings.ALZETTE_CATALOGUE_DIR
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.gz")) == sorted(kept)
    assert services.freshness(dataset).taken_at == Snapshot.objects.using("territory").first(
    ).taken_at  # fmt: skip


def test_files_of_withdrawn_datasets_are_pruned_once_old(ccphva, settings):
    dataset = publish(ccphva)
    services.refresh(dataset)
    folder = settings.ALZETTE_CATALOGUE_DIR / "snapshots" / str(dataset.pk)
    services.withdraw(dataset)
    assert folder.is_dir()
    assert snapshots.prune() == 0  # too recent: a refresh may still be writing it
    hour_ago = time.time() - 7200
    os.utime(folder, (hour_ago, hour_ago))
    assert snapshots.prune() == 1
    assert not folder.exists()


def test_the_worker_prunes_and_the_commands(ccphva, settings, monkeypatch):
    settings.ALZETTE_CATALOGUE_SNAPSHOTS_KEPT = 2
    dataset = publish(ccphva)
    for _ in range(3):
        services.refresh(dataset)
    Dataset.objects.using("territory").update(refreshed_at=None)  # due again
    call_command("catalogue", "refresh")  # what the worker's job runs
    assert Snapshot.objects.using("territory").count() == 2
    out = io.StringIO()
    monkeypatch.setattr(sources.ProcedureStatistics, "records", broken)
    services.refresh(dataset)
    call_command("catalogue", "list", stdout=out)
    assert "failing since" in out.getvalue() and "the source is down" in out.getvalue()
    err = io.StringIO()
    call_command("catalogue", "prune", "--keep", "1", stderr=err)
    assert Snapshot.objects.using("territory").count() == 1
    assert "1 file(s) deleted" in err.getvalue()


def test_a_lost_snapshot_file_is_read_live_then_rebuilt(ccphva, settings):
    statistic("etat-civil")
    dataset = publish(ccphva)
    services.refresh(dataset)
    lost = Snapshot.objects.using("territory").get()
    (settings.ALZETTE_CATALOGUE_DIR / lost.path).unlink()  # a restore without snapshots/
    assert services.freshness(dataset).served_from == "live"
    assert [r["procedure"] for r in csv_rows(dataset)] == ["etat-civil"]
    assert services.refresh_due() == 1
    assert services.freshness(dataset).served_from == "snapshot"


def test_the_api_and_the_page_say_which_version_they_serve(ccphva):
    statistic("etat-civil", 3)
    dataset = publish(ccphva)
    url = f"/api/v1/territory/datasets/{dataset.identifier}"
    assert Client().get(url).json()["served_from"] == "live"
    services.refresh(dataset)
    body = Client().get(url).json()
    taken = Snapshot.objects.using("territory").get().taken_at
    assert body["served_from"] == "snapshot"
    assert parse_datetime(body["snapshot_taken_at"]) == taken.replace(
        microsecond=taken.microsecond // 1000 * 1000
    )
