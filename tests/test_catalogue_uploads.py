"""Uploaded files as datasets: validated with frictionless against the French national
schemas, stored with their digest, recorded in the ledger, served as rows with points."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from alzette.ledger.models import LedgerEntry
from alzette.territory.catalogue import downloads, services, uploads
from alzette.territory.catalogue.demo import CARPOOLING_COLUMNS, carpooling_csv
from alzette.territory.catalogue.models import Dataset, DatasetFile, LedgerRecord, Organisation
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in the source language; the interface defaults to French.
    from django.utils import translation

    with translation.override("en"):
        yield


SCHEMA = "schema-lieux-covoiturage"


@pytest.fixture
def ccphva():
    return Organisation.objects.using("territory").create(slug="ccphva", name="CCPHVA")


def publish(org, identifier="covoiturage", **fields):
    defaults = {"title": {"fr": "Lieux de covoiturage"}, "licence": "etalab-2.0",
                "themes": ["TRAN"], "source": "uploaded-file",
                "source_options": {"schema": SCHEMA}, "frequency": "IRREG"}  # fmt: skip
    return services.publish(org, identifier, **{**defaults, **fields})


def places(*rows: dict[str, str], delimiter: str = ",") -> bytes:
    """A carpooling CSV: the given cells over a valid row of Audun-le-Tiche."""
    valid = {"id_local": "AUD-01", "nom_lieu": "Gare", "insee": "57038", "type": "Parking",
             "date_maj": "2026-09-01", "ouvert": "true", "Xlong": "5.9561", "Ylat": "49.4712",
             "nbre_pl": "60", "com_lieu": "Audun-le-Tiche"}  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(CARPOOLING_COLUMNS)
    for row in rows or ({},):
        cells = {**valid, **row}
        writer.writerow([cells.get(name, "") for name in CARPOOLING_COLUMNS])
    return out.getvalue().encode()


def stored_files(settings) -> list[str]:
    folder = settings.ALZETTE_CATALOGUE_DIR / "files"
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_a_valid_file_becomes_the_dataset_rows(ccphva, settings):
    dataset = publish(ccphva)
    data = places({}, {"id_local": "VIL-01", "insee": "54580", "Xlong": "5.9287",
                       "Ylat": "49.4671", "com_lieu": "Villerupt", "lumiere": "false"})  # fmt: skip
    stored = services.upload(dataset, "places.csv", data)
    assert stored.row_count == 2 and stored.schema_name == SCHEMA
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert (settings.ALZETTE_CATALOGUE_DIR / stored.path).read_bytes() == data
    assert stored.report["valid"] is True
    dataset.refresh_from_db()
    assert dataset.row_count == 2 and dataset.refresh_error == ""
    assert dataset.extent == [5.9287, 49.4671, 5.9561, 49.4712]
    rows = list(services.records(dataset))
    assert rows[0].values["nbre_pl"] == 60 and rows[0].values["ouvert"] is True
    assert rows[0].values["Xlong"] == 5.9561 and rows[0].values["date_maj"] == "2026-09-01"
    assert rows[1].values["lumiere"] is False and rows[1].values["duree"] is None
    assert rows[1].geometry == {"type": "Point", "coordinates": [5.9287, 49.4671]}
    fields = {f.name: f.type for f in services.fields(dataset)}
    assert fields["nbre_pl"] == "integer" and fields["ouvert"] == "boolean"


def test_an_upload_is_recorded_in_the_ledger_by_its_digest(ccphva):
    dataset = publish(ccphva)
    stored = services.upload(dataset, "Données de Jeanne.csv", places(), actor="a" * 32)
    record = LedgerRecord.objects.using("territory").get(kind="dataset.file_uploaded")
    assert record.payload["file"] == {"sha256": stored.sha256, "size": stored.size, "rows": 1,
                                      "schema": SCHEMA}  # fmt: skip
    assert "Jeanne" not in json.dumps(record.payload)  # the name stays out of the ledger
    entry = LedgerEntry.objects.using("ledger").get(index=record.leaf_index)
    assert entry.kind == "dataset.file_uploaded" and entry.actor == "a" * 32


def test_the_downloads_of_an_uploaded_file(ccphva):
    publish(ccphva)
    dataset = Dataset.objects.using("territory").get()
    services.upload(dataset, "places.csv", places({}, {"id_local": "AUD-02"}))
    client = Client()
    text = b"".join(client.get("/api/v1/territory/datasets/covoiturage/data.csv")
                    .streaming_content).decode("utf-8-sig")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id_local"] for r in rows] == ["AUD-01", "AUD-02"]
    assert json.loads(rows[0]["geometry"])["coordinates"] == [5.9561, 49.4712]
    geo = json.loads(b"".join(client.get("/api/v1/territory/datasets/covoiturage/data.geojson")
                              .streaming_content))  # fmt: skip
    assert len(geo["features"]) == 2 and geo["features"][0]["properties"]["insee"] == "57038"


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"insee": "5703"}, "insee"),
        ({"type": "Parking payant"}, "type"),
        ({"ouvert": "oui"}, "ouvert"),
        ({"Ylat": "quarante-neuf"}, "Ylat"),
        ({"nbre_pl": "-3"}, "nbre_pl"),
        ({"id_local": ""}, "id_local"),
        ({"date_maj": "01/09/2026"}, "date_maj"),
    ],
)
def test_invalid_rows_are_refused_with_their_row_and_field(ccphva, cells, field):
    dataset = publish(ccphva)
    with pytest.raises(uploads.InvalidFile) as refused:
        services.upload(dataset, "places.csv", places({}, cells))
    problem = next(p for p in refused.value.problems if p["field"] == field)
    assert problem["row"] == 3  # the header is row 1, the good row 2
    assert any(f"row 3, field {field}" in line for line in refused.value.message_dict["file"])


def test_a_refused_file_leaves_the_previous_one(ccphva, settings):
    dataset = publish(ccphva)
    good = services.upload(dataset, "places.csv", places())
    before = stored_files(settings)
    with pytest.raises(ValidationError):
        services.upload(dataset, "places.csv", places({"insee": "ABCDE"}))
    assert list(DatasetFile.objects.using("territory").values_list("pk", flat=True)) == [good.pk]
    assert stored_files(settings) == before  # nothing staged is left behind
    assert [r.values["id_local"] for r in services.records(dataset)] == ["AUD-01"]
    kinds = LedgerRecord.objects.using("territory").values_list("kind", flat=True)
    assert list(kinds).count("dataset.file_uploaded") == 1


def test_a_failure_while_recording_keeps_nothing(ccphva, settings, monkeypatch):
    from alzette.ledger import services as ledger

    dataset = publish(ccphva)

    def down(*args, **kwargs):
        raise RuntimeError("the ledger is unavailable")

    monkeypatch.setattr(ledger, "record", down)
    with pytest.raises(RuntimeError):
        services.upload(dataset, "places.csv", places())
    assert not DatasetFile.objects.using("territory").exists()
    assert stored_files(settings) == []


def test_missing_columns_are_named(ccphva):
    dataset = publish(ccphva)
    with pytest.raises(uploads.InvalidFile) as refused:
        services.upload(dataset, "places.csv", b"id_local,nom_lieu\r\nA,B\r\n")
    fields = {p["field"] for p in refused.value.problems}
    assert {"insee", "Xlong", "Ylat"} <= fields


def test_semicolons_and_a_byte_order_mark_are_fine(ccphva):
    dataset = publish(ccphva)
    stored = services.upload(dataset, "places.csv", b"\xef\xbb\xbf" + places(delimiter=";"))
    assert stored.encoding == "utf-8-sig" and stored.dialect == {"csv": {"delimiter": ";"}}
    assert next(services.records(dataset)).values["id_local"] == "AUD-01"


def test_a_file_object_is_read_in_chunks(ccphva, monkeypatch):
    monkeypatch.setattr(uploads, "_CHUNK", 50)
    dataset = publish(ccphva)
    data = places(*({"id_local": f"P{n}"} for n in range(40)))
    stored = services.upload(dataset, "places.csv", io.BytesIO(data))
    assert stored.row_count == 40 and stored.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("id_local;nom_lieu\nAUD;Mairie de Rédange\n".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
    ],
)
def test_unreadable_files_are_refused(ccphva, data, message):
    dataset = publish(ccphva)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.upload(dataset, "places.csv", data)
    assert message in " ".join(refused.value.message_dict["file"])
    assert not DatasetFile.objects.using("territory").exists()


def test_a_file_too_large_is_refused(ccphva, settings):
    settings.ALZETTE_CATALOGUE_UPLOAD_MAX_BYTES = 1000
    dataset = publish(ccphva)
    with pytest.raises(ValidationError) as refused:
        services.upload(dataset, "places.csv", places(*({} for _ in range(20))))
    assert "larger than" in refused.value.message_dict["file"][0]
    assert stored_files(settings) == []


def test_only_csv_files_for_now(ccphva):
    dataset = publish(ccphva)
    with pytest.raises(ValidationError) as refused:
        services.upload(dataset, "places.xlsx", b"PK\x03\x04")
    assert "CSV" in refused.value.message_dict["file"][0]


def test_unknown_schemas_are_refused(ccphva):
    dataset = publish(ccphva)
    with pytest.raises(ValidationError) as refused:
        services.upload(dataset, "places.csv", places(), schema="schema-des-licornes")
    assert "schema-lieux-covoiturage" in str(refused.value.message_dict["schema"])
    with pytest.raises(ValidationError) as refused:
        publish(ccphva, "other", source_options={"schema": "schema-des-licornes"})
    assert "source" in refused.value.message_dict


def test_files_go_only_to_datasets_of_uploaded_files(ccphva):
    dataset = publish(ccphva, "communes", source="communes", source_options={})
    with pytest.raises(ValidationError) as refused:
        services.upload(dataset, "places.csv", places())
    assert "source" in refused.value.message_dict


def test_without_a_schema_the_types_are_inferred(ccphva):
    dataset = publish(ccphva, "budget", source_options={}, themes=["ECON"])
    data = "commune,année,montant\r\nAumetz,2025,1250.5\r\nThil,2025,980\r\n".encode()
    stored = services.upload(dataset, "budget.csv", data)
    assert stored.schema_name == ""
    fields = {f.name: f.type for f in services.fields(dataset)}
    assert fields == {"commune": "string", "année": "integer", "montant": "number"}
    assert [r.values["montant"] for r in services.records(dataset)] == [1250.5, 980.0]
    assert not services.is_spatial(dataset)
    header = b"".join(downloads.stream(dataset, "csv")).decode("utf-8-sig").splitlines()[0]
    assert header == "commune,année,montant"  # no geometry column without coordinates
    assert [d.format for d in services.distributions(dataset)] == ["csv", "json"]
    collections = Client().get("/ogc/collections", HTTP_ACCEPT="application/json").json()
    assert "budget" not in [c["id"] for c in collections["collections"]]
    assert Client().get("/data/budget/").context["map"] is None


def test_a_geopoint_column_gives_the_point(ccphva):
    dataset = publish(ccphva, "velos", source_options={"schema": "schema-stationnement-cyclable"})
    names = [f["name"] for f in uploads.schema("schema-stationnement-cyclable")["fields"]]
    cells = {"id_local": "ARC-1", "code_com": "57038", "coordonneesxy": "[5.9571, 49.4706]",
             "capacite": "8", "type_accroche": "CADRE"}  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(names)
    writer.writerow([cells.get(n, "") for n in names])
    services.upload(dataset, "arceaux.csv", out.getvalue().encode())
    record = next(services.records(dataset))
    assert record.id == "ARC-1"  # the schema's primary key
    assert record.geometry == {"type": "Point", "coordinates": [5.9571, 49.4706]}
    assert record.values["coordonneesxy"] == [5.9571, 49.4706]


def test_the_demo_places_follow_the_national_schema(ccphva):
    dataset = publish(ccphva)
    stored = services.upload(dataset, "lieux.csv", carpooling_csv())
    assert stored.row_count == 8
    communes = {r.values["com_lieu"] for r in services.records(dataset)}
    assert communes == {"Audun-le-Tiche", "Villerupt", "Aumetz", "Boulange", "Ottange",
                        "Rédange", "Russange", "Thil"}  # fmt: skip


def test_the_upload_command(ccphva, tmp_path):
    publish(ccphva)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(places())
    bad.write_bytes(places({"type": "Héliport"}))
    err = io.StringIO()
    call_command("catalogue", "upload", "covoiturage", str(good), stderr=err)
    assert "1 row(s) uploaded" in err.getvalue()
    with pytest.raises(CommandError) as refused:
        call_command("catalogue", "upload", "covoiturage", str(bad), "--schema", SCHEMA)
    assert "previous one is kept" in str(refused.value) and "field type" in str(refused.value)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("catalogue", "upload", "covoiturage", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="No dataset"):
        call_command("catalogue", "upload", "nothing", str(good))
    assert DatasetFile.objects.using("territory").count() == 1
