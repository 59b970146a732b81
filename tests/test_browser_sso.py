"""The consent screen in a real browser: in the person's language (German here),
usable on a phone, and WCAG 2.1 AA (axe-core)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from alzette.personal.sso.models import Consent
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD
from tests.test_sso import (
    _sso_settings,
    random_value,
    register,
    relying_party,
    sso_signing_key,
)

#: Fixtures defined in tests/test_sso.py (and its helpers), used here by name.
SHARED_FIXTURES = (_sso_settings, sso_signing_key)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

GERMAN = {"locale": "de-DE"}


@pytest.fixture
def service(live_server):
    """A service whose callback is on the live server (a 404 there, but a page the
    browser can reach: Playwright cannot intercept the redirect to another host)."""
    return register(live_server.url, "Médiathèque du Val")


def _open_consent_screen(page, live_server, user, registration) -> str:
    """Sign in through the real form, then follow the service's authorization request."""
    client = relying_party(registration)
    url, state = client.create_authorization_url(
        f"{live_server.url}/o/authorize/", code_verifier=random_value(64), nonce=random_value()
    )
    path = url.removeprefix(live_server.url)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("main input[name=login]", user.email)
    page.fill("main input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("main input[name=password]", "Enter")
    page.goto(live_server.url + path)
    page.wait_for_selector("form.sso-consent-form")
    return state


@pytest.mark.parametrize("page", [GERMAN], indirect=True)
def test_the_consent_screen_speaks_german_and_allow_goes_back_to_the_service(
    page, live_server, citizen, service, axe
):
    state = _open_consent_screen(page, live_server, citizen, service)
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator("h1").inner_text() == "Bei Médiathèque du Val anmelden"
    scopes = page.locator("ul.sso-scopes li")
    assert [scopes.nth(i).get_attribute("data-scope") for i in range(scopes.count())] == [
        "openid",
        "profile",
        "email",
    ]
    assert scopes.nth(1).inner_text() == "Ihr Vorname und Ihr Nachname"
    assert page.locator("button[name=allow]").inner_text() == "Erlauben"
    assert page.locator("button[name=deny]").inner_text() == "Ablehnen"
    assert wcag_violations(axe, page) == []

    with page.expect_navigation(url=f"{live_server.url}/oidc/callback?**"):
        page.click("button[name=allow]")
    returned = {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}
    assert returned["state"] == state and returned["code"]
    assert Consent.objects.get(user=citizen).scopes == ["openid", "profile", "email"]

    page.goto(live_server.url + "/o/services/")
    assert page.get_attribute("html", "lang") == "de"
    assert page.locator("h1").inner_text() == "Meine verbundenen Dienste"
    assert wcag_violations(axe, page) == []


@pytest.mark.parametrize("page", [{**GERMAN, "viewport": (375, 740)}], indirect=True)
def test_the_consent_screen_fits_a_phone(page, live_server, citizen, service, axe):
    _open_consent_screen(page, live_server, citizen, service)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert wcag_violations(axe, page) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"


@pytest.mark.parametrize("page", [GERMAN], indirect=True)
def test_deny_in_the_browser_sends_access_denied(page, live_server, citizen, service):
    state = _open_consent_screen(page, live_server, citizen, service)
    with page.expect_navigation(url=f"{live_server.url}/oidc/callback?**"):
        page.click("button[name=deny]")
    returned = {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}
    assert returned["error"] == "access_denied" and returned["state"] == state
    assert "code" not in returned
    assert not Consent.objects.exists()
