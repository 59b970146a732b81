"""The document store's domain: publishing, refusals that leave nothing behind,
changes, deletion, links to entities, the ledger, and who may do what."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import translation

from alzette.ledger.models import LedgerEntry
from alzette.territory.documents import authz, index, services
from alzette.territory.documents.errors import DocumentError
from alzette.territory.documents.models import Document, DocumentLink, LedgerRecord
from tests import test_documents_samples as samples
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

AUDUN, VILLERUPT = "57038", "54580"


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    return samples.use_document_store(settings, tmp_path)


def publish(actor, content=None, name="rapport.pdf", **metadata):
    metadata.setdefault("licence", "etalab-2.0")
    metadata.setdefault("language", "fr")
    metadata.setdefault("communes", [AUDUN])
    content = samples.pdf("Rapport annuel") if content is None else content
    return services.publish(io.BytesIO(content), name, actor=actor, **metadata)


def index_size() -> int:
    with connections["territory"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM documents_search")
        return cursor.fetchone()[0]


def nothing_written(store, ledger_before: int = 0) -> None:
    assert Document.objects.count() == 0
    assert samples.stored_files(store) == []
    assert index_size() == 0
    assert LedgerEntry.objects.using("ledger").count() == ledger_before
    assert LedgerRecord.objects.count() == 0


# --- Publishing -----------------------------------------------------------------------------


def test_a_document_is_stored_with_its_facts_metadata_and_ledger_entry(store, agent_audun):
    content = samples.pdf("Plan de rénovation", "Page 2", title="Plan déclaré", language="fr")
    document = publish(
        agent_audun,
        content,
        "Plan rénovation.PDF",
        title="",
        description="Le plan pluriannuel",
        author="Service urbanisme",
        publisher="Mairie d'Audun-le-Tiche",
        issued=date(2025, 6, 1),
    )
    assert document.urn == f"urn:ngsi-ld:Document:{document.pk}"
    assert document.title == "Plan déclaré"  # the file's own title when none is given
    assert document.file_name == "Plan rénovation.pdf"
    assert document.media_type == "application/pdf"
    assert document.size == len(content)
    assert len(document.sha256) == 64
    assert document.technical["page_count"] == 2
    assert "Plan de rénovation" in document.text
    assert document.commune_codes == [AUDUN]
    assert document.created_by == agent_audun.pseudonym
    [path] = samples.stored_files(store)
    assert path.read_bytes() == content and "rénovation" not in path.name
    assert index_size() == 1
    [record] = LedgerRecord.objects.all()
    assert record.kind == "document.published" and record.document_id == document.pk
    entry = LedgerEntry.objects.using("ledger").get(index=record.leaf_index)
    assert (entry.kind, entry.actor, entry.object) == (
        "document.published",
        agent_audun.pseudonym,
        f"document:{document.pk}",
    )
    from alzette.ledger.entries import opens

    assert opens(entry.commitment, record.payload, record.salt)
    assert record.payload["sha256"] == document.sha256


def test_the_ledger_knows_the_stores_kinds():
    from alzette.ledger.entries import KINDS

    source = Path(services.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"(document\.[a-z]+)"', source))
    assert used == {
        "document.published",
        "document.changed",
        "document.deleted",
        "document.linked",
        "document.unlinked",
    }
    assert used <= KINDS


def test_language_and_title_default_to_what_the_file_declares(agent_audun):
    document = publish(
        agent_audun,
        samples.docx("Text", title="Windpark", language="de-DE"),
        "w.docx",
        language="",
    )
    assert (document.language, document.title) == ("de", "Windpark")
    document = publish(agent_audun, samples.image("PNG"), "Façade nord.png", language="fr")
    assert document.title == "Façade nord"
    assert document.technical["width"] == 32


def test_a_language_is_required_when_the_file_declares_none(store, agent_audun):
    with pytest.raises(ValidationError) as caught:
        publish(agent_audun, samples.docx("Texte"), "t.docx", language="")
    assert "language" in caught.value.message_dict
    nothing_written(store)


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "vide.pdf", "empty"),
        (b"<html><body>hello</body></html>", "page.html", "unsupported_type"),
        (samples._zip([("a.txt", "x")]), "archive.zip", "unsupported_type"),
        (samples.docx("m", macro=True), "macro.docm", "unsupported_type"),
        (samples.image("PNG"), "photo.pdf", "type_mismatch"),
        (samples.pdf("x"), "rapport.docx", "type_mismatch"),
        (samples.corrupt_pdf(), "casse.pdf", "corrupt"),
        (samples.encrypted_pdf(), "secret.pdf", "encrypted"),
        (samples.image("PNG")[:70], "tronque.png", "corrupt"),
        (samples.docx("x")[:-30], "tronque.docx", "corrupt"),
    ],
    ids=[
        "empty",
        "html",
        "zip",
        "docm",
        "png-as-pdf",
        "pdf-as-docx",
        "corrupt-pdf",
        "encrypted-pdf",
        "truncated-png",
        "truncated-docx",
    ],
)
def test_bad_files_are_refused_with_a_code_and_leave_nothing(
    store, agent_audun, content, name, code
):
    with translation.override("en"), pytest.raises(DocumentError) as caught:
        publish(agent_audun, content, name)
    assert caught.value.code == code
    assert caught.value.message
    nothing_written(store)


def test_a_file_too_large_is_refused_before_it_is_read_whole(store, agent_audun, settings):
    settings.ALZETTE_DOCUMENTS_MAX_BYTES = 1000
    with translation.override("en"), pytest.raises(DocumentError) as caught:
        publish(agent_audun, samples.pdf("x" * 2000) + b" " * 1000)
    assert caught.value.code == "too_large"
    assert caught.value.message == "The file is too large: 1,000 bytes at most."
    nothing_written(store)


def test_the_same_file_twice_is_a_duplicate(store, agent_audun):
    first = publish(agent_audun)
    with pytest.raises(DocumentError) as caught:
        publish(agent_audun)
    assert caught.value.code == "duplicate"
    assert caught.value.details == {"document": str(first.pk)}
    assert Document.objects.count() == 1 and len(samples.stored_files(store)) == 1


@pytest.mark.parametrize(
    "metadata",
    [
        {"licence": "WTFPL"},
        {"language": "es"},
        {"title": "x" * 301},
        {"title": "nul\x00"},
        {"communes": ["99999"]},
        {"communes": ["not-a-code"]},
    ],
)
def test_bad_metadata_is_refused_before_the_file_is_read(store, agent_epci, metadata):
    with pytest.raises(ValidationError):
        publish(agent_epci, **metadata)
    nothing_written(store)


def test_a_failing_index_leaves_no_row_no_file_and_no_ledger_entry(store, agent_audun, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("index down")

    monkeypatch.setattr(index, "put", broken)
    with pytest.raises(RuntimeError):
        publish(agent_audun)
    nothing_written(store)


def test_a_failing_ledger_leaves_no_row_no_file_and_no_index_entry(store, agent_audun, monkeypatch):
    from alzette.ledger import services as ledger

    def broken(*args, **kwargs):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(ledger, "record", broken)
    with pytest.raises(RuntimeError):
        publish(agent_audun)
    nothing_written(store)


def test_a_failing_storage_leaves_no_row(store, agent_audun, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "save", broken)
    with pytest.raises(OSError):
        publish(agent_audun)
    nothing_written(store)


# --- Who may publish ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["citizen", "partner"])
def test_citizens_and_partners_may_not_publish(store, request, persona):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        publish(actor)
    nothing_written(store)


def test_anonymous_may_not_publish(store):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        publish(AnonymousUser())


def test_a_commune_agent_publishes_for_that_commune_only(store, agent_audun):
    with pytest.raises(PermissionDenied):
        publish(agent_audun, communes=[VILLERUPT])
    with pytest.raises(PermissionDenied):
        publish(agent_audun, communes=[AUDUN, VILLERUPT])
    with pytest.raises(PermissionDenied):
        publish(agent_audun, communes=[])  # the whole EPCI
    nothing_written(store)
    assert publish(agent_audun, communes=[AUDUN]).commune_codes == [AUDUN]


def test_epci_agents_and_administrators_publish_for_every_commune(agent_epci, administrator):
    assert publish(agent_epci, communes=[]).commune_codes == []
    document = publish(administrator, samples.pdf("autre"), communes=[AUDUN, VILLERUPT])
    assert document.commune_codes == [VILLERUPT, AUDUN]


def test_an_agent_of_a_service_acts_for_its_commune(units):
    from alzette.personal.accounts.models import OrganisationalUnit, Role
    from tests.factories import UserFactory

    service = OrganisationalUnit.objects.filter(parent__code=AUDUN).first()
    agent = UserFactory(role=Role.AGENT, unit=service)
    assert authz.commune_scope(agent) == frozenset({AUDUN})


def test_abilities_per_persona(
    agent_audun, agent_villerupt, agent_epci, administrator, citizen, partner
):
    from django.contrib.auth.models import AnonymousUser

    document = publish(agent_audun, public=False)
    expected = {
        "anonymous": (AnonymousUser(), False, False),
        "citizen": (citizen, False, False),
        "partner": (partner, False, False),
        "agent_villerupt": (agent_villerupt, True, False),
        "agent_audun": (agent_audun, True, True),
        "agent_epci": (agent_epci, True, True),
        "administrator": (administrator, True, True),
    }
    for name, (actor, view, write) in expected.items():
        abilities = authz.abilities(actor, document)
        assert abilities["view"] is view, name
        assert abilities["download"] is view, name
        assert abilities["update"] is abilities["delete"] is abilities["link"] is write, name
    services.update(document, {"public": True}, actor=agent_audun)
    document.refresh_from_db()
    assert authz.abilities(citizen, document)["view"] is True
    assert authz.abilities(None)["create"] is False


# --- Changing and deleting ------------------------------------------------------------------


def test_metadata_changes_are_validated_recorded_and_reindexed(agent_audun):
    document = publish(agent_audun)
    services.update(
        document,
        {"title": "Budget primitif", "licence": "CC-BY-4.0", "issued": date(2026, 1, 2)},
        actor=agent_audun,
    )
    document.refresh_from_db()
    assert (document.title, document.licence) == ("Budget primitif", "CC-BY-4.0")
    assert services.search("budget").hits[0].document.pk == document.pk
    record = LedgerRecord.objects.get(kind="document.changed")
    assert record.payload["changes"] == {
        "title": "Budget primitif",
        "licence": "CC-BY-4.0",
        "issued": "2026-01-02",
    }
    with pytest.raises(ValidationError):
        services.update(document, {"licence": "nope"}, actor=agent_audun)
    document.refresh_from_db()
    assert document.licence == "CC-BY-4.0"


def test_an_unchanged_update_records_nothing(agent_audun):
    document = publish(agent_audun)
    services.update(document, {"title": document.title, "communes": [AUDUN]}, actor=agent_audun)
    assert not LedgerRecord.objects.filter(kind="document.changed").exists()


def test_communes_change_within_the_agents_scope(agent_audun, agent_epci):
    document = publish(agent_audun)
    with pytest.raises(PermissionDenied):
        services.update(document, {"communes": [VILLERUPT]}, actor=agent_audun)
    services.update(document, {"communes": [AUDUN, VILLERUPT]}, actor=agent_epci)
    document.refresh_from_db()
    assert document.commune_codes == [VILLERUPT, AUDUN]
    # Now about two communes: beyond the Audun agent's reach.
    with pytest.raises(PermissionDenied):
        services.update(document, {"title": "x"}, actor=agent_audun)


def test_another_communes_agent_may_not_change_or_delete(agent_audun, agent_villerupt):
    document = publish(agent_audun)
    with pytest.raises(PermissionDenied):
        services.update(document, {"title": "x"}, actor=agent_villerupt)
    with pytest.raises(PermissionDenied):
        services.delete(document, actor=agent_villerupt)
    assert Document.objects.filter(pk=document.pk).exists()


def test_deleting_removes_row_links_index_and_then_the_file(
    store, agent_audun, django_capture_on_commit_callbacks
):
    document = publish(agent_audun)
    services.link(document, "urn:ngsi-ld:Building:12", "refRenovationFile", actor=agent_audun)
    with django_capture_on_commit_callbacks(using="territory", execute=True):
        services.delete(document, actor=agent_audun)
    assert Document.objects.count() == 0 and DocumentLink.objects.count() == 0
    assert index_size() == 0
    assert samples.stored_files(store) == []
    kinds = list(LedgerRecord.objects.values_list("kind", flat=True))
    assert kinds == ["document.published", "document.linked", "document.deleted"]


def test_orphan_files_are_purged_and_kept_ones_not(store, agent_audun):
    document = publish(agent_audun)
    orphan = store / "2020" / "01" / "orphan.pdf"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"%PDF")
    assert services.purge_orphans(older_than=timedelta(0), dry_run=True) == ["2020/01/orphan.pdf"]
    assert orphan.exists()
    assert services.purge_orphans(older_than=timedelta(0)) == ["2020/01/orphan.pdf"]
    assert not orphan.exists()
    assert services.open_file(document).read(4) == b"%PDF"


# --- Links to entities ----------------------------------------------------------------------


def test_links_to_entities_and_the_brokers_view_of_them(agent_audun, agent_epci):
    renovation = publish(agent_audun, title="Dossier de rénovation")
    permit = publish(agent_epci, samples.pdf("permis"), title="Permis", communes=[], public=False)
    building, farm = "urn:ngsi-ld:Building:12", "urn:ngsi-ld:WindFarm:audun"
    services.link(renovation, building, "refRenovationFile", actor=agent_audun)
    services.link(permit, farm, "refPermit", actor=agent_epci)
    services.link(permit, building, "refPermit", actor=agent_epci)

    public_links = services.links_for_entity(building)
    assert [(link.relationship, link.document_urn) for link in public_links] == [
        ("refRenovationFile", renovation.urn)
    ]
    every_link = services.links_for_entity(building, include_private=True)
    assert [link.relationship for link in every_link] == ["refPermit", "refRenovationFile"]
    assert every_link[0].title == "Permis" and every_link[0].public is False
    assert services.documents_for_entity(farm) == []
    assert services.documents_for_entity(farm, include_private=True) == [permit]
    assert services.documents_for_entity(building, "refRenovationFile") == [renovation]
    found = services.find(None, services.Filters(entity=building))
    assert list(found) == [renovation]


def test_a_link_is_validated_unique_and_removable(agent_audun, agent_villerupt):
    document = publish(agent_audun)
    link = services.link(document, "urn:ngsi-ld:Building:12", "refPermit", actor=agent_audun)
    with pytest.raises(DocumentError) as caught:
        services.link(document, "urn:ngsi-ld:Building:12", "refPermit", actor=agent_audun)
    assert caught.value.code == "link_exists"
    for entity, relationship in (
        ("not a uri", "refPermit"),
        ("urn:ngsi-ld:Building:12", "1bad"),
        ("urn:ngsi-ld:Building:12", "ref permit"),
        ("urn:ngsi-ld:Building:12", "type"),
        ("urn:ngsi-ld:Building:" + "9" * 300, "refPermit"),
    ):
        with pytest.raises(ValidationError):
            services.link(document, entity, relationship, actor=agent_audun)
    with pytest.raises(PermissionDenied):
        services.link(document, "urn:ngsi-ld:Building:13", "refPermit", actor=agent_villerupt)
    with pytest.raises(PermissionDenied):
        services.unlink(link, actor=agent_villerupt)
    services.unlink(link, actor=agent_audun)
    assert not DocumentLink.objects.exists()
    assert LedgerRecord.objects.filter(kind="document.unlinked").count() == 1


# --- Finding ----------------------------------------------------------------------------------


def test_find_filters_and_hides_private_documents(agent_audun, agent_epci, citizen):
    publish(agent_audun, samples.pdf("a"), "a.pdf", language="fr")
    publish(
        agent_epci,
        samples.docx("b"),
        "b.docx",
        language="de",
        licence="CC-BY-4.0",
        communes=[VILLERUPT],
    )
    publish(agent_epci, samples.image("PNG"), "c.png", language="en", public=False, communes=[])

    def titles(actor, **filters):
        return sorted(d.file_name for d in services.find(actor, services.Filters(**filters)))

    assert titles(citizen) == ["a.pdf", "b.docx"]
    assert titles(agent_audun) == ["a.pdf", "b.docx", "c.png"]
    assert titles(citizen, language="de") == ["b.docx"]
    assert titles(citizen, licence="CC-BY-4.0") == ["b.docx"]
    assert titles(citizen, commune=AUDUN) == ["a.pdf"]
    assert titles(citizen, media_type="image/png") == []
    assert titles(agent_audun, media_type="image/png") == ["c.png"]
    assert titles(agent_audun, public=False) == ["c.png"]


def test_queries_are_checked():
    for query in ("", "   ", "x" * 201, "a\x00b"):
        with pytest.raises(ValidationError):
            services.search(query)


def test_content_disposition_offers_the_exact_name():
    assert services.content_disposition("Plan d'été.pdf") == (
        "attachment; filename=\"Plan d'ete.pdf\"; filename*=UTF-8''Plan%20d%27%C3%A9t%C3%A9.pdf"
    )
    assert services.content_disposition('"x".pdf', "inline").startswith('inline; filename="x.pdf"')


def test_the_maintenance_command(store, agent_audun, capsys):
    from django.core.management import call_command

    publish(agent_audun)
    orphan = store / "orphan.pdf"
    orphan.write_bytes(b"%PDF")
    call_command("documents", "reindex")
    assert "1 document(s) indexed." in capsys.readouterr().err
    call_command("documents", "purge-orphans", "--older-than-hours", "0", "--dry-run")
    assert capsys.readouterr().out.strip() == "orphan.pdf"
    assert orphan.exists()
    call_command("documents", "purge-orphans", "--older-than-hours", "0")
    assert not orphan.exists()
    assert index_size() == 1
