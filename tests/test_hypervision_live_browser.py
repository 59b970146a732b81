"""The live map in a real browser: an entity deleted through the NGSI-LD API, or one that
lost its location, leaves the map without a reload (the delta's ``removed``), and the
table of changes says so; a removal of an id the map does not have, or has on another
layer, changes nothing."""

from __future__ import annotations

import time

import pytest

from alzette.territory.hypervision import layers
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd
from tests.test_browser_procedures import log_in_agent
from tests.test_hypervision_layers import AUDUN, VILLERUPT, container, upsert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
STREAM_SECONDS = 3

BIN = "urn:ngsi-ld:WasteContainer:bin-57038-001"
KEPT = "urn:ngsi-ld:WasteContainer:bin-54580-001"
SENSOR = "urn:ngsi-ld:DeviceMeasurement:pressure-57038-01"


@pytest.fixture(autouse=True)
def _quick_streams(settings):
    settings.ALZETTE_HYPERVISION_STREAM_SECONDS = STREAM_SECONDS
    settings.ALZETTE_HYPERVISION_POLL_SECONDS = 0.3
    layers.reload()
    yield
    # Let the page's last stream end before the next test flushes the database.
    time.sleep(STREAM_SECONDS + 1)


@pytest.fixture
def bins(territory):
    sensor = container("pressure-57038-01", AUDUN, 0.0, kind="DeviceMeasurement", shift=0.001)
    upsert([container("bin-57038-001", AUDUN, 0.2), container("bin-54580-001", VILLERUPT, 0.5)])
    upsert([sensor])  # a water sensor: its data model lets it lose its location


def _has_marker(page, entity_id: str) -> bool:
    return page.evaluate("id => window.hypervision.state.markers.has(id)", entity_id)


def _drawn(page) -> int:
    return page.evaluate(
        "() => { let n = 0; window.hypervision.map.eachLayer(l => { if (l.feature) n++; });"
        " return n; }"
    )


def test_a_deleted_entity_leaves_the_map(page, live_server, agent_audun, bins, axe):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    log_in_agent(page, live_server, agent_audun, "/hypervision/?layers=waste")
    page.goto(f"{live_server.url}/hypervision/?layers=waste&layers=water-sensors")
    page.wait_for_selector("#hv-map[data-state=drawn]")
    assert _has_marker(page, BIN) and _has_marker(page, KEPT)
    page.wait_for_function("() => window.hypervision.state.connected")
    drawn = _drawn(page)

    response = NgsiLd().delete(f"/entities/{BIN}")
    assert response.status_code == 204, response.content
    page.wait_for_function(
        "id => !window.hypervision.state.markers.has(id)", arg=BIN, timeout=15000
    )
    # Off the canvas too (not only forgotten), the other marker untouched.
    assert _drawn(page) == drawn - 1
    assert _has_marker(page, KEPT)
    row = page.locator(f"#hv-recent tr[data-id='{BIN}']").first
    assert row.locator("td").nth(2).inner_text() == "removed"

    # The stream cannot know what the map holds: removals of an id it never drew, or of
    # one it draws on another layer, are harmless.
    drawn, rows = _drawn(page), page.locator("#hv-recent tr").count()
    page.evaluate(
        "id => { window.hypervision.apply([], [{layer: 'waste', id: 'urn:ngsi-ld:x:never'},"
        " {layer: 'streetlights', id}]); }",
        KEPT,
    )
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))")
    assert _has_marker(page, KEPT) and _drawn(page) == drawn
    assert page.locator("#hv-recent tr").count() == rows

    # An entity that lost its location leaves the map too.
    assert _has_marker(page, SENSOR)
    response = NgsiLd().delete(f"/entities/{SENSOR}/attrs/location")
    assert response.status_code == 204, response.content
    page.wait_for_function(
        "id => !window.hypervision.state.markers.has(id)", arg=SENSOR, timeout=15000
    )
    assert _drawn(page) == drawn - 1 and _has_marker(page, KEPT)
    assert wcag_violations(axe, page) == []
