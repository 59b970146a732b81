"""FranceConnect and ProConnect relying parties, end to end over HTTP against the simulators.

A requests.Session plays the browser; the platform's callback calls the
simulator's token and userinfo endpoints over HTTP itself. Nothing is mocked.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlparse

import pyotp
import pytest
import requests

from alzette.personal.accounts.models import Role, User
from alzette.personal.identity.models import FederatedIdentity, PivotIdentity
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    """Just enough of a browser: cookies, forms with CSRF, manual redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(self._abs(url), allow_redirects=False, timeout=30, **kwargs)

    def post_form(self, page_url: str, action: str, data: dict) -> requests.Response:
        page = self.http.get(self._abs(page_url), timeout=30)
        token = CSRF.search(page.text).group(1)
        return self.http.post(
            self._abs(action),
            data={"csrfmiddlewaretoken": token, **data},
            allow_redirects=False,
            timeout=30,
            headers={"Referer": self._abs(page_url)},
        )

    def follow(self, response: requests.Response, limit: int = 10) -> requests.Response:
        for _ in range(limit):
            if response.status_code not in (301, 302, 303):
                return response
            response = self.get(response.headers["Location"])
        raise AssertionError("too many redirects")

    def _abs(self, url: str) -> str:
        return url if url.startswith("http") else self.base + url


def _start(browser: Browser, provider: str, next_url: str = "") -> requests.Response:
    """Press the provider's button on the sign-in page; returns the redirect to the IdP."""
    response = browser.post_form(
        "/accounts/login/", f"/accounts/{provider}/login/", {"next": next_url}
    )
    assert response.status_code == 302, response.text[:500]
    return response


def _choose(browser: Browser, authorize: requests.Response, identity_index: int = 0):
    """On the simulator's page, pick an identity; returns the redirect to our callback."""
    page = browser.get(authorize.headers["Location"])
    assert page.status_code == 200, page.text[:500]
    form = page.text[page.text.index('class="devidp-form"') :]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    buttons = re.findall(r'name="identity" value="([^"]+)"', page.text)
    action = re.search(r'<form method="post" action="([^"]*/dev-idp/[^"]*)"', page.text)
    target = action.group(1) if action and action.group(1) else authorize.headers["Location"]
    target = target if target.startswith("http") else browser.base + target
    response = browser.http.post(
        target,
        data={**hidden, "identity": buttons[identity_index]},
        allow_redirects=False,
        timeout=30,
        headers={"Referer": authorize.headers["Location"]},
    )
    assert response.status_code in (302, 303), response.text[:500]
    return response


def _signed_in_email(browser: Browser) -> str | None:
    page = browser.get("/").text
    found = re.search(r'class="whoami">([^<]+)<', page)
    return found.group(1) if found else None


@pytest.fixture
def browser(live_server):
    return Browser(live_server.url)


def test_franceconnect_creates_a_citizen_with_the_pivot_identity(browser, units):
    callback = _choose(browser, _start(browser, "franceconnect"))
    assert "/accounts/franceconnect/callback/" in callback.headers["Location"]
    query = parse_qs(urlparse(callback.headers["Location"]).query)
    assert query["iss"][0].endswith("/dev-idp/franceconnect")
    landing = browser.follow(browser.get(callback.headers["Location"]))
    assert landing.status_code == 200
    email = _signed_in_email(browser)
    user = User.objects.get(email=email)
    assert user.role == Role.CITIZEN and not user.has_usable_password()
    pivot = PivotIdentity.objects.get(user=user)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", pivot.birthdate)
    assert pivot.gender in ("male", "female") and len(pivot.birthcountry) == 5
    assert FederatedIdentity.objects.filter(user=user, provider="franceconnect").count() == 1


def test_a_returning_citizen_reaches_the_same_account(browser, live_server, units):
    browser.follow(
        browser.get(_choose(browser, _start(browser, "franceconnect")).headers["Location"])
    )
    first = _signed_in_email(browser)
    other = Browser(live_server.url)
    other.follow(other.get(_choose(other, _start(other, "franceconnect")).headers["Location"]))
    assert _signed_in_email(other) == first
    assert User.objects.filter(email=first).count() == 1


def test_an_existing_email_is_never_linked_on_its_own(browser, units):
    from alzette.devidp.identities import CITIZENS as FRANCECONNECT_IDENTITIES

    UserFactory(email=FRANCECONNECT_IDENTITIES[0].email)
    callback = _choose(browser, _start(browser, "franceconnect"))
    refused = browser.get(callback.headers["Location"])
    assert refused.status_code == 403
    assert not PivotIdentity.objects.exists() and not FederatedIdentity.objects.exists()
    assert _signed_in_email(browser) is None


def test_a_signed_in_citizen_links_franceconnect_to_their_account(browser, units):
    UserFactory(email="camille@example.org")
    browser.post_form(
        "/accounts/login/",
        "/accounts/login/",
        {"login": "camille@example.org", "password": "correct-horse-battery-staple"},
    )
    assert _signed_in_email(browser) == "camille@example.org"
    callback = _choose(browser, _start(browser, "franceconnect"))
    linked = browser.get(callback.headers["Location"])
    assert linked.status_code == 302
    user = User.objects.get(email="camille@example.org")
    assert PivotIdentity.objects.filter(user=user).exists()


def test_a_replayed_state_is_refused(browser, units):
    callback = _choose(browser, _start(browser, "franceconnect"))
    browser.follow(browser.get(callback.headers["Location"]))
    replay = browser.get(callback.headers["Location"])
    assert replay.status_code == 400


@pytest.mark.parametrize("tamper", ["no_state", "forged_state", "wrong_iss", "no_code"])
def test_tampered_callbacks_are_refused(browser, units, tamper):
    callback = _choose(browser, _start(browser, "franceconnect"))
    url = urlparse(callback.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    if tamper == "no_state":
        query.pop("state")
    elif tamper == "forged_state":
        query["state"] = "x" * 43
    elif tamper == "wrong_iss":
        query["iss"] = "https://evil.example.org"
    else:
        query.pop("code")
    response = browser.get(f"{url.path}?{urlencode(query)}")
    assert response.status_code == 400
    assert _signed_in_email(browser) is None
    assert not User.objects.exists()


def test_cancelling_at_the_provider(browser, units):
    authorize = _start(browser, "franceconnect")
    query = parse_qs(urlparse(authorize.headers["Location"]).query)
    response = browser.get(
        "/accounts/franceconnect/callback/?"
        + urlencode({"error": "access_denied", "state": query["state"][0]})
    )
    assert response.status_code == 200 and _signed_in_email(browser) is None


def test_the_authorization_request_follows_franceconnect_rules(browser):
    query = parse_qs(urlparse(_start(browser, "franceconnect").headers["Location"]).query)
    assert query["acr_values"] == ["eidas1"]
    assert query["scope"] == ["openid identite_pivot email"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["state"][0] != query["nonce"][0]


def test_sign_out_goes_through_the_provider(browser, units):
    browser.follow(
        browser.get(_choose(browser, _start(browser, "franceconnect")).headers["Location"])
    )
    response = browser.post_form("/", "/accounts/franceconnect/logout/", {})
    assert response.status_code == 302
    end_session = urlparse(response.headers["Location"])
    assert (
        end_session.path.endswith("/dev-idp/franceconnect/session/end") or "end" in end_session.path
    )
    params = parse_qs(end_session.query)
    assert {"id_token_hint", "state", "post_logout_redirect_uri"} <= set(params)
    back = browser.get(response.headers["Location"])
    assert back.status_code in (302, 303)
    home = browser.get(back.headers["Location"])
    assert home.status_code == 302 and _signed_in_email(browser) is None


def test_the_start_needs_post_and_a_known_provider(browser):
    assert browser.get("/accounts/franceconnect/login/").status_code == 405
    assert browser.get("/accounts/facebook/login/").status_code == 404


def test_proconnect_lets_an_allowed_domain_in_as_an_agent_of_its_commune(browser, units):
    callback = _choose(browser, _start(browser, "proconnect"), identity_index=0)
    landing = browser.get(callback.headers["Location"])
    assert landing.status_code == 302
    agent = User.objects.get(email__endswith="@mairie-villerupt.fr")
    assert agent.role == Role.AGENT and agent.unit.code == "54580"
    # A new agent has no second factor yet: the platform asks for one first.
    assert browser.get("/").headers["Location"] == "/accounts/2fa/totp/activate/"


def test_proconnect_asks_a_provisioned_agent_for_their_totp_code(browser, units):
    from alzette.devidp.identities import AGENTS as PROCONNECT_IDENTITIES
    from alzette.personal.accounts.models import OrganisationalUnit

    agent = UserFactory(
        email=PROCONNECT_IDENTITIES[1].email,
        role=Role.AGENT,
        unit=OrganisationalUnit.objects.get(code="57038"),
    )
    callback = _choose(browser, _start(browser, "proconnect"), identity_index=1)
    challenge = browser.get(callback.headers["Location"])
    assert (
        challenge.status_code == 302
        and "/accounts/2fa/authenticate/" in challenge.headers["Location"]
    )
    assert _signed_in_email(browser) is None
    done = browser.post_form(
        "/accounts/2fa/authenticate/",
        "/accounts/2fa/authenticate/",
        {"code": pyotp.TOTP(agent.totp_secret).now()},
    )
    assert done.status_code == 302
    assert _signed_in_email(browser) == agent.email


def test_proconnect_refuses_an_unknown_organisation(browser, units):
    callback = _choose(browser, _start(browser, "proconnect"), identity_index=2)
    refused = browser.get(callback.headers["Location"])
    assert refused.status_code == 403
    assert not User.objects.exists()
