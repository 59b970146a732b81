"""The open-data catalogue in a real browser: someone searches, filters, opens a dataset
and sees its table, its map and its chart; the pages pass axe-core and fit a phone."""

from __future__ import annotations

from datetime import date

import pytest

from alzette.territory.catalogue import services
from alzette.territory.catalogue.models import Organisation
from alzette.territory.events.models import TerritoryEvent
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

DB = "territory"
# The tile server is unreachable here: the features must still be drawn.
BLOCKED_TILES = "**/tile.openstreetmap.org/**"


@pytest.fixture
def catalogue(territory):
    org = Organisation.objects.using(DB).create(slug="ccphva", name="CC Pays Haut Val d'Alzette")
    rows = [("illegal_dump", ["bulky"], 3), ("illegal_dump", ["green"], 5),
            ("illegal_dump", ["bulky"], 8), ("pothole", ["road"], 4)]  # fmt: skip
    for n, (kind, categories, day) in enumerate(rows):
        TerritoryEvent.objects.using(DB).create(
            kind=kind, categories=categories, commune_code="57041", lon=5.97 + n / 100,
            lat=49.46 + n / 200, observed_on=date(2026, 11, day), source_ref=f"r{n}",
        )  # fmt: skip
    common = {"licence": "etalab-2.0", "frequency": "DAILY", "source": "territory-events",
              "communes": ["57041"], "contact_email": "data@ccphva.example.org"}  # fmt: skip
    datasets = [
        services.publish(org, "depots-sauvages", themes=["ENVI"], keywords=["déchets"],
                         title={"fr": "Dépôts sauvages signalés", "en": "Reported dumps"},
                         source_options={"kind": "illegal_dump"}, **common),
        services.publish(org, "nids-de-poule", themes=["TRAN"],
                         title={"fr": "Nids-de-poule signalés", "en": "Reported potholes"},
                         source_options={"kind": "pothole"}, **common),
        services.publish(org, "communes", themes=["REGI"], licence="odbl-1.0", source="communes",
                         title={"fr": "Limites des communes"}, frequency="ANNUAL"),
    ]  # fmt: skip
    for dataset in datasets:
        services.refresh(dataset)


def _open(page, url: str) -> None:
    page.route(BLOCKED_TILES, lambda route: route.abort())
    page.goto(url)


def test_search_filter_and_preview_a_dataset(page, live_server, catalogue, axe):
    _open(page, f"{live_server.url}/data/")
    assert page.locator(".catalogue-card").count() == 3
    assert wcag_violations(axe, page) == []

    page.fill("#id_q", "signales")
    with page.expect_navigation():
        page.click("main form[role=search] .catalogue-query button[type=submit]")
    assert page.locator(".catalogue-card").count() == 2
    envi = page.locator("input[name=theme][value=ENVI]")
    assert page.locator("label[for=facet-theme-envi] .catalogue-count").inner_text() == "(1)"
    envi.check()
    with page.expect_navigation():
        page.click("button.catalogue-apply")
    assert "theme=ENVI" in page.url and "q=signales" in page.url
    cards = page.locator(".catalogue-card")
    assert cards.count() == 1 and cards.get_attribute("data-identifier") == "depots-sauvages"
    assert wcag_violations(axe, page) == []

    with page.expect_navigation():
        page.click(".catalogue-card a")
    assert page.locator("h1").inner_text() == "Dépôts sauvages signalés"
    assert page.locator(".catalogue-table tbody tr").count() == 3
    page.wait_for_selector("#catalogue-map[data-features-drawn]")
    assert page.get_attribute("#catalogue-map", "data-features-drawn") == "3"
    assert page.locator("#catalogue-map path.leaflet-interactive").count() == 3  # markers
    assert page.locator("#catalogue-map-status").inner_text() != ""
    assert page.locator("svg.catalogue-bars rect").count() == 2  # bulky, green
    assert wcag_violations(axe, page) == []


@pytest.mark.parametrize("page", [{"viewport": (390, 844)}], indirect=True)
def test_the_catalogue_fits_a_phone(page, live_server, catalogue, axe):
    _open(page, f"{live_server.url}/data/?theme=ENVI&theme=REGI")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert wcag_violations(axe, page) == []
    for identifier in ("depots-sauvages", "communes"):
        _open(page, f"{live_server.url}/data/{identifier}/")
        page.wait_for_selector("#catalogue-map[data-features-drawn]")
        assert int(page.get_attribute("#catalogue-map", "data-features-drawn")) > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, identifier
        assert wcag_violations(axe, page) == []
