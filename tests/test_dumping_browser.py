"""The agents' dumping pages in a real browser: the map draws the heat grid, hot spots
and reports; a click on the map fills the report form; the pages pass axe-core."""

from __future__ import annotations

import pytest
from django.utils import timezone

from alzette.territory.events import services as events
from alzette.territory.waste.dumping.models import AgentReport
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
AUDUN = (5.9583, 49.4742)


def test_the_agent_map_draws_heat_hot_spots_and_reports(page, live_server, agent_audun, axe):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    for n in range(4):
        events.record_event(f"b{n}", "illegal_dump", AUDUN[0] + n * 0.0002, AUDUN[1],
                            timezone.localdate(), "57038", ["bulky"])  # fmt: skip
    log_in_agent(page, live_server, agent_audun, "/hypervision/dumping/")
    page.wait_for_selector("#dumping-map[data-features-drawn]")
    assert page.get_attribute("#dumping-map", "data-features-drawn") == "5"  # 4 reports, 1 spot
    assert int(page.get_attribute("#dumping-map", "data-cells-drawn")) >= 1
    assert page.locator("#dumping-map path.dumping-cell").count() >= 1
    assert page.locator("#dumping-map path.dumping-hotspot").count() == 1
    assert page.locator("#hotspots tbody tr").count() == 1
    assert wcag_violations(axe, page) == []


def test_a_click_on_the_map_fills_the_report_form(page, live_server, agent_audun, axe):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    log_in_agent(page, live_server, agent_audun, "/hypervision/dumping/reports/new/")
    assert page.is_visible("#dumping-pick")
    assert wcag_violations(axe, page) == []
    page.click("#dumping-pick", position={"x": 200, "y": 150})
    assert page.input_value("#id_lat") and page.input_value("#id_lon")
    # Back to a known point inside Audun-le-Tiche, as an agent may type it.
    page.fill("#id_lat", str(AUDUN[1]))
    page.fill("#id_lon", str(AUDUN[0]))
    page.check("input[name=categories][value=rubble]")
    page.select_option("#id_volume", "small")
    with page.expect_navigation():
        page.click("main form.dumping-form button[type=submit]")
    assert "/hypervision/dumping/interventions/new/" in page.url
    assert AgentReport.objects.using("territory").get().commune_code == "57038"
    assert wcag_violations(axe, page) == []


def test_a_report_outside_the_territory_is_explained_accessibly(page, live_server, agent_audun,
                                                                  axe):  # fmt: skip
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    log_in_agent(page, live_server, agent_audun, "/hypervision/dumping/reports/new/")
    page.fill("#id_lat", "49.6")
    page.fill("#id_lon", "6.2")
    page.check("input[name=categories][value=green]")
    with page.expect_navigation():
        page.click("main form.dumping-form button[type=submit]")
    assert page.locator(".errorlist").count() >= 1
    assert AgentReport.objects.using("territory").count() == 0
    assert wcag_violations(axe, page) == []
