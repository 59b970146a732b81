"""WCAG 2.1 A/AA rules of axe-core, in a real browser, on every page that exists."""

from __future__ import annotations

import pytest

from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/no-such-page/",  # the 404 page
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("page", [{}, {"viewport": (375, 740)}], indirect=True)
def test_pages_have_no_wcag_violation(page, live_server, territory, axe, path):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(live_server.url + path)
    assert wcag_violations(axe, page) == []


def test_form_errors_are_accessible(page, live_server, axe):
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("input[name=email]", "not-an-email@")
    page.fill("input[name=password1]", "short")
    page.fill("input[name=password2]", "other")
    page.evaluate("document.querySelector('main form').noValidate = true")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator(".errorlist").count() >= 1
    assert wcag_violations(axe, page) == []
