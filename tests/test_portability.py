"""Reversibility: `alzette export` and `alzette import` of an organisation.

The round trip exports an organisation with datasets, entities and their history,
a device mapping, a user @context and procedure definitions, deletes all of it,
imports the archive and compares everything. Then the refusals: a corrupted
archive, another format version, an unknown organisation, conflicts under each
policy, a dry run, and a failure half-way that must leave nothing behind.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from alzette.ledger.models import LedgerEntry
from alzette.personal.accounts.models import PartnerOrganisation
from alzette.personal.procedures.models import Procedure, ProcedureVersion
from alzette.portability import personal_procedures, records, services
from alzette.portability.plan import CONFLICT, CREATE, INVALID, UNCHANGED, UPDATE
from alzette.territory.catalogue import services as catalogue
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.ngsild import entities, jsonld, ldcontexts, mapping, security, temporal
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.models import (
    AttributeInstance,
    AttributeRollup,
    DeviceMapping,
    Entity,
    JsonLdContext,
)
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import EXAMPLE, NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

T = "territory"
SLUG = "valdata"
CONTEXT_URL = "https://valdata.example/context.jsonld"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BIN = "https://example.org/ns/Bin"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"


def _op(tenant: str, moment: datetime) -> entities.Op:
    return entities.Op(tenant, jsonld.resolve(EXAMPLE), "system:test", now=moment)


def _bin(entity_id: str, fill: float) -> dict:
    return {
        "id": entity_id,
        "type": "Bin",
        "fill": {
            "type": "Property", "value": fill, "unitCode": "P1",
            "observedAt": "2026-03-01T08:00:00Z",
            "colour": {"type": "Property", "value": "green"},
        },
        "name": {"type": "LanguageProperty", "languageMap": {"fr": "Bac", "en": "Bin"}},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Organisation:valdata"},
        "location": {"type": "GeoProperty",
                     "value": {"type": "Point", "coordinates": [5.98, 49.47]}},
        "temperature": [
            {"type": "Property", "value": 11, "datasetId": "urn:ngsi-ld:Dataset:a"},
            {"type": "Property", "value": 12, "datasetId": "urn:ngsi-ld:Dataset:b"},
        ],
    }  # fmt: skip


@pytest.fixture
def valdata(territory, procedures):
    """An organisation with two datasets, entities with history in its tenant and in the
    shared one, a device mapping, a @context, a key, and the demo procedures."""
    org = Organisation.objects.using(T).create(
        slug=SLUG, name="Val Data", kind="company", contact_email="data@valdata.example"
    )
    common = {"licence": "etalab-2.0", "themes": ["REGI"], "frequency": "ANNUAL"}
    catalogue.publish(org, "valdata-communes", title={"fr": "Communes", "en": "Communes"},
                      source="communes", source_options={}, keywords=["limites"],
                      communes=["57038"], **common)  # fmt: skip
    catalogue.publish(org, "valdata-bins", title={"fr": "Bacs"}, source="ngsild-entities",
                      source_options={"type": BIN}, **common)  # fmt: skip
    for n, tenant in enumerate((SLUG, SLUG, "")):
        entity_id = f"urn:ngsi-ld:Bin:{tenant or 'shared'}-{n}"
        entities.create(_op(tenant, START), _bin(entity_id, 0.1 * n))
        for hours in (1, 2):
            moment = START + timedelta(hours=hours)
            fill = {"type": "Property", "value": 0.2 * hours, "observedAt": rep.iso(moment)}
            entities.append(_op(tenant, moment), entity_id, {"fill": fill})
    entities.create(_op("", START), {"id": "urn:ngsi-ld:Other:1", "type": "Other"})
    meter = {"id": "urn:ngsi-ld:Meter:1", "type": "Meter", "temperature": [
        {"type": "Property", "value": v, "observedAt": rep.iso(START + timedelta(minutes=15 * v))}
        for v in range(12)
    ]}  # fmt: skip
    assert NgsiLd(tenant=SLUG).post("/temporal/entities", meter).status_code == 201
    mapping.define(name="valdata-bins", container="valdata/*/fill", entity_type="Bin",
                   entity_id="urn:ngsi-ld:Bin:{ae}", attribute="fill", context=EXAMPLE,
                   tenant=SLUG)  # fmt: skip
    ldcontexts.add({"@context": EXAMPLE}, "", url=CONTEXT_URL)
    JsonLdContext.objects.using(T).filter(url=CONTEXT_URL).update(tenant=SLUG)
    security.issue("Val Data", [SLUG])
    PartnerOrganisation.objects.create(name="Val Data SAS", organisation_slug=SLUG)
    return org


def state() -> dict:
    """Everything the archive should give back, in comparable form."""
    org = Organisation.objects.using(T).get(slug=SLUG)
    mine = {"tenant__in": [SLUG, ""]}
    rows = Entity.objects.using(T).filter(**mine).exclude(entity_id__contains="Other")
    history = AttributeInstance.objects.using(T).filter(**mine)
    return {
        "organisation": records.dump(org),
        "datasets": {d.identifier: records.dump(d) for d in Dataset.objects.using(T)
                     .filter(organisation=org)},
        "entities": sorted(
            (r.tenant, r.entity_id, r.types, r.scope, r.body, rep.iso(r.created_at),
             rep.iso(r.modified_at)) for r in rows
        ),
        "history": sorted(
            (h.tenant, h.entity_id, h.attribute, h.dataset_id, rep.iso(h.observed_at),
             rep.iso(h.recorded_at), h.number, json.dumps(h.instance, sort_keys=True))
            for h in history.exclude(entity_id__contains="Other")
        ),
        "rollups": sorted(
            (r.tenant, r.entity_id, r.attribute, r.hour.isoformat(), r.count, r.total)
            for r in AttributeRollup.objects.using(T).filter(tenant__in=[SLUG, ""])
        ),
        "mappings": [records.dump(m) for m in DeviceMapping.objects.using(T).order_by("name")],
        "contexts": [(c.url, c.tenant, c.document) for c in JsonLdContext.objects.using(T)],
        "procedures": {
            p.slug: (records.dump(p), p.unit.code,
                     [records.dump(v) for v in p.versions.order_by("number")],
                     sorted((g.name, g.unit.code) for g in p.groups.all()))
            for p in Procedure.objects.all()
        },
        "partner": [records.dump(p) for p in PartnerOrganisation.objects.all()],
    }  # fmt: skip


def wipe() -> None:
    """Delete what the archive holds, through the domains' own functions."""
    for row in Entity.objects.using(T).filter(tenant__in=[SLUG, ""]):
        entities.delete(entities.Op(row.tenant, jsonld.core()), row.entity_id)
        temporal.delete_history(row.tenant, row.entity_id)
    for dataset in Dataset.objects.using(T).all():
        catalogue.withdraw(dataset)
    Organisation.objects.using(T).filter(slug=SLUG).delete()
    DeviceMapping.objects.using(T).all().delete()
    JsonLdContext.objects.using(T).all().delete()
    Procedure.objects.all().delete()
    PartnerOrganisation.objects.all().delete()


def export(path, **options):
    return services.export(SLUG, path, procedures_unit="CCPHVA", **options)


def test_round_trip_gives_everything_back(valdata, tmp_path):
    before = state()
    assert len(before["entities"]) == 4 and len(before["history"]) > 20
    first = export(tmp_path / "valdata.zip")
    wipe()
    assert not Entity.objects.using(T).filter(tenant=SLUG).exists()
    assert not Procedure.objects.exists()

    done = services.import_archive(tmp_path / "valdata.zip")

    assert state() == before
    assert done.counts["entities"] == 4 and done.counts["procedures"] == len(before["procedures"])
    # Exported again, the entities and their history are the same bytes.
    second = export(tmp_path / "again")
    hashes = [{p["path"]: p["sha256"] for p in e.manifest["parts"]} for e in (first, second)]
    for path in hashes[0]:
        if path.startswith(("territory/ngsild/", "personal/")) or path.endswith(".csv"):
            assert hashes[1][path] == hashes[0][path], path


def test_archive_is_open_formats_with_a_manifest(valdata, tmp_path):
    done = export(tmp_path / "valdata.zip")
    with zipfile.ZipFile(tmp_path / "valdata.zip") as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        own = [json.loads(line) for line in archive.read(
            "territory/ngsild/own/entities.jsonl").decode().splitlines()]  # fmt: skip
        csv = archive.read("territory/catalogue/data/valdata-communes.csv").decode("utf-8-sig")
        dcat = json.loads(archive.read("territory/catalogue/dcat.jsonld"))
    assert manifest == done.manifest
    assert manifest["format"] == "alzette-organisation" and manifest["format_version"] == 1
    assert manifest["organisation"]["slug"] == SLUG and manifest["source"]
    assert {p["path"] for p in manifest["parts"]} | {"manifest.json"} == names
    assert all(len(p["sha256"]) == 64 for p in manifest["parts"])
    assert {e["id"] for e in own} == {f"urn:ngsi-ld:Bin:{SLUG}-0", f"urn:ngsi-ld:Bin:{SLUG}-1",
                                      "urn:ngsi-ld:Meter:1"}  # fmt: skip
    assert all(e["@context"] == jsonld.CORE and "createdAt" in e for e in own)
    assert csv.splitlines()[0] == "code,name,department,geometry"
    assert "Val Data" in json.dumps(dcat)
    counts = manifest["counts"]["ngsi_ld"]["tenants"]
    assert counts["shared"]["entities"] == 1  # the Bin behind its dataset, not "Other"
    # Secrets never travel: the key is listed to be issued again.
    text = json.dumps(manifest)
    assert "secret_hash" not in text and "prefix" not in text
    assert [i["kind"] for i in manifest["to_reissue"]] == ["ngsi-ld-api-key"]
    entry = LedgerEntry.objects.using("ledger").order_by("-index").first()
    assert (entry.kind, entry.object) == ("organisation.exported", f"organisation:{SLUG}")
    assert manifest["ledger"]["leaf_index"] == entry.index


def test_import_is_recorded_in_the_ledger(valdata, tmp_path):
    export(tmp_path / "a.zip")
    wipe()
    done = services.import_archive(tmp_path / "a.zip")
    entry = LedgerEntry.objects.using("ledger").get(index=done.opening["leaf_index"])
    assert (entry.kind, entry.object) == ("organisation.imported", f"organisation:{SLUG}")
    kinds = set(LedgerEntry.objects.using("ledger").values_list("kind", flat=True))
    assert {"dataset.published", "entity.created"} <= kinds


def _filled(model, **given):
    """A row of ``model`` with every required field filled, ``given`` first."""
    from django.db import models as m

    values = dict(given)
    for field in model._meta.concrete_fields:
        if field.name in values or field.is_relation or field.primary_key or field.null:
            continue
        if field.has_default() or getattr(field, "auto_now_add", False):
            continue
        if isinstance(field, m.DateTimeField):
            values[field.name] = START
        elif isinstance(field, m.IntegerField):
            values[field.name] = 1
        elif isinstance(field, m.JSONField):
            values[field.name] = {}
        else:
            values[field.name] = f"{field.name}-value"
    return model.objects.using(T).create(**values)


def test_uploaded_files_travel_with_their_dataset(valdata, tmp_path, settings):
    try:
        model = apps.get_model("catalogue", "DatasetFile")
    except LookupError:
        pytest.skip("the catalogue has no uploaded files")
    settings.ALZETTE_CATALOGUE_DIR = tmp_path / "catalogue"
    dataset = Dataset.objects.using(T).get(identifier="valdata-communes")
    relative = "uploads/valdata/communes.csv"
    stored = settings.ALZETTE_CATALOGUE_DIR / relative
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"code;name\r\n57038;Audun\r\n")
    row = _filled(model, dataset=dataset, path=relative, filename="communes.csv")
    before = records.dump(row)
    export(tmp_path / "a.zip")
    wipe()
    stored.unlink()

    done = services.import_archive(tmp_path / "a.zip")

    assert done.counts["attached_rows"] == 1
    again = model.objects.using(T).get(dataset__identifier="valdata-communes")
    assert records.dump(again) == before
    assert stored.read_bytes() == b"code;name\r\n57038;Audun\r\n"


# --- Refusals ---------------------------------------------------------------------------


def _edit_manifest(directory, change) -> None:
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_a_corrupted_file_is_refused(valdata, tmp_path):
    export(tmp_path / "dir")
    wipe()
    target = tmp_path / "dir" / "territory" / "ngsild" / "own" / "entities.jsonl"
    target.write_text(target.read_text().replace('"Bac"', '"Bak"'))
    with pytest.raises(services.PortabilityError, match="does not match the manifest"):
        services.import_archive(tmp_path / "dir")
    assert not Dataset.objects.using(T).exists()


def test_a_file_the_manifest_does_not_list_is_refused(valdata, tmp_path):
    export(tmp_path / "dir")
    (tmp_path / "dir" / "extra.json").write_text("{}")
    with pytest.raises(services.PortabilityError, match="not listed"):
        services.import_archive(tmp_path / "dir", dry_run=True)


def test_another_format_version_is_refused(valdata, tmp_path):
    export(tmp_path / "dir")
    _edit_manifest(tmp_path / "dir", lambda m: m.update(format_version=2))
    with pytest.raises(services.PortabilityError, match="version 2 is not supported"):
        services.import_archive(tmp_path / "dir")


def test_not_an_archive_is_refused(tmp_path):
    (tmp_path / "a.zip").write_text("not a zip")
    with pytest.raises(services.PortabilityError, match="neither a ZIP"):
        services.import_archive(tmp_path / "a.zip")


def test_an_unknown_organisation_or_unit_is_refused(valdata, tmp_path):
    with pytest.raises(services.PortabilityError, match="No organisation"):
        services.export("nobody", tmp_path / "a.zip")
    with pytest.raises(personal_procedures.UnknownUnit):
        services.export(SLUG, tmp_path / "b.zip", procedures_unit="99999")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("export", "nobody", str(tmp_path / "c.zip"))
    assert not any(tmp_path.iterdir())


def test_an_existing_archive_is_not_overwritten(valdata, tmp_path):
    (tmp_path / "a.zip").write_text("keep me")
    with pytest.raises(services.PortabilityError, match="exists"):
        export(tmp_path / "a.zip")
    assert (tmp_path / "a.zip").read_text() == "keep me"


# --- Conflicts ----------------------------------------------------------------------------


def _ledger_size() -> int:
    return LedgerEntry.objects.using("ledger").count()


def test_conflicts_fail_by_default_and_nothing_is_written(valdata, tmp_path):
    export(tmp_path / "a.zip")
    before, size = state(), _ledger_size()
    with pytest.raises(services.Refused) as refused:
        services.import_archive(tmp_path / "a.zip")
    verbs = {(a.kind, a.verb) for a in refused.value.plan.blocking()}
    assert {("organisation", CONFLICT), ("dataset", CONFLICT), ("entity", CONFLICT),
            ("procedure", CONFLICT), ("device_mapping", CONFLICT)} <= verbs  # fmt: skip
    assert "conflict  dataset valdata-bins" in str(refused.value)
    assert state() == before and _ledger_size() == size


def test_skip_keeps_what_exists(valdata, tmp_path):
    export(tmp_path / "a.zip")
    dataset = Dataset.objects.using(T).get(identifier="valdata-bins")
    catalogue.change(dataset, keywords=["changed"])
    Procedure.objects.filter(slug="preinscription-creche").delete()
    done = services.import_archive(tmp_path / "a.zip", on_conflict="skip")
    assert done.plan.verb("dataset", "valdata-bins") == UNCHANGED
    assert done.plan.verb("procedure", "preinscription-creche") == CREATE
    assert Dataset.objects.using(T).get(identifier="valdata-bins").keywords == ["changed"]
    assert Procedure.objects.filter(slug="preinscription-creche").exists()
    assert done.counts["entities"] == 0


def test_replace_puts_back_the_archive(valdata, tmp_path):
    before = state()
    export(tmp_path / "a.zip")
    dataset = Dataset.objects.using(T).get(identifier="valdata-bins")
    catalogue.change(dataset, keywords=["changed"])
    later = START + timedelta(days=3)
    fill = {"type": "Property", "value": 0.99, "observedAt": rep.iso(later)}
    entities.append(_op(SLUG, later), f"urn:ngsi-ld:Bin:{SLUG}-0", {"fill": fill})
    Procedure.objects.filter(slug="preinscription-creche").update(fee_cents=999)
    done = services.import_archive(tmp_path / "a.zip", on_conflict="replace")
    assert done.plan.verb("dataset", "valdata-bins") == UPDATE
    after = state()
    assert after["entities"] == before["entities"] and after["history"] == before["history"]
    assert after["procedures"] == before["procedures"]
    assert after["datasets"]["valdata-bins"]["keywords"] == []


def test_a_dataset_of_another_organisation_is_never_replaced(valdata, tmp_path):
    export(tmp_path / "a.zip")
    wipe()
    other = Organisation.objects.using(T).create(slug="other", name="Other")
    catalogue.publish(other, "valdata-bins", title={"fr": "Autre"}, licence="etalab-2.0",
                      source="communes", source_options={})  # fmt: skip
    with pytest.raises(services.Refused, match="belongs to organisation other"):
        services.import_archive(tmp_path / "a.zip", on_conflict="replace")
    assert not Organisation.objects.using(T).filter(slug=SLUG).exists()


# --- Dry run and all-or-nothing ----------------------------------------------------------


def test_a_dry_run_writes_nothing(valdata, tmp_path):
    export(tmp_path / "a.zip")
    wipe()
    size = _ledger_size()
    done = services.import_archive(tmp_path / "a.zip", dry_run=True)
    assert done.dry_run and not done.counts
    assert done.plan.counts()["entity"] == {CREATE: 4}
    assert done.plan.verb("dataset", "valdata-communes") == CREATE
    assert not Organisation.objects.using(T).filter(slug=SLUG).exists()
    assert not Entity.objects.using(T).filter(tenant=SLUG).exists()
    assert not Procedure.objects.exists() and _ledger_size() == size


def test_the_dry_run_command_prints_the_plan(valdata, tmp_path, capsys):
    export(tmp_path / "a.zip")
    call_command("import", str(tmp_path / "a.zip"), "--dry-run")
    out = capsys.readouterr().out
    assert "Dry run, nothing written" in out
    assert "conflict  dataset valdata-communes" in out
    assert "would be refused" in out


def test_a_failure_half_way_rolls_both_repositories_back(valdata, tmp_path, monkeypatch):
    export(tmp_path / "a.zip")
    wipe()

    def broken(reader, done):
        raise RuntimeError("the personal database went away")

    monkeypatch.setattr(personal_procedures, "apply", broken)
    with pytest.raises(RuntimeError):
        services.import_archive(tmp_path / "a.zip")
    assert not Organisation.objects.using(T).filter(slug=SLUG).exists()
    assert not Entity.objects.using(T).filter(tenant=SLUG).exists()
    assert not AttributeInstance.objects.using(T).filter(tenant=SLUG).exists()
    assert not DeviceMapping.objects.using(T).exists()


def test_an_invalid_object_refuses_the_whole_import(valdata, tmp_path):
    export(tmp_path / "dir")
    wipe()
    path = tmp_path / "dir" / "personal" / "procedures.json"
    data = json.loads(path.read_text())
    data["procedures"][0]["versions"][0]["schema"] = [{"key": "x", "type": "nonsense"}]
    path.write_text(json.dumps(data))

    def rehash(manifest):
        import hashlib

        for part in manifest["parts"]:
            if part["path"] == "personal/procedures.json":
                part["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
                part["bytes"] = path.stat().st_size

    _edit_manifest(tmp_path / "dir", rehash)
    with pytest.raises(services.Refused) as refused:
        services.import_archive(tmp_path / "dir")
    assert [a.kind for a in refused.value.plan.blocking()] == ["procedure"]
    assert refused.value.plan.blocking()[0].verb == INVALID
    assert not Organisation.objects.using(T).filter(slug=SLUG).exists()


def test_the_commands_round_trip(valdata, tmp_path, capsys):
    call_command("export", SLUG, str(tmp_path / "a.zip"), "--procedures", "CCPHVA")
    captured = capsys.readouterr()
    assert "to re-issue on the target: ngsi-ld-api-key" in captured.err
    assert json.loads(captured.out)["leaf_index"] >= 0
    wipe()
    call_command("import", str(tmp_path / "a.zip"))
    assert Organisation.objects.using(T).filter(slug=SLUG).exists()
    assert ProcedureVersion.objects.exists()
    assert "archive verified" in capsys.readouterr().err
