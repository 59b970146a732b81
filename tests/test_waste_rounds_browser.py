"""Collection rounds in a real browser: an agent computes a round, sees its routes on
the map (one colour per truck) and its tables; the pages pass axe-core and fit a phone."""

from __future__ import annotations

import pytest

from alzette.territory.waste.rounds import demo, services
from alzette.territory.waste.rounds.models import Round
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_waste_rounds_pages import _bins

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


@pytest.fixture
def planning(settings, monkeypatch):
    settings.ALZETTE_ROUTING_TIME_LIMIT = 1
    settings.ALZETTE_OSRM_URL = ""
    demo.ensure_demo_fleet()
    monkeypatch.setattr(services, "_bins", _bins)
    monkeypatch.setattr(services, "_fill_rates", lambda ids: {}.get)


@pytest.mark.parametrize("page", [{}, {"viewport": (390, 844)}], indirect=True)
def test_an_agent_computes_a_round_and_reads_its_map(page, live_server, agent_epci, planning, axe):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    log_in_agent(page, live_server, agent_epci, "/hypervision/rounds/")
    assert wcag_violations(axe, page) == []
    page.fill("#id_trucks", "2")
    page.fill("#id_threshold", "80")
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    found = Round.objects.get()
    assert page.url.endswith(f"/hypervision/rounds/{found.pk}/")
    page.wait_for_selector("#rounds-map[data-features-drawn]")
    # 2 routes + 6 stops + the depot
    assert page.get_attribute("#rounds-map", "data-features-drawn") == "9"
    assert page.locator("table.rounds-route").count() == 2
    assert page.locator("#rounds-chart rect").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("button[name=status][value=validated]")
    assert Round.objects.get().status == "validated"


def test_bad_input_is_shown_next_to_its_field(page, live_server, agent_epci, planning, axe):
    log_in_agent(page, live_server, agent_epci, "/hypervision/rounds/")
    page.fill("#id_threshold", "150")
    page.evaluate("document.getElementById('plan-form').noValidate = true")
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    assert page.get_attribute("#id_threshold", "aria-invalid") == "true"
    assert wcag_violations(axe, page) == []
    assert not Round.objects.exists()
