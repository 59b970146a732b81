"""The street lighting energy page in a real browser at 360 px: the chart and its tables
fit the screen, and the page passes axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alzette.territory.lighting.energy.models import LampNight
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
NARROW = {"viewport": (360, 780)}


@pytest.mark.parametrize("page", [NARROW], indirect=True)
def test_the_energy_page_on_a_phone(page, live_server, agent_audun, axe, territory):
    night = timezone.localdate() - timedelta(days=1)
    LampNight.objects.using("territory").create(
        lamp_id="urn:ngsi-ld:Streetlight:streetlight-57038-001", commune="57038", night=night,
        energy_wh=350.0, hours_on=14, covered_hours=14, reports=56, rating_w=50.0,
        night_hours=14.0, reference_wh=700.0,
    )  # fmt: skip
    log_in_agent(page, live_server, agent_audun, "/hypervision/lighting/energy/")
    assert page.locator("figure.le-chart rect.le-saved").count() == 1
    assert page.locator("#energy-communes tbody tr[data-commune='57038']").count() == 1
    # Nothing wider than the screen but the scrollable tables.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    assert wcag_violations(axe, page) == []
    page.select_option("#id_months", "6")
    with page.expect_navigation():
        page.click("#energy-filter button[type=submit]")
    assert page.locator("#energy-months-table tbody tr").count() == 6
    assert wcag_violations(axe, page) == []
