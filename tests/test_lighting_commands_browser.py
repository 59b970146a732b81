"""The streetlight commands pages and the households' water meters page in a real
browser at 360 px: they fit the screen, a command to an unregistered lamp shows as
failed with its reason, and the pages pass axe-core."""

from __future__ import annotations

import pytest

from alzette.personal.households.services import create_household
from alzette.territory.lighting.commands.models import Command
from alzette.territory.lighting.demo import ensure_demo_lighting
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
NARROW = {"viewport": (360, 780)}
LAMP = "urn:ngsi-ld:Streetlight:streetlight-57038-001"


@pytest.mark.parametrize("page", [NARROW], indirect=True)
def test_the_lamps_pages_on_a_phone(page, live_server, agent_audun, axe, territory):
    ensure_demo_lighting()
    log_in_agent(page, live_server, agent_audun, "/hypervision/lighting/lamps/?commune=57038")
    assert page.locator("table[data-commune='57038'] tbody tr").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []
    # The demo lamp has no oneM2M device: the command is recorded as failed, and said so.
    page.fill("#command-target", LAMP)
    page.fill("#command-level", "40")
    with page.expect_navigation():
        page.click("#command-form button[name=switch][value='']")
    command = Command.objects.get(lamp_id=LAMP)
    assert (command.state, command.error_code) == ("failed", "unknown_device")
    page.goto(f"{live_server.url}/hypervision/lighting/lamps/streetlight-57038-001/")
    assert "unknown_device" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []


@pytest.mark.parametrize("page", [NARROW], indirect=True)
def test_the_water_meters_page_on_a_phone(page, live_server, agent_audun, citizen, axe, territory):
    create_household("57038", "AUD-0042", members=[citizen])
    log_in_agent(page, live_server, agent_audun, "/water/agents/")
    assert page.locator("#hw-households tbody tr").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert wcag_violations(axe, page) == []
