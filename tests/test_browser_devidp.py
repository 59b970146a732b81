"""The FranceConnect simulator's authorize page in a real browser: pick, click, redirected."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.common.security import generate_token

from alzette.devidp.clients import FRANCECONNECT, PROCONNECT, demo_client
from tests.browser import wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path_factory):
    settings.DATA_DIR = tmp_path_factory.getbasetemp() / "devidp-browser"


def _authorize_url(live_server, provider: str, state: str) -> tuple[str, str]:
    client = demo_client(provider)
    redirect_uri = live_server.url + client.redirect_paths[0]
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid email",
        "state": state,
        "nonce": generate_token(40),
        "acr_values": "eidas1",
    }
    return f"{live_server.url}/dev-idp/{provider}/authorize?{urlencode(params)}", redirect_uri


def test_picking_an_identity_goes_back_to_the_client_with_a_code(page, live_server):
    state = generate_token(40)
    url, redirect_uri = _authorize_url(live_server, FRANCECONNECT, state)
    page.goto(url)
    assert page.get_attribute("html", "lang") == "fr"
    with page.expect_navigation(url=f"{redirect_uri}?*"):
        page.get_by_role("button", name="Maria Fernanda MARTINS").click()
    returned = {name: values[0] for name, values in parse_qs(urlsplit(page.url).query).items()}
    assert page.url.startswith(redirect_uri + "?")
    assert returned["code"]
    assert returned["state"] == state
    assert returned["iss"] == f"{live_server.url}/dev-idp/franceconnect"


@pytest.mark.parametrize("provider", [FRANCECONNECT, PROCONNECT])
@pytest.mark.parametrize("page", [{}, {"viewport": (375, 740)}], indirect=True)
def test_authorize_page_has_no_wcag_violation(page, live_server, provider, axe):
    url, _redirect_uri = _authorize_url(live_server, provider, generate_token(40))
    page.goto(url)
    assert wcag_violations(axe, page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_refusal_page_has_no_wcag_violation(page, live_server, axe):
    page.goto(f"{live_server.url}/dev-idp/franceconnect/authorize?client_id=unknown")
    assert page.locator("h1").count() == 1
    assert wcag_violations(axe, page) == []
