"""The live map in a real browser: an agent signs in (TOTP), the map draws the
devices on its canvas, an update through the NGSI-LD API reaches the marker by
server-sent events; the page and a board pass axe-core and fit a phone."""

from __future__ import annotations

import time

import pytest

from alzette.territory.hypervision import layers
from alzette.territory.hypervision.models import Board
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd
from tests.test_browser_procedures import PHONE, log_in_agent
from tests.test_hypervision_layers import AUDUN, VILLERUPT, container, upsert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
#: Streams end quickly in these tests (the browser reconnects with its cursor).
STREAM_SECONDS = 3

BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"


@pytest.fixture(autouse=True)
def _quick_streams(settings):
    settings.ALZETTE_HYPERVISION_STREAM_SECONDS = STREAM_SECONDS
    settings.ALZETTE_HYPERVISION_POLL_SECONDS = 0.3
    layers.reload()
    yield
    # The page is closed (it was set up after this fixture); a stream it opened lasts
    # until its end. Let it end here, so that it never queries the live server's
    # database while the next test flushes it (SQLite: "table is locked").
    time.sleep(STREAM_SECONDS + 1)


@pytest.fixture
def bins(territory):
    upsert(
        [
            container("bin-57038-001", AUDUN, 0.2),
            container("bin-57038-002", AUDUN, 0.4, shift=0.0005),
            container("bin-54580-001", VILLERUPT, 0.5),
        ]
    )


def _no_tiles(page) -> None:
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())


def _marker_value(page, entity_id: str):
    return page.evaluate(
        "id => { const m = window.hypervision.state.markers.get(id);"
        " return m ? m.feature.properties.value : null; }",
        entity_id,
    )


def test_the_map_draws_markers_and_follows_an_ngsild_update(
    page, live_server, agent_audun, bins, axe
):
    _no_tiles(page)
    log_in_agent(page, live_server, agent_audun, "/hypervision/")
    page.wait_for_selector("#hv-map[data-state=drawn]")
    assert page.get_attribute("#hv-map", "data-markers") == str(8 + 3)  # communes + bins
    assert page.locator("#hv-map canvas").count() >= 1
    assert _marker_value(page, BIN) == 0.2
    page.wait_for_function("() => window.hypervision.state.connected")
    assert wcag_violations(axe, page) == []

    response = NgsiLd().patch(f"/entities/{BIN}/attrs/fillingLevel", {"value": 0.97})
    assert response.status_code == 204, response.content
    page.wait_for_function(
        "id => { const m = window.hypervision.state.markers.get(id);"
        " return m && m.feature.properties.value === 0.97; }",
        arg=BIN,
        timeout=15000,
    )
    # Updated in place: same marker count, the fill colour of a full bin, the text alternative.
    assert page.get_attribute("#hv-map", "data-markers") == str(8 + 3)
    colour = page.evaluate("id => window.hypervision.state.markers.get(id).options.fillColor", BIN)
    assert colour == "#c00000"
    assert page.locator(f"#hv-recent tr[data-id='{BIN}']").count() >= 1
    # The polite live region counts what arrived (the first poll also replays the few
    # seconds before the cursor, in case a transaction committed late).
    assert page.inner_text("#hv-summary").split()[0].isdigit()
    assert wcag_violations(axe, page) == []


def test_filters_work_without_script_and_reduce_the_map(page, live_server, agent_audun, bins):
    _no_tiles(page)
    log_in_agent(page, live_server, agent_audun, "/hypervision/")
    page.select_option("#id_commune", VILLERUPT)
    page.select_option("#id_theme", "waste")
    with page.expect_navigation():
        page.click("#hv-filters button[type=submit]")
    page.wait_for_selector("#hv-map[data-state=drawn]")
    assert page.get_attribute("#hv-map", "data-markers") == "1"
    assert _marker_value(page, "urn:ngsi-ld:WasteContainer:bin-54580-001") == 0.5


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_map_and_board_on_a_phone(page, live_server, agent_audun, bins, axe):
    _no_tiles(page)
    board = Board.objects.using("territory").create(
        owner=agent_audun.pseudonym,
        name="Déchets",
        widgets=[
            {"slug": "key-figures", "options": {"theme": "waste"}},
            {"slug": "waste-fill-chart", "options": {"days": "14"}},
        ],
    )
    log_in_agent(page, live_server, agent_audun, "/hypervision/")
    page.wait_for_selector("#hv-map[data-state=drawn]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert wcag_violations(axe, page) == []
    page.goto(f"{live_server.url}/hypervision/boards/{board.pk}/")
    assert page.locator(".hv-widget").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert wcag_violations(axe, page) == []
    page.goto(f"{live_server.url}/hypervision/boards/{board.pk}/edit/")
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("li[data-add='events-chart'] button[value=add]")
    assert page.locator("li[data-widget='events-chart']").count() == 1
