"""An agent at the recycling centre's page in a real browser: requests a pick-up for a
skip, closes it with the weight; the pages pass axe's WCAG rules, on a phone too."""

from __future__ import annotations

import pytest

from alzette.territory.waste.models import Centre, PickupRequest
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_waste_ingest import make_container

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


@pytest.fixture
def centre(territory):
    Centre.objects.using("territory").create(
        slug="audun", name="Déchèterie d'Audun-le-Tiche", lon=5.95, lat=49.47, commune="57038",
        capacity=8,
    )  # fmt: skip
    make_container("skip-audun-1", storedWasteKind="metal", fillingLevel=0.9)
    make_container("bin-57038-001", storedWasteKind="organic", fillingLevel=0.5)


@pytest.mark.parametrize("page", [{}, {"viewport": (375, 740)}], indirect=True)
def test_an_agent_requests_and_closes_a_pickup(page, live_server, agent_audun, centre, axe):
    log_in_agent(page, live_server, agent_audun, "/hypervision/waste/centres/audun/")
    assert wcag_violations(axe, page) == []
    page.select_option("#id_skip", "skip-audun-1")
    with page.expect_navigation():
        page.click("#request-form button[type=submit]")
    pickup = PickupRequest.objects.get()
    row = page.locator(f"tr[data-pickup='{pickup.pk}']")
    assert row.get_attribute("data-status") == "requested"
    assert wcag_violations(axe, page) == []
    row.locator("input[name=weight_kg]").fill("2500")
    with page.expect_navigation():
        row.locator("form.pickup-done button[type=submit]").click()
    assert page.locator(f"tr[data-pickup='{pickup.pk}']").get_attribute("data-status") == "done"
    page.goto(f"{live_server.url}/hypervision/waste/?kind=bin")
    assert page.locator("#containers tbody tr[data-kind=bin]").count() == 1
    assert wcag_violations(axe, page) == []
