"""The open-data catalogue's pages: searching and filtering the list, a dataset's page
with its downloads and previews, what stays hidden, and the visitor's language."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from alzette.territory.catalogue import search, services
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.catalogue.sources import Field
from alzette.territory.catalogue.views import chart_of
from alzette.territory.events.models import TerritoryEvent
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
DB = "territory"


@pytest.fixture
def ccphva():
    return Organisation.objects.using(DB).create(
        slug="ccphva", name="Communauté de communes Pays Haut Val d'Alzette",
        contact_email="opendata@ccphva.example.org",
    )  # fmt: skip


@pytest.fixture
def villerupt():
    return Organisation.objects.using(DB).create(slug="villerupt", name="Ville de Villerupt")


@pytest.fixture
def events():
    rows = [("illegal_dump", ["bulky"], "57041", 3), ("illegal_dump", ["bulky"], "57041", 5),
            ("illegal_dump", ["green"], "54580", 6), ("illegal_dump", ["rubble", "bulky"],
            "57041", 9), ("pothole", ["road"], "57038", 4)]  # fmt: skip
    for n, (kind, categories, commune, day) in enumerate(rows):
        TerritoryEvent.objects.using(DB).create(
            kind=kind, categories=categories, commune_code=commune, lon=5.98 + n / 100,
            lat=49.47, observed_on=date(2026, 11, day), source_ref=f"r{n}",
        )  # fmt: skip


def _dumps(org, identifier="depots-sauvages", **fields):
    values = {
        "title": {"fr": "Dépôts sauvages signalés", "en": "Reported illegal dumps"},
        "description": {"fr": "Les dépôts d'ordures signalés par les habitants.",
                        "en": "Fly-tipping reported by residents."},
        "themes": ["ENVI"], "keywords": ["déchets", "propreté"], "licence": "etalab-2.0",
        "contact_email": "proprete@ccphva.example.org", "communes": ["57041", "54580"],
        "frequency": "DAILY", "source": "territory-events",
        "source_options": {"kind": "illegal_dump"},
    }  # fmt: skip
    return services.publish(org, identifier, **{**values, **fields})


def _communes(org, identifier="communes", **fields):
    values = {
        "title": {"fr": "Limites des communes", "en": "Municipal boundaries"},
        "description": {"fr": "Les huit communes du territoire."},
        "themes": ["REGI"], "keywords": ["limites"], "licence": "odbl-1.0",
        "communes": ["57041"], "frequency": "ANNUAL", "source": "communes", "source_options": {},
    }  # fmt: skip
    return services.publish(org, identifier, **{**values, **fields})


def _statistics(org, identifier="demarches", **fields):
    values = {
        "title": {"fr": "Démarches en ligne", "en": "Online procedures"},
        "description": {"fr": "Demandes déposées par commune et par mois."},
        "themes": ["GOVE", "SOCI"], "licence": "etalab-2.0", "communes": ["57038"],
        "frequency": "MONTHLY", "source": "procedure-statistics", "source_options": {},
    }  # fmt: skip
    return services.publish(org, identifier, **{**values, **fields})


@pytest.fixture
def catalogue(ccphva, villerupt, territory, events):
    """Three open datasets, one shared with communities, one unpublished."""
    found = {
        "dumps": _dumps(ccphva),
        "communes": _communes(ccphva),
        "statistics": _statistics(villerupt),
        "community": _dumps(ccphva, "entre-communes", access="community",
                            title={"fr": "Données entre communes"}),
        "draft": _dumps(villerupt, "brouillon", published=False, title={"fr": "Brouillon"}),
    }  # fmt: skip
    for dataset in found.values():
        services.refresh(dataset)
    return found


def _identifiers(html: str) -> list[str]:
    return re.findall(r'class="catalogue-card" data-identifier="([^"]+)"', html)


def _count(html: str, facet: str, value: str) -> int:
    found = re.search(
        rf'name="{facet}" value="{re.escape(value)}"[^>]*>.*?data-count="(\d+)"', html, re.S
    )
    assert found, f"no {facet}={value} in the facets"
    return int(found.group(1))


def _get(path: str, **headers) -> tuple[int, str]:
    response = Client().get(path, **headers)
    return response.status_code, response.content.decode()


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_only_open_published_datasets_with_their_facts(catalogue):
    status, html = _get("/data/")
    assert status == 200
    assert _identifiers(html) == ["demarches", "depots-sauvages", "communes"]  # by French title
    assert "Données entre communes" not in html and "Brouillon" not in html
    assert "3 datasets" in _get("/data/", **EN)[1]
    card = html[html.index('data-identifier="depots-sauvages"') :]
    card = card[: card.index("</li>")]
    assert "Communauté de communes Pays Haut Val d&#x27;Alzette" in card
    assert 'data-theme="ENVI">Environnement<' in card
    assert 'data-rows="4"' in card  # the four illegal dumps, not the pothole
    assert 'data-format="csv"' in card and 'data-format="geojson"' in card
    assert 'data-freshness="ok"' in card
    statistics = html[html.index('data-identifier="demarches"') :]
    assert 'data-format="geojson"' not in statistics[: statistics.index("</li>")]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("DECHETS", ["depots-sauvages"]),  # a keyword, case and accents ignored
        ("fly-tipping", ["depots-sauvages"]),  # the English description
        ("depots signales", ["depots-sauvages"]),  # every word, in the French title
        ("municipal", ["communes"]),  # the English title
        ("commune", ["demarches", "communes"]),  # a word within a word
        ("licorne", []),
    ],
)
def test_searching_words_in_any_language(catalogue, words, expected):
    status, html = _get(f"/data/?q={words}")
    assert status == 200 and _identifiers(html) == expected


def test_facets_count_and_filter(catalogue):
    html = _get("/data/")[1]
    assert _count(html, "theme", "ENVI") == 1 and _count(html, "theme", "GOVE") == 1
    assert _count(html, "publisher", "ccphva") == 2 and _count(html, "publisher", "villerupt") == 1
    assert _count(html, "licence", "etalab-2.0") == 2 and _count(html, "licence", "odbl-1.0") == 1
    assert _count(html, "format", "csv") == 3 and _count(html, "format", "geojson") == 2
    assert _count(html, "commune", "57041") == 2 and _count(html, "commune", "57038") == 1
    assert ">Audun-le-Tiche <" in html  # communes are named (57038)

    cases = {
        "theme=REGI": ["communes"],
        "publisher=villerupt": ["demarches"],
        "licence=etalab-2.0": ["demarches", "depots-sauvages"],
        "format=geojson": ["communes", "depots-sauvages"],  # by English title
        "commune=54580": ["depots-sauvages"],
    }
    for query, expected in cases.items():
        status, html = _get(f"/data/?{query}", **EN)
        assert status == 200 and _identifiers(html) == expected, query
        assert "Remove the filter" in html


def test_facets_combine_and_count_what_ticking_would_give(catalogue):
    # Two themes widen (any of them); a publisher narrows.
    html = _get("/data/?theme=ENVI&theme=REGI")[1]
    assert _identifiers(html) == ["depots-sauvages", "communes"]
    html = _get("/data/?theme=ENVI&theme=REGI&publisher=ccphva&format=geojson")[1]
    assert _identifiers(html) == ["depots-sauvages", "communes"]
    html = _get("/data/?theme=ENVI&theme=REGI&licence=odbl-1.0")[1]
    assert _identifiers(html) == ["communes"]
    # Counts of a facet ignore its own choice but honour the others (and the words).
    assert _count(html, "theme", "ENVI") == 0 and _count(html, "theme", "REGI") == 1
    assert _count(html, "licence", "etalab-2.0") == 1  # depots-sauvages, ENVI
    assert _count(html, "licence", "odbl-1.0") == 1
    html = _get("/data/?q=dechets&publisher=villerupt", **EN)[1]
    assert _identifiers(html) == []
    assert _count(html, "publisher", "ccphva") == 1 and _count(html, "publisher", "villerupt") == 0
    assert 'value="villerupt" id="facet-publisher-villerupt" checked' in html
    assert "No dataset matches" in html


def test_sorting_by_freshness(catalogue):
    Dataset.objects.using(DB).filter(identifier="communes").update(
        refreshed_at=timezone.now() + timedelta(minutes=5)
    )
    Dataset.objects.using(DB).filter(identifier="demarches").update(refreshed_at=None)
    html = _get("/data/?sort=updated")[1]
    assert _identifiers(html) == ["communes", "depots-sauvages", "demarches"]


def test_pages_of_results_keep_the_search(ccphva):
    for n in range(25):
        _communes(ccphva, f"jeu-{n:02}", title={"fr": f"Jeu {n:02}"})
    html = _get("/data/?theme=REGI", **EN)[1]
    assert len(_identifiers(html)) == 20 and "25 datasets" in html
    assert 'href="?theme=REGI&amp;page=2"' in html
    html = _get("/data/?theme=REGI&page=2")[1]
    assert _identifiers(html) == ["jeu-20", "jeu-21", "jeu-22", "jeu-23", "jeu-24"]
    assert _identifiers(_get("/data/?theme=REGI&page=99")[1])[-1] == "jeu-24"  # the last


@pytest.mark.parametrize(
    "query",
    ["theme=FOOD", "publisher=nobody", "licence=wtfpl", "format=xlsx", "commune=Audun",
     "sort=random", "page=zero", "page=0", "q=" + "x" * 201],
)  # fmt: skip
def test_bad_parameters_are_a_form_error(catalogue, query):
    status, html = _get(f"/data/?{query}")
    assert status == 400
    assert 'id="form-errors"' in html and 'role="alert"' in html
    assert _identifiers(html) == []


def test_a_failed_refresh_is_a_warning_with_the_last_good_time(catalogue):
    dumps = catalogue["dumps"]
    dumps.refreshed_at = timezone.now() - timedelta(hours=3)
    Dataset.objects.using(DB).filter(pk=dumps.pk).update(
        refreshed_at=dumps.refreshed_at, refresh_error="The broker did not answer."
    )
    html = _get("/data/", **EN)[1]
    card = html[html.index('data-identifier="depots-sauvages"') :]
    assert 'data-freshness="error"' in card[: card.index("</li>")]
    assert "3\xa0hours" in card[: card.index("</li>")]
    detail = _get("/data/depots-sauvages/", **EN)[1]
    # The error's text may hold internal details: operators read it (alzette catalogue list).
    assert "The broker did not answer." not in detail and "3\xa0hours ago" in detail


def test_search_reads_the_catalogue_in_a_few_queries(ccphva, django_assert_max_num_queries):
    datasets = [
        Dataset(organisation=ccphva, identifier=f"jeu-{n}", title={"fr": f"Jeu {n}"},
                licence="etalab-2.0", themes=["REGI"], communes=["57041"], source="communes",
                keywords=[f"mot{n}"])
        for n in range(5000)
    ]  # fmt: skip
    Dataset.objects.using(DB).bulk_create(datasets)
    with django_assert_max_num_queries(2):
        results = search.search("mot4999", {"theme": ["REGI"], "commune": ["57041"]})
    assert [hit.identifier for hit in results.hits] == ["jeu-4999"]
    assert results.facets["theme"][0].count == 1


# --- A dataset ------------------------------------------------------------------------------


def test_a_dataset_page_shows_its_metadata_and_downloads(catalogue):
    status, html = _get("/data/depots-sauvages/")
    assert status == 200
    assert "<h1>Dépôts sauvages signalés</h1>" in html
    assert "Les dépôts d&#x27;ordures signalés par les habitants." in html
    assert 'href="mailto:proprete@ccphva.example.org"' in html
    assert 'href="https://www.etalab.gouv.fr/licence-ouverte-open-licence/"' in html
    assert 'data-commune="57041">Aumetz<' in html  # named after the territory's units
    assert 'data-commune="54580">Villerupt<' in html
    assert "<dd>Daily</dd>" in _get("/data/depots-sauvages/", **EN)[1]
    for extension in ("csv", "json", "geojson"):
        path = f"/api/v1/territory/datasets/depots-sauvages/data.{extension}"
        assert f'href="{path}"' in html
        assert Client().get(path).status_code == 200


def test_a_dataset_page_previews_its_rows_in_a_table(catalogue):
    html = _get("/data/depots-sauvages/")[1]
    table = html[html.index('<div class="catalogue-table"') :]
    table = table[: table.index("</table>")]
    assert '<caption id="preview-caption">' in table
    assert '<th scope="col">observed_on</th>' in table
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>") :], re.S)
    assert len(rows) == 4  # the four illegal dumps, oldest first
    assert (
        "<td>2026-11-03</td>" in rows[0]
        and "<td>[&quot;rubble&quot;,&quot;bulky&quot;]</td>" in rows[3]
    )


def test_the_preview_stops_at_fifty_rows(ccphva, territory):
    for n in range(60):
        TerritoryEvent.objects.using(DB).create(
            kind="illegal_dump", categories=["bulky"], commune_code="57041", lon=5.98, lat=49.47,
            observed_on=date(2026, 1, 1) + timedelta(days=n), source_ref=f"r{n}",
        )  # fmt: skip
    services.refresh(_dumps(ccphva))
    html = _get("/data/depots-sauvages/", **EN)[1]
    table = html[html.index('<div class="catalogue-table"') :]
    assert table[: table.index("</table>")].count("<tr>") == 51  # the header and 50 rows
    assert "The first 50 rows" in table and "(of 60)" in table


def test_a_chart_counts_the_rows_per_category(catalogue):
    html = _get("/data/depots-sauvages/", **EN)[1]
    chart = html[html.index('<figure class="catalogue-chart"') :]
    chart = chart[: chart.index("</figure>")]
    assert "Rows per categories" in chart and 'role="img"' in chart
    assert "<title>bulky: 3</title>" in chart and "<title>green: 1</title>" in chart
    assert '<th scope="row">rubble</th><td>1</td>' in chart  # the table behind the chart
    assert 'data-bars="3"' in chart


def test_a_chart_sums_a_number_over_time_and_the_communes_get_a_map(catalogue):
    from alzette.territory.events.models import ProcedureStatistic

    for month, filed in (("2026-09", 4), ("2026-10", 7)):
        for commune in ("57038", "54580"):
            ProcedureStatistic.objects.using(DB).create(
                procedure="etat-civil", commune_code=commune, month=month, filed=filed,
                decided=filed, accepted=filed, mean_delay_days=2.5,
            )  # fmt: skip
    services.refresh(catalogue["statistics"])  # pages show the last refresh's snapshot
    html = _get("/data/demarches/", **EN)[1]
    assert "Sum of filed per month" in html and "<title>2026-10: 14</title>" in html
    assert 'id="catalogue-map"' not in html  # not spatial
    communes = _get("/data/communes/", **EN)[1]
    assert 'data-url="/api/v1/territory/datasets/communes/data.geojson"' in communes
    assert "Rows per department" in communes and "<title>57: 6</title>" in communes


def test_choosing_a_chart():
    columns = [Field("id"), Field("name"), Field("size", "number")]
    rows = [{"id": str(n), "name": f"n{n}", "size": n} for n in range(10)]
    with translation.override("en"):
        histogram = chart_of(columns, rows)
    assert histogram.title == "Distribution of size" and sum(b.value for b in histogram.bars) == 10
    assert chart_of([Field("id"), Field("name")], rows) is None  # identifiers only
    assert chart_of(columns, []) is None


@pytest.mark.parametrize("identifier", ["nothing-here", "entre-communes", "brouillon"])
def test_unknown_unpublished_and_community_datasets_are_not_found(catalogue, identifier):
    status, html = _get(f"/data/{identifier}/")
    assert status == 404 and "<h1>" in html


def test_a_preview_of_a_failing_source_still_shows_the_page(catalogue, monkeypatch):
    def broken(dataset):
        raise RuntimeError("the broker is down")

    monkeypatch.setattr(services, "records", broken)
    status, html = _get("/data/depots-sauvages/", **EN)
    assert status == 200 and "The preview is not available" in html
    assert 'href="/api/v1/territory/datasets/depots-sauvages/data.csv"' in html


# --- Languages --------------------------------------------------------------------------------


def test_french_by_default_english_on_request(catalogue):
    html = _get("/data/")[1]
    assert '<html lang="fr">' in html and "Dépôts sauvages signalés" in html
    assert "Environnement" in html
    english = _get("/data/", **EN)[1]
    assert '<html lang="en">' in english and "Reported illegal dumps" in english
    assert ">Environment <" in english
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    detail = client.get("/data/communes/").content.decode()
    assert '<html lang="en">' in detail and "<h1>Municipal boundaries</h1>" in detail
    german = _get("/data/communes/", HTTP_ACCEPT_LANGUAGE="de")[1]
    assert "<h1>Limites des communes</h1>" in german  # no German title: the French one
