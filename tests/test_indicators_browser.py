"""The indicators page in a real browser passes axe-core, values and "not computable" alike."""

from __future__ import annotations

import pytest

from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_indicators import YEAR, _weighing, _write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def test_the_indicators_page_is_accessible(page, live_server, agent_epci, axe):
    _write([_weighing("57038", "glass", "20250304", 1_500.0)])
    path = f"/hypervision/indicators/?year={YEAR}"
    log_in_agent(page, live_server, agent_epci, path)
    assert page.get_attribute("#indicator-waste-recycled", "data-computable") == "true"
    assert page.locator("section.indicator[data-computable=false]").count() >= 3
    page.click("#indicator-waste-recycled summary")
    assert wcag_violations(axe, page) == []
    page.goto(f"{live_server.url}/hypervision/indicators/public/?year=1999")
    assert page.locator("#year-error").count() == 1
    assert wcag_violations(axe, page) == []
