"""The agents' water pages in a real browser at 360 px: the map draws districts and
sensors, the district page changes a threshold, the pages pass axe-core."""

from __future__ import annotations

import pytest

from alzette.territory.water import demo
from alzette.territory.water.models import District
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def test_the_water_pages_at_360_px(page, live_server, agent_audun, territory, axe):
    demo.ensure_demo_water()
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.set_viewport_size({"width": 360, "height": 740})
    log_in_agent(page, live_server, agent_audun, "/hypervision/water/")
    page.wait_for_selector("#water-map[data-features-drawn]")
    assert (
        int(page.get_attribute("#water-map", "data-features-drawn")) == 40
    )  # 10 districts, 3 sensors each
    assert page.locator("#water-districts tbody tr").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("#water-districts a[href$='/districts/57038-1/']")
    assert page.locator("svg.water-chart").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []
    page.fill("#id_night_flow_threshold", "2200")
    with page.expect_navigation():
        page.click("#district-settings button[type=submit]")
    assert District.objects.using("territory").get(slug="57038-1").night_flow_threshold == 2200
    assert wcag_violations(axe, page) == []
