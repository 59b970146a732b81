"""NGSI-LD entities in the unified search: folded words, ranking, public tenant only."""

from __future__ import annotations

import pytest

from alzette.territory.ngsild.search import EntitySearchSource
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def ld():
    client = NgsiLd()
    client.create(
        {
            "id": "urn:ngsi-ld:PointOfInterest:1",
            "type": "Site",
            "name": "Déchèterie d'Audun-le-Tiche",
            "description": "Énergie & <verre>",
        }
    )
    client.create(
        {
            "id": "urn:ngsi-ld:PointOfInterest:2",
            "type": "Site",
            "name": {"languageMap": {"fr": "Parc éolien", "de": "Windpark Straße"}},
        }
    )
    NgsiLd(tenant="private").create(
        {"id": "urn:ngsi-ld:PointOfInterest:3", "type": "Site", "name": "Déchèterie privée"}
    )
    return client


def test_accents_and_case_are_folded(ld):
    hits = EntitySearchSource().search("DECHETERIE", None, 10)
    assert [h.id for h in hits] == ["urn:ngsi-ld:PointOfInterest:1"]  # not the private tenant
    assert hits[0].title == "Déchèterie d'Audun-le-Tiche"
    assert hits[0].type == "Site"
    assert hits[0].url == "/ngsi-ld/v1/entities/urn:ngsi-ld:PointOfInterest:1"


def test_snippets_are_escaped_and_marked(ld):
    hit = EntitySearchSource().search("energie", None, 10)[0]
    assert hit.snippet == "<mark>Énergie</mark> &amp; &lt;verre&gt;"


def test_language_maps_and_ranking(ld):
    hits = EntitySearchSource().search("strasse windpark", "de", 10)
    assert hits[0].id == "urn:ngsi-ld:PointOfInterest:2"
    assert hits[0].title == "Windpark Straße"
    assert hits[0].score == pytest.approx(0.9)
    partial = EntitySearchSource().search("windpark nothinglikethis", "de", 10)
    assert partial[0].score == pytest.approx(0.45)
    assert EntitySearchSource().search("!", None, 10) == []
