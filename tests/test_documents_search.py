"""Full-text search in documents: accents, case and word endings in French, German
and English; the query syntax; ranking; snippets. Runs on the configured database:
SQLite's FTS5 index, or PostgreSQL's text search (``make test`` runs both)."""

from __future__ import annotations

import io

import pytest
from django.db import connections

from alzette.territory.documents import analysis, index, services
from tests import test_documents_samples as samples
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    return samples.use_document_store(settings, tmp_path)


def publish(actor, content, name, language, **metadata):
    metadata.setdefault("licence", "etalab-2.0")
    return services.publish(io.BytesIO(content), name, actor=actor, language=language, **metadata)


@pytest.fixture
def library(agent_epci):
    """Documents in French, German, English, Luxembourgish and Portuguese."""
    return {
        "fr": publish(
            agent_epci,
            samples.pdf("Plan climat : la rénovation énergétique des bâtiments publics."),
            "plan-climat.pdf",
            "fr",
            title="Plan climat-air-énergie territorial",
        ),
        "de": publish(
            agent_epci,
            samples.docx("Die Straße zum Windpark und die Energie der Gebäude."),
            "windpark.docx",
            "de",
            title="Genehmigung Windpark",
        ),
        "en": publish(
            agent_epci,
            samples.odt("Energy audits of the renovated buildings of the town hall."),
            "audit.odt",
            "en",
            title="Energy audit",
        ),
        "lb": publish(
            agent_epci,
            samples.pptx("Ëffentlech Beliichtung an der Gemeng"),
            "beliichtung.pptx",
            "lb",
            title="Beliichtung",
        ),
        "pt": publish(
            agent_epci,
            samples.xlsx("Eficiência energética dos edifícios"),
            "edificios.xlsx",
            "pt",
            title="Edifícios",
        ),
    }


def found(query, language=None, **kwargs):
    results = services.search(query, language=language, **kwargs)
    return [hit.document.title for hit in results.hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("énergie", "Plan climat-air-énergie territorial"),
        ("ENERGIE", "Plan climat-air-énergie territorial"),
        ("énergétique", "Plan climat-air-énergie territorial"),
        ("renovation batiment", "Plan climat-air-énergie territorial"),
        ("Rénovations Bâtiments", "Plan climat-air-énergie territorial"),
    ],
)
def test_french_ignores_accents_case_and_endings(library, query, expected):
    assert found(query, "fr") == [expected]


@pytest.mark.parametrize("query", ["Straße", "strasse", "STRASSE", "Gebaude", "Gebäuden"])
def test_german_folds_eszett_and_umlauts(library, query):
    assert found(query, "de") == ["Genehmigung Windpark"]


@pytest.mark.parametrize("query", ["energy", "Energies", "renovate", "building"])
def test_english_stems(library, query):
    assert found(query, "en") == ["Energy audit"]


def test_luxembourgish_is_folded_and_portuguese_stemmed(library):
    assert found("effentlech beliichtung", "lb") == ["Beliichtung"]
    assert found("eficiencia edificio", "pt") == ["Edifícios"]


def test_without_a_language_each_document_is_matched_in_its_own(library):
    # "energie" is the French and German word, and stems in English as "energy" does.
    assert set(found("energie")) == {
        "Plan climat-air-énergie territorial",
        "Genehmigung Windpark",
        "Energy audit",
    }
    assert found("energy") == ["Energy audit"]
    assert found("windpark", "fr") == []


def test_query_syntax_phrase_or_and_exclusion(library):
    assert found('"rénovation énergétique"', "fr") == ["Plan climat-air-énergie territorial"]
    assert found('"énergétique rénovation"', "fr") == []
    assert set(found("windpark or audit")) == {"Genehmigung Windpark", "Energy audit"}
    assert set(found("energie -windpark")) == {
        "Plan climat-air-énergie territorial",
        "Energy audit",
    }
    assert found("windpark absent") == []


@pytest.mark.parametrize(
    "query",
    ['"', '""', "-", "AND", "NEAR(a b)", "title:x", "*", "a OR", "OR OR", "((", "'", "de la", "^"],
)
def test_odd_queries_never_fail(library, query):
    services.search(query)  # no syntax error reaches the caller, whatever the backend


def test_search_respects_visibility_and_filters(library, agent_audun, citizen):
    services.update(library["fr"], {"public": False}, actor=library_actor(library))
    assert found("énergie", "fr") == []
    assert found("énergie", "fr", actor=citizen) == []
    assert found("énergie", "fr", actor=agent_audun) == ["Plan climat-air-énergie territorial"]
    filters = services.Filters(media_type="application/pdf")
    assert found("energie", actor=agent_audun, filters=filters) == [
        "Plan climat-air-énergie territorial"
    ]


def library_actor(library):
    from alzette.personal.accounts.models import User

    return User.objects.get(pseudonym=library["fr"].created_by)


def test_ranking_title_first_then_frequency(agent_epci):
    publish(agent_epci, samples.pdf("Une mention de la chaufferie."), "a.pdf", "fr", title="Divers")
    publish(
        agent_epci,
        samples.pdf("La chaufferie, la chaufferie, encore la chaufferie bois."),
        "b.pdf",
        "fr",
        title="Compte rendu",
    )
    publish(agent_epci, samples.pdf("Rien ici."), "c.pdf", "fr", title="Chaufferie bois")
    results = services.search("chaufferie", language="fr")
    assert [hit.document.title for hit in results.hits] == [
        "Chaufferie bois",
        "Compte rendu",
        "Divers",
    ]
    scores = [hit.score for hit in results.hits]
    assert all(0 < score < 1 for score in scores)
    assert scores == sorted(scores, reverse=True)


def test_paging_counts_every_match(agent_epci):
    for number in range(5):
        publish(
            agent_epci,
            samples.pdf(f"Conseil municipal {number}"),
            f"{number}.pdf",
            "fr",
            title=f"Conseil {number}",
        )
    results = services.search("conseil", language="fr", limit=2, offset=2)
    assert results.count == 5
    assert len(results.hits) == 2


def test_snippets_mark_the_matching_words_as_html(agent_epci):
    text = (
        "Préambule. "
        + "Texte sans rapport. " * 40
        + "La rénovation <b>énergétique</b> des écoles & crèches."
    )
    publish(agent_epci, samples.docx(text), "s.docx", "fr", title="Écoles")
    hit = services.search("renovation", language="fr").hits[0]
    assert "<mark>rénovation</mark>" in hit.snippet
    # The text is escaped (PostgreSQL's headline drops what looks like tags).
    assert "&amp; crèches" in hit.snippet and "<b>" not in hit.snippet
    assert len(hit.snippet) < 600


def test_images_are_found_by_their_metadata(agent_epci):
    publish(
        agent_epci,
        samples.image("JPEG"),
        "facade.jpg",
        "fr",
        title="Façade de la mairie",
        description="Photographie avant ravalement",
    )
    hit = services.search("facade ravalement", language="fr").hits[0]
    assert hit.document.title == "Façade de la mairie"
    assert "<mark>ravalement</mark>" in hit.snippet


def test_a_changed_title_is_searchable_and_a_deleted_document_gone(agent_epci):
    document = publish(agent_epci, samples.pdf("Corps"), "t.pdf", "fr", title="Ancien titre")
    services.update(document, {"title": "Déchetterie intercommunale"}, actor=agent_epci)
    assert found("dechetterie", "fr") == ["Déchetterie intercommunale"]
    assert found("ancien", "fr") == []
    services.update(document, {"language": "en"}, actor=agent_epci)
    assert found("dechetterie", "en") == ["Déchetterie intercommunale"]
    services.delete(document, actor=agent_epci)
    assert found("dechetterie") == []
    with connections["territory"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM documents_search")
        assert cursor.fetchone()[0] == 0


def test_reindex_rebuilds_every_entry(library):
    with connections["territory"].cursor() as cursor:
        cursor.execute("DELETE FROM documents_search")
    assert found("energie") == []
    assert services.reindex() == 5
    assert len(found("energie")) == 3


def test_the_index_is_the_vendors(library):
    vendor = connections["territory"].vendor
    with connections["territory"].cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'documents_search'")
            assert "remove_diacritics 2" in cursor.fetchone()[0]
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'documents_search' "
                "AND indexname = 'documents_search_vector'"
            )
            assert "gin" in cursor.fetchone()[0]
            cursor.execute("SELECT to_tsvector('alzette_german', 'Straße')::text")
            assert cursor.fetchone()[0] == "'strass':1"


def test_analysis_matches_postgresql_folding():
    assert analysis.fold("Énergie ŒUVRE Straße") == "energie oeuvre strasse"
    assert analysis.stems("Énergies énergie", "fr") == ["energ", "energ"]
    assert analysis.stems("Straße", "lb") == ["strasse"]
    assert analysis.fts5_expression(analysis.parse("de la"), "fr") is None
    assert index.snippet("x", "fr", "") == ""


def test_a_text_too_large_for_one_tsvector_is_indexed_by_its_first_part(agent_epci, settings):
    # 150,000 distinct words: more than the 1 MB a PostgreSQL tsvector holds. In
    # Luxembourgish, which is not stemmed: the test is about size, not words.
    words = " ".join(f"mot{n:06d}x" for n in range(150_000))
    settings.ALZETTE_DOCUMENTS_MAX_TEXT_CHARS = len(words) + 100
    document = publish(
        agent_epci, samples.docx("Virwuert " + words), "long.docx", "lb", title="Register"
    )
    assert len(document.text) > 1_500_000
    assert found("virwuert", "lb") == ["Register"]
    # SQLite indexes it all; PostgreSQL its first part only.
    last = found("mot149999x", "lb")
    assert last == ([] if connections["territory"].vendor == "postgresql" else ["Register"])
