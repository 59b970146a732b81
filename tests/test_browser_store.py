"""The service store in a real browser: a citizen finds a service, activates it, then
signs in to it, a sample third-party application (Authlib, on a port of its own),
without being asked again; the pages pass axe-core and fit a phone."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests

from alzette.personal.sso.models import Consent
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.factories import store_provider, store_service
from tests.test_sso import (
    _sso_settings,
    discovery,
    random_value,
    relying_party,
    sso_signing_key,
    verify_id_token,
)

SHARED_FIXTURES = (_sso_settings, sso_signing_key)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


class SampleService:
    """A third-party web application that signs people in with Alzette (Authlib as its
    OpenID Connect client, PKCE S256, ID token verified against the JWKS)."""

    def __init__(self, provider_url: str) -> None:
        self.provider_url = provider_url
        self.registration = None
        self.pending: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.server = make_server("127.0.0.1", 0, self.app, handler_class=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/callback":
            return self._callback(environ, start_response)
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        session = self.sessions.get(cookie["sid"].value) if "sid" in cookie else None
        if session is None:
            return self._authorize(start_response)
        body = (
            f"<h1>Bonjour {html.escape(session['given_name'])}</h1><p id=sub>{session['sub']}</p>"
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [f"<!DOCTYPE html><html lang=fr><title>Covoiturage</title>{body}".encode()]

    def _authorize(self, start_response):
        config = discovery_of(self.provider_url)
        client = relying_party(self.registration, scope="openid profile")
        verifier, nonce = random_value(64), random_value()
        url, state = client.create_authorization_url(
            config["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        self.pending[state] = {"verifier": verifier, "nonce": nonce}
        start_response("302 Found", [("Location", url)])
        return [b""]

    def _callback(self, environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ["QUERY_STRING"]).items()}
        kept = self.pending.pop(query.get("state", ""), None)
        if kept is None or "code" not in query:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"refused: {query}".encode()]
        config = discovery_of(self.provider_url)
        client = relying_party(self.registration, scope="openid profile")
        token = client.fetch_token(
            config["token_endpoint"],
            authorization_response=f"{self.url}/callback?{environ['QUERY_STRING']}",
            code_verifier=kept["verifier"],
        )
        claims = verify_id_token(
            _Live(self.provider_url), token["id_token"], self.registration, kept["nonce"]
        )
        userinfo = client.get(config["userinfo_endpoint"]).json()
        sid = random_value()
        self.sessions[sid] = {"sub": claims["sub"], "given_name": userinfo["given_name"]}
        start_response("302 Found", [("Location", "/"), ("Set-Cookie", f"sid={sid}; Path=/")])
        return [b""]


class _Live:
    def __init__(self, url: str) -> None:
        self.url = url


def discovery_of(provider_url: str) -> dict:
    return discovery(_Live(provider_url))


@pytest.fixture
def sample_service(live_server) -> Iterator[SampleService]:
    service = SampleService(live_server.url)
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture
def covoiturage(units, partner, sample_service):
    from alzette.personal.sso.services import register_client

    registration = register_client(
        "Covoiturage frontalier", [f"{sample_service.url}/callback"], scopes=["openid", "profile"]
    )
    sample_service.registration = registration
    provider = store_provider(
        "alzette-labs", "private_general_interest", organisation=partner.partner_organisation
    )
    return store_service(
        provider,
        "covoiturage",
        application=registration.application,
        redirect_uris=f"{sample_service.url}/callback",
        requested_scopes="profile",
        web_url=f"{sample_service.url}/",
        name={"fr": "Covoiturage frontalier", "en": "Cross-border car sharing"},
        summary={"fr": "Partagez vos trajets vers le Luxembourg."},
    )


def test_activate_a_service_then_sign_in_to_it_without_being_asked_again(
    page, live_server, citizen, covoiturage, sample_service, axe
):
    citizen.first_name = "Camille"
    citizen.save()
    log_in(page, live_server, citizen, "/services/")
    page.fill("#id_q", "covoiturage")
    with page.expect_navigation():
        page.click("main form[role=search] button[type=submit]")
    assert page.locator(".store-card").count() == 1
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click(".store-card a")
    scopes = page.locator(".store-box ul.sso-scopes li")
    assert [scopes.nth(i).get_attribute("data-scope") for i in range(scopes.count())] == [
        "openid",
        "profile",
    ]
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("button[name=activate]")
    assert page.locator(".store-box h2").inner_text() == "Activé pour vous"
    assert Consent.objects.get(user=citizen).scopes == ["openid", "profile"]

    # Single sign-on: no consent screen, straight back to the service, signed in.
    with page.expect_navigation(url=f"{sample_service.url}/"):
        page.click("a.store-open")
    assert page.locator("h1").inner_text() == "Bonjour Camille"
    assert len(page.locator("#sub").inner_text()) == 43  # a pairwise subject

    # Deactivating revokes: the service's session there is its own, but a new sign-in
    # meets the consent screen again.
    page.goto(f"{live_server.url}/services/covoiturage/")
    with page.expect_navigation():
        page.click("button[name=deactivate]")
    assert not Consent.objects.filter(user=citizen).exists()
    response = requests.get(f"{sample_service.url}/", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and "/o/authorize/" in response.headers["Location"]
    page.goto(response.headers["Location"])
    assert page.locator("form.sso-consent-form").count() == 1


@pytest.mark.parametrize("page", [{"viewport": (375, 740)}], indirect=True)
def test_the_store_fits_a_phone(page, live_server, covoiturage, axe):
    page.goto(f"{live_server.url}/services/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert wcag_violations(axe, page) == []
    page.goto(f"{live_server.url}/services/providers/alzette-labs/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert wcag_violations(axe, page) == []


def test_a_partner_proposes_a_service_on_an_accessible_form(
    page, live_server, partner, covoiturage, axe
):
    log_in(page, live_server, partner, "/services/manage/")
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("a[href='/services/manage/new/']")
    with page.expect_navigation():
        page.click("form.store-form button[type=submit]")  # empty: errors, nothing saved
    assert page.locator("#form-errors").count() == 1
    assert wcag_violations(axe, page) == []
    page.fill("#id_slug", "velos")
    page.fill("#id_name_fr", "Vélos partagés")
    page.fill("#id_summary_fr", "Des vélos en libre-service.")
    page.fill("#id_description_fr", "Dans les huit communes.")
    page.select_option("#id_provider", label="Alzette Labs")
    page.select_option("#id_theme", "mobility")
    page.fill("#id_web_url", "https://velos.example.org/")
    with page.expect_navigation(url=f"{live_server.url}/services/manage/"):
        page.click("form.store-form button[type=submit]")
    assert page.locator("tr[data-slug=velos] td[data-status=draft]").count() == 1
