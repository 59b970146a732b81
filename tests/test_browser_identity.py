"""FranceConnect sign-in through the simulator, in a real browser."""

from __future__ import annotations

import pytest

from alzette.personal.accounts.models import User
from alzette.personal.identity.models import PivotIdentity
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def test_franceconnect_sign_in_and_out(page, live_server, units):
    page.goto(live_server.url + "/accounts/login/")
    with page.expect_navigation():
        page.click("button.federation-franceconnect")
    assert "/dev-idp/franceconnect/" in page.url
    with page.expect_navigation():
        page.locator("button[name=identity]").first.click()
    assert page.url.rstrip("/") == live_server.url
    email = page.locator(".whoami").inner_text()
    user = User.objects.get(email=email)
    assert PivotIdentity.objects.filter(user=user).exists()

    with page.expect_navigation(url=live_server.url + "/"):
        page.click(".site-header button.link-button")
    assert page.locator(".whoami").count() == 0


def test_the_sign_in_page_offers_both_providers(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    assert page.locator("button.federation-franceconnect").is_visible()
    assert page.locator("button.federation-proconnect").is_visible()
