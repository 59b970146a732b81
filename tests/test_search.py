"""The unified search registry: sources by dotted path, hits merged by score, a
failing source left out, the configuration checked at start-up."""

from __future__ import annotations

import pytest

from alzette.territory import search
from alzette.territory.search import SearchHit, SearchSource
from tests.conftest import ALL_DATABASES

HERE = "tests.test_search"


def hit(source: str, title: str, score: float) -> SearchHit:
    return SearchHit(
        source=source,
        id=f"urn:ngsi-ld:Thing:{title}",
        title=title,
        snippet="",
        score=score,
        url=f"/things/{title}",
        type="Thing",
    )


class Entities(SearchSource):
    name = "entities"
    calls: list = []

    def search(self, query, language, limit):
        Entities.calls.append((query, language, limit))
        return [hit(self.name, "lamp", 0.9), hit(self.name, "bin", 0.2)][:limit]


class Datasets(SearchSource):
    name = "datasets"

    def search(self, query, language, limit):
        return [hit(self.name, "budget", 0.5), hit(self.name, "lamps", 0.9)]


class Broken(SearchSource):
    name = "broken"

    def search(self, query, language, limit):
        raise RuntimeError("the source is down")


class Nameless(SearchSource):
    pass


class NotASource:
    name = "impostor"


def test_the_documents_source_is_the_default(settings):
    if hasattr(settings, search.SETTING):
        del settings.ALZETTE_SEARCH_SOURCES
    assert [source.name for source in search.sources()] == ["documents"]


def test_hits_are_merged_by_score_then_source_order(settings):
    settings.ALZETTE_SEARCH_SOURCES = [f"{HERE}.Entities", f"{HERE}.Datasets"]
    Entities.calls.clear()
    results = search.search("lamp", "fr", 3)
    assert [(h.source, h.title) for h in results.hits] == [
        ("entities", "lamp"),
        ("datasets", "lamps"),
        ("datasets", "budget"),
    ]
    assert Entities.calls == [("lamp", "fr", 3)]
    assert results.failed == []


def test_a_failing_source_is_logged_and_left_out(settings, caplog):
    settings.ALZETTE_SEARCH_SOURCES = [f"{HERE}.Broken", f"{HERE}.Entities"]
    results = search.search("lamp")
    assert [h.title for h in results.hits] == ["lamp", "bin"]
    assert results.failed == ["broken"]
    assert "Search source broken failed" in caplog.text


def test_a_bad_path_fails_loudly(settings):
    settings.ALZETTE_SEARCH_SOURCES = [f"{HERE}.NotASource"]
    with pytest.raises(TypeError):
        search.sources()


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        ([f"{HERE}.Missing"], "cannot import"),
        ([f"{HERE}.NotASource"], "is not a SearchSource"),
        ([f"{HERE}.Nameless"], "is not a SearchSource"),
        ([f"{HERE}.Entities", f"{HERE}.Entities"], "two sources are named entities"),
    ],
)
def test_the_system_check_refuses_bad_configurations(settings, paths, message):
    settings.ALZETTE_SEARCH_SOURCES = paths
    [error] = search.check_sources()
    assert error.id == "search.E001"
    assert message in error.msg


def test_the_default_configuration_passes_the_check():
    assert search.check_sources() == []


def test_the_base_class_must_be_implemented():
    with pytest.raises(NotImplementedError):
        SearchSource().search("x", None, 1)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_endpoint_merges_the_configured_sources(settings, api_client):
    settings.ALZETTE_SEARCH_SOURCES = [f"{HERE}.Entities", f"{HERE}.Broken"]
    response = api_client.get("/api/v1/territory/search", {"q": "lamp", "limit": 1})
    assert response.status_code == 200
    assert response.json() == {
        "query": "lamp",
        "hits": [
            {
                "source": "entities",
                "type": "Thing",
                "id": "urn:ngsi-ld:Thing:lamp",
                "title": "lamp",
                "snippet": "",
                "score": 0.9,
                "url": "/things/lamp",
            }
        ],
        "failed_sources": ["broken"],
    }
