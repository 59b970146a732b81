"""The agents' repairs pages in a real browser at 360 px: the map draws the open
repairs, the repair page plans and closes, both pass axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alzette.territory.lighting.repairs import services
from alzette.territory.lighting.repairs.models import Repair
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_lighting_repairs import make_lamp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def test_the_repairs_pages_at_360_px(page, live_server, agent_audun, axe):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.set_viewport_size({"width": 360, "height": 740})
    make_lamp()
    repair = services.report_by_agent("57038-001", "lampOut", actor=services.Actor(agent=True))
    log_in_agent(page, live_server, agent_audun, "/hypervision/lighting/repairs/")
    page.wait_for_selector("#repairs-map[data-features-drawn]")
    assert page.get_attribute("#repairs-map", "data-features-drawn") == "1"
    assert page.locator("#open-repairs tbody tr[data-source=agent]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []

    page.click(f"#open-repairs a[href$='/{repair.pk}/']")
    page.wait_for_selector("#plan-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []
    page.fill("#id_team", "Équipe éclairage")
    page.fill("#id_planned_for", (timezone.localdate() + timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    assert page.get_attribute("#repair", "data-status") == "scheduled"
    page.select_option("#id_outcome", "lamp_replaced")
    with page.expect_navigation():
        page.click("#close-form button[type=submit]")
    assert page.get_attribute("#repair", "data-status") == "repaired"
    assert Repair.objects.using("territory").get().status == "repaired"
    assert wcag_violations(axe, page) == []
