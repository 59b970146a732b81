"""The citizen's water page in a real browser, at a phone's width (360 px): it fits,
the charts and the warning are there, and it passes axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from alzette.personal.homewater import services
from alzette.personal.homewater.models import DailyUse, Reading
from alzette.personal.households.services import create_household
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

PHONE = 360


@pytest.fixture
def home(citizen, territory):
    household = create_household("57038", "AUD-0001", members=[citizen])
    services.allocate_meter(household, "W26-000001", "system:test",
                            starts_on=date(2026, 1, 1), persons=2)  # fmt: skip
    today = timezone.localdate()
    for n in range(1, 61):
        DailyUse.objects.create(household=household, day=today - timedelta(days=n), litres=200 + n)
    Reading.objects.create(household=household, serial="W26-000001", at=timezone.now(),
                           index_litres=123456, litres=12)  # fmt: skip
    services.raise_warning(household, "leak", timezone.now() - timedelta(hours=26),
                           {"min_litres_per_hour": 5.0}, serial="W26-000001")  # fmt: skip
    return household


@pytest.mark.parametrize("page", [{"viewport": (PHONE, 800)}], indirect=True)
def test_the_water_page_fits_a_phone_and_is_accessible(page, live_server, citizen, home, axe):
    log_in(page, live_server, citizen, "/water/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert page.locator("#hw-days svg rect.hw-bar").count() == 30
    assert page.locator("#hw-months svg rect.hw-bar").count() == 12
    assert page.locator("#hw-open [data-kind='leak']").count() == 1
    assert wcag_violations(axe, page) == []
    page.click("#hw-days summary")
    page.click("#hw-months summary")
    assert page.locator("#hw-days tbody tr").count() == 30
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("#hw-open button[type=submit]")
    assert page.locator("#hw-open button[type=submit]").count() == 0
