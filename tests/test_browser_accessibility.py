"""WCAG 2.1 A/AA rules of axe-core, in a real browser, on every page that exists."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


@pytest.fixture(scope="module")
def axe():
    return Axe()


def _violations(axe, page) -> list[str]:
    results = axe.run(page, options=WCAG_21_AA)
    return [
        f"{item['id']}: {item['help']} ({len(item['nodes'])} element(s), "
        f"first: {item['nodes'][0]['html'][:120]})"
        for item in results.response["violations"]
    ]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("page", [{}, {"viewport": (375, 740)}], indirect=True)
def test_pages_have_no_wcag_violation(page, live_server, territory, axe, path):
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(live_server.url + path)
    assert _violations(axe, page) == []


def test_form_errors_are_accessible(page, live_server, axe):
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("input[name=email]", "not-an-email@")
    page.fill("input[name=password1]", "short")
    page.fill("input[name=password2]", "other")
    page.evaluate("document.querySelector('main form').noValidate = true")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.locator(".errorlist").count() >= 1
    assert _violations(axe, page) == []
