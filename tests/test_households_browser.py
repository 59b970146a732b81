"""The citizen's household page in a real browser, at a phone's width: it fits, the
chart and the bill are there, and it passes axe-core; the agents' household page too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from alzette.personal.households import services
from alzette.personal.households.models import HouseholdLift
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

PHONE = 390


@pytest.fixture
def home(citizen, territory):
    from alzette.territory.waste.models import Centre

    year = timezone.localdate().year
    household = services.create_household("57038", "AUD-0001", members=[citizen])
    services.allocate_bin(
        household,
        "bin-57038-001",
        "system:test",
        starts_on=timezone.localdate().replace(month=1, day=1),
    )
    services.set_tariff(
        "",
        year,
        fixed_eur=Decimal("100"),
        per_lift_eur=Decimal("3"),
        per_kg_eur=Decimal("0.2"),
        included_lifts=1,
    )
    tz = timezone.get_current_timezone()
    for n in range(4):
        HouseholdLift.objects.create(
            household=household,
            bin_id="urn:ngsi-ld:WasteContainer:bin-57038-001",
            lifted_at=datetime(year, 1 + n, 10, 7, tzinfo=tz),
            weight_kg=12,
            lift_id=n + 1,
        )
    Centre.objects.using("territory").create(
        slug="audun",
        name="Déchèterie d'Audun-le-Tiche",
        lon=5.9,
        lat=49.4,
        commune="57038",
        capacity=10,
        visits_per_year=24,
    )
    return household


@pytest.mark.parametrize("page", [{"viewport": (PHONE, 844)}], indirect=True)
def test_the_citizen_page_fits_a_phone_and_is_accessible(page, live_server, citizen, home, axe):
    log_in(page, live_server, citizen, "/waste/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert page.locator("#hh-lifts svg rect.hh-bar").count() == 12
    assert page.locator("#hh-bill dl.hh-bill").get_attribute("data-total") == "118.60"
    assert page.locator("#hh-centres [data-centre='audun']").count() == 1
    assert wcag_violations(axe, page) == []
    page.click("#hh-lifts summary")
    assert page.locator("#hh-lifts tbody tr").count() == 12
    assert wcag_violations(axe, page) == []


@pytest.mark.parametrize("page", [{"viewport": (PHONE, 844)}], indirect=True)
def test_the_agent_household_page_is_accessible(page, live_server, agent_audun, home, axe):
    log_in_agent(page, live_server, agent_audun, f"/waste/agents/{home.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert wcag_violations(axe, page) == []
    page.fill("#id_card-value", "AB-123-CD")
    with page.expect_navigation():
        page.click("#hh-cards button[type=submit]")
    assert page.locator("#hh-cards [data-kind='badge']").count() == 1
    assert wcag_violations(axe, page) == []
