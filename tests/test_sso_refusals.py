"""The OpenID Provider refuses bad input: at the authorization, token, userinfo,
revocation and logout endpoints, and on the consent form.

Django's test client (same middleware, no socket) keeps this file fast; the
whole flow over HTTP with Authlib is in tests/test_sso.py, whose fixtures these
tests share.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from alzette.personal.sso.models import Consent
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory
from tests.test_sso import (
    SERVICE_A,
    SERVICE_B,
    ConsentForm,
    _sso_settings,
    query,
    random_value,
    register,
    service_a,
    service_b,
    sso_signing_key,
)

#: Fixtures defined in tests/test_sso.py (and its helpers), used here by name.
SHARED_FIXTURES = (_sso_settings, service_a, service_b, sso_signing_key)

DB = pytest.mark.django_db(databases=ALL_DATABASES)
AUTHORIZE = "/o/authorize/"
TOKEN = "/o/token/"
USERINFO = "/o/userinfo/"
REVOKE = "/o/revoke_token/"
LOGOUT = "/o/logout/"


def challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_uri(registration) -> str:
    return registration.application.redirect_uris.split()[0]


def authorization_params(registration, verifier: str, **overrides: str | None) -> dict:
    params = {
        "response_type": "code",
        "client_id": registration.application.client_id,
        "redirect_uri": redirect_uri(registration),
        "scope": "openid profile email",
        "state": random_value(),
        "nonce": random_value(),
        "code_challenge": challenge(verifier),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


@pytest.fixture
def citizen_browser(citizen):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    return browser


def consent_page(browser: Client, registration, verifier: str, **overrides):
    return browser.get(AUTHORIZE, authorization_params(registration, verifier, **overrides))


def allow(browser: Client, page) -> str:
    """Press Allow with the page's own hidden fields and CSRF token; the redirect."""
    form = ConsentForm(page.content.decode())
    response = browser.post(form.action, {**form.fields, "allow": "true"})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def new_code(browser: Client, registration, verifier: str, **overrides) -> str:
    page = consent_page(browser, registration, verifier, **overrides)
    if page.status_code == 302:
        location = page["Location"]
    else:
        assert page.status_code == 200, page.content[:500]
        location = allow(browser, page)
    return query(location)["code"]


def exchange(registration, code: str, verifier: str | None, **overrides: str | None):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(registration),
        "client_id": registration.application.client_id,
        "client_secret": registration.client_secret,
        "code_verifier": verifier,
    }
    data.update(overrides)
    return Client().post(TOKEN, {name: value for name, value in data.items() if value is not None})


def tokens(browser, registration) -> dict:
    verifier = random_value(64)
    response = exchange(registration, new_code(browser, registration, verifier), verifier)
    assert response.status_code == 200, response.content
    return response.json()


def userinfo(access_token: str | None, **headers):
    if access_token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {access_token}"
    return Client().get(USERINFO, **headers)


# --- Authorization endpoint ---------------------------------------------------------------


@DB
@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/oidc/callback",
        f"{SERVICE_A}/oidc/other",
        f"{SERVICE_A}/oidc/callback/",
        f"{SERVICE_A}/oidc/callback?next=/",
        "http://mediatheque.example.org/oidc/callback",
        f"{SERVICE_B}/oidc/callback",
    ],
    ids=["other-host", "other-path", "trailing-slash", "extra-query", "http", "other-service"],
)
def test_an_unregistered_redirect_uri_is_never_followed(
    citizen_browser, service_a, service_b, redirect_uri
):
    page = consent_page(citizen_browser, service_a, random_value(64), redirect_uri=redirect_uri)
    assert page.status_code == 400
    assert "Location" not in page
    assert b"sso-consent-form" not in page.content
    assert b"message error" in page.content


@DB
@pytest.mark.parametrize("client_id", ["unknown-client", None])
def test_an_unknown_or_missing_client_gets_an_error_page(citizen_browser, service_a, client_id):
    page = consent_page(citizen_browser, service_a, random_value(64), client_id=client_id)
    assert page.status_code == 400 and "Location" not in page


@DB
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"scope": "openid profile phone"}, "invalid_scope"),
        ({"scope": "openid address"}, "invalid_scope"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unauthorized_client"),
        ({"prompt": "none login"}, "invalid_request"),
    ],
    ids=[
        "unknown-scope",
        "address-scope",
        "no-openid",
        "no-pkce",
        "plain-pkce",
        "pkce-without-method",
        "implicit",
        "implicit-id-token",
        "hybrid",
        "prompt-none-and-login",
    ],
)
def test_bad_authorization_requests_go_back_to_the_service_with_an_error(
    citizen_browser, citizen, service_a, overrides, error
):
    params = authorization_params(service_a, random_value(64), **overrides)
    response = citizen_browser.get(AUTHORIZE, params)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{SERVICE_A}/oidc/callback?")
    returned = query(response["Location"])
    assert returned["error"] == error
    assert returned["state"] == params["state"]
    assert "code" not in returned
    assert not Grant.objects.exists() and not Consent.objects.exists()


@DB
def test_a_scope_the_service_was_not_granted_is_refused(citizen_browser):
    limited = register(scopes=["openid", "profile"])
    response = citizen_browser.get(
        AUTHORIZE, authorization_params(limited, random_value(64), scope="openid email")
    )
    assert query(response["Location"])["error"] == "invalid_scope"
    page = consent_page(citizen_browser, limited, random_value(64), scope="openid profile")
    assert ConsentForm(page.content.decode()).scopes == ["openid", "profile"]


@DB
def test_an_anonymous_visitor_is_sent_to_sign_in_first(service_a):
    params = authorization_params(service_a, random_value(64))
    response = Client().get(AUTHORIZE, params)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    none = Client().get(AUTHORIZE, {**params, "prompt": "none"})
    assert query(none["Location"])["error"] == "login_required"


@DB
def test_prompt_none_needs_a_remembered_consent(citizen_browser, service_a):
    verifier = random_value(64)
    silent = consent_page(citizen_browser, service_a, verifier, prompt="none")
    assert query(silent["Location"])["error"] == "consent_required"
    new_code(citizen_browser, service_a, verifier)
    silent = consent_page(citizen_browser, service_a, verifier, prompt="none")
    assert "code" in query(silent["Location"])
    # More than was agreed, or prompt=consent: the screen again.
    limited = consent_page(citizen_browser, service_a, verifier, prompt="consent")
    assert limited.status_code == 200


@DB
def test_a_service_without_a_sector_is_refused(citizen_browser):
    from oauth2_provider.models import Application

    application = Application.objects.create(
        name="Two hosts",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{SERVICE_A}/oidc/callback {SERVICE_B}/oidc/callback",
        algorithm=Application.RS256_ALGORITHM,
    )
    response = citizen_browser.get(
        AUTHORIZE,
        {
            **authorization_params(register(), random_value(64)),
            "client_id": application.client_id,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and b"not set up correctly" in response.content


# --- The consent form ----------------------------------------------------------------------


@DB
def test_the_consent_form_needs_its_csrf_token(citizen_browser, service_a):
    page = consent_page(citizen_browser, service_a, random_value(64))
    fields = ConsentForm(page.content.decode()).fields
    fields.pop("csrfmiddlewaretoken")
    forged = citizen_browser.post(AUTHORIZE, {**fields, "allow": "true"})
    assert forged.status_code == 403
    assert not Grant.objects.exists() and not Consent.objects.exists()


@DB
def test_another_session_s_token_does_not_pass(citizen_browser, service_a):
    """A page posting the form from another origin carries the attacker's token, not the
    person's (CSRF cookie and token are tied to the session's browser)."""
    attacker = Client(enforce_csrf_checks=True)
    attacker.force_login(UserFactory())
    attacker_page = consent_page(attacker, service_a, random_value(64))
    attacker_fields = ConsentForm(attacker_page.content.decode()).fields
    forged = citizen_browser.post(AUTHORIZE, {**attacker_fields, "allow": "true"})
    assert forged.status_code == 403
    assert not Grant.objects.exists()


@DB
@pytest.mark.parametrize(
    "tamper",
    [
        {"redirect_uri": "https://evil.example/oidc/callback"},
        {"client_id": "unknown-client"},
        {"scope": "openid profile email phone"},
        {"code_challenge_method": "plain"},
    ],
    ids=["redirect", "client", "scope", "pkce"],
)
def test_tampered_hidden_fields_are_checked_again(citizen_browser, service_a, tamper):
    page = consent_page(citizen_browser, service_a, random_value(64))
    fields = ConsentForm(page.content.decode()).fields
    response = citizen_browser.post(AUTHORIZE, {**fields, **tamper, "allow": "true"})
    location = response.get("Location", "")
    assert not location.startswith("https://evil.example")
    assert "code=" not in location
    assert not Grant.objects.exists() and not Consent.objects.exists()


@DB
def test_denying_cannot_be_turned_into_a_redirect_elsewhere(citizen_browser, service_a):
    page = consent_page(citizen_browser, service_a, random_value(64))
    fields = ConsentForm(page.content.decode()).fields
    response = citizen_browser.post(
        AUTHORIZE, {**fields, "redirect_uri": "https://evil.example/steal"}
    )
    assert response.status_code == 400 and "Location" not in response


# --- Token endpoint -------------------------------------------------------------------------


@DB
@pytest.mark.parametrize(
    ("verifier", "error"),
    [(None, "invalid_request"), ("w" * 64, "invalid_grant"), ("short", "invalid_grant")],
    ids=["missing", "wrong", "malformed"],
)
def test_the_pkce_verifier_must_match(citizen_browser, service_a, verifier, error):
    good = random_value(64)
    code = new_code(citizen_browser, service_a, good)
    refused = exchange(service_a, code, verifier)
    assert refused.status_code == 400 and refused.json()["error"] == error
    assert not AccessToken.objects.exists()


@DB
def test_a_replayed_code_is_refused_and_revokes_what_it_gave(citizen_browser, service_a):
    verifier = random_value(64)
    code = new_code(citizen_browser, service_a, verifier)
    first = exchange(service_a, code, verifier)
    assert first.status_code == 200
    issued = first.json()
    assert userinfo(issued["access_token"]).status_code == 200

    replay = exchange(service_a, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert userinfo(issued["access_token"]).status_code == 401
    refresh = Client().post(
        TOKEN,
        {
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
            "client_id": service_a.application.client_id,
            "client_secret": service_a.client_secret,
        },
    )
    assert refresh.json()["error"] == "invalid_grant"


@DB
def test_an_expired_code_is_refused(citizen_browser, service_a):
    verifier = random_value(64)
    code = new_code(citizen_browser, service_a, verifier)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert exchange(service_a, code, verifier).json()["error"] == "invalid_grant"


@DB
def test_a_code_is_bound_to_its_service_and_redirect_uri(citizen_browser, service_a, service_b):
    verifier = random_value(64)
    code = new_code(citizen_browser, service_a, verifier)
    stolen = exchange(
        service_b,
        code,
        verifier,
        redirect_uri=f"{SERVICE_B}/oidc/callback",
    )
    assert stolen.json()["error"] == "invalid_grant"
    moved = exchange(service_a, code, verifier, redirect_uri=f"{SERVICE_A}/signed-out")
    assert moved.status_code in (400, 401) and moved.json()["error"] in (
        "invalid_request",
        "mismatching_redirect_uri",
    )
    assert exchange(service_a, code, verifier).status_code == 200


@DB
@pytest.mark.parametrize("secret", ["not-the-secret", "", None], ids=["wrong", "empty", "missing"])
def test_a_wrong_client_secret_is_refused(citizen_browser, service_a, secret):
    verifier = random_value(64)
    code = new_code(citizen_browser, service_a, verifier)
    refused = exchange(service_a, code, verifier, client_secret=secret)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert exchange(service_a, code, verifier).status_code == 200


@DB
@pytest.mark.parametrize(
    "grant_type",
    ["password", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code"],
)
def test_other_grant_types_are_refused(service_a, grant_type):
    response = Client().post(
        TOKEN,
        {
            "grant_type": grant_type,
            "username": "someone@example.org",
            "password": "x",
            "device_code": "x",
            "client_id": service_a.application.client_id,
            "client_secret": service_a.client_secret,
        },
    )
    assert response.status_code in (400, 404)
    assert "access_token" not in response.content.decode()


# --- Refresh tokens ---------------------------------------------------------------------------


def refresh(registration, refresh_token: str, **extra: str):
    return Client().post(
        TOKEN,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": registration.application.client_id,
            "client_secret": registration.client_secret,
            **extra,
        },
    )


@DB
def test_a_refresh_cannot_widen_the_scope(citizen_browser, service_a):
    verifier = random_value(64)
    code = new_code(citizen_browser, service_a, verifier, scope="openid profile")
    issued = exchange(service_a, code, verifier).json()
    wider = refresh(service_a, issued["refresh_token"], scope="openid profile email")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = refresh(service_a, issued["refresh_token"], scope="openid")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "openid"


@DB
def test_a_replayed_refresh_token_revokes_the_whole_family(citizen_browser, service_a):
    issued = tokens(citizen_browser, service_a)
    rotated = refresh(service_a, issued["refresh_token"]).json()
    assert userinfo(rotated["access_token"]).status_code == 200

    replay = refresh(service_a, issued["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert userinfo(rotated["access_token"]).status_code == 401
    assert refresh(service_a, rotated["refresh_token"]).json()["error"] == "invalid_grant"


@DB
def test_a_refresh_token_works_for_its_own_service_only(citizen_browser, service_a, service_b):
    issued = tokens(citizen_browser, service_a)
    assert refresh(service_b, issued["refresh_token"]).json()["error"] == "invalid_grant"


# --- Userinfo -------------------------------------------------------------------------------


@DB
def test_userinfo_refuses_missing_expired_revoked_and_misplaced_tokens(
    citizen_browser, citizen, service_a
):
    issued = tokens(citizen_browser, service_a)
    assert userinfo(issued["access_token"]).status_code == 200

    assert userinfo(None).status_code == 401
    assert userinfo("not-a-token").status_code == 401
    in_query = Client().get(USERINFO, {"access_token": issued["access_token"]})
    assert in_query.status_code == 400, "RFC 9700: no access token in the query string"
    assert in_query.json()["error"] == "invalid_request"

    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    expired = userinfo(issued["access_token"])
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired["WWW-Authenticate"]

    fresh = refresh(service_a, issued["refresh_token"]).json()
    assert userinfo(fresh["access_token"]).status_code == 200
    revoked = Client().post(
        REVOKE,
        {
            "token": fresh["access_token"],
            "token_type_hint": "access_token",
            "client_id": service_a.application.client_id,
            "client_secret": service_a.client_secret,
        },
    )
    assert revoked.status_code == 200
    assert userinfo(fresh["access_token"]).status_code == 401
    # Revoking the access token revoked its refresh token too.
    assert refresh(service_a, fresh["refresh_token"]).json()["error"] == "invalid_grant"

    again = tokens(citizen_browser, service_a)
    citizen.is_active = False
    citizen.save()
    assert userinfo(again["access_token"]).status_code == 401


@DB
def test_a_service_cannot_revoke_another_service_s_token(citizen_browser, service_a, service_b):
    issued = tokens(citizen_browser, service_a)
    response = Client().post(
        REVOKE,
        {
            "token": issued["access_token"],
            "client_id": service_b.application.client_id,
            "client_secret": service_b.client_secret,
        },
    )
    assert response.status_code == 200  # RFC 7009: no disclosure
    assert userinfo(issued["access_token"]).status_code == 200
    wrong_secret = Client().post(
        REVOKE,
        {
            "token": issued["access_token"],
            "client_id": service_a.application.client_id,
            "client_secret": "not-the-secret",
        },
    )
    assert wrong_secret.status_code == 401
    assert userinfo(issued["access_token"]).status_code == 200


# --- RP-initiated logout ------------------------------------------------------------------------


@DB
@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": "https://evil.example/signed-out"},
        {"post_logout_redirect_uri": f"{SERVICE_A}/oidc/callback"},
        {"id_token_hint": "not.a.token"},
    ],
    ids=["unregistered-uri", "redirect-uri-is-not-a-logout-uri", "bad-hint"],
)
def test_logout_refuses_what_it_cannot_check(citizen_browser, service_a, params):
    issued = tokens(citizen_browser, service_a)
    params = {"id_token_hint": issued["id_token"], "state": "xyz", **params}
    response = citizen_browser.get(f"{LOGOUT}?{urlencode(params)}")
    assert response.status_code == 400 and "Location" not in response
    assert userinfo(issued["access_token"]).status_code == 200, "still signed in"


@DB
def test_logout_with_another_service_s_client_id_is_refused(citizen_browser, service_a, service_b):
    issued = tokens(citizen_browser, service_a)
    response = citizen_browser.get(
        LOGOUT,
        {
            "id_token_hint": issued["id_token"],
            "client_id": service_b.application.client_id,
            "post_logout_redirect_uri": f"{SERVICE_B}/signed-out",
        },
    )
    assert response.status_code == 400 and "Location" not in response


@DB
def test_logout_ends_the_session_and_the_service_s_tokens(citizen_browser, service_a, service_b):
    issued = tokens(citizen_browser, service_a)
    elsewhere = tokens(citizen_browser, service_b)
    response = citizen_browser.get(
        LOGOUT,
        {
            "id_token_hint": issued["id_token"],
            "post_logout_redirect_uri": f"{SERVICE_A}/signed-out",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{SERVICE_A}/signed-out"
    assert userinfo(issued["access_token"]).status_code == 401
    assert not RefreshToken.objects.filter(
        application=service_a.application, revoked__isnull=True
    ).exists()
    assert citizen_browser.get("/my-data/").status_code == 302, "signed out of the platform"
    # Another service's tokens are its own business.
    assert userinfo(elsewhere["access_token"]).status_code == 200


@DB
def test_prompt_login_asks_to_sign_in_again(citizen_browser, service_a):
    params = authorization_params(service_a, random_value(64), prompt="login")
    response = citizen_browser.get(AUTHORIZE, params)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/o/authorize/")
    assert "prompt" not in response["Location"]
    assert citizen_browser.get("/my-data/").status_code == 302, "the session was ended"


@DB
def test_tokens_and_secrets_are_stored_hashed(citizen_browser, service_a):
    from oauth2_provider.models import Application

    issued = tokens(citizen_browser, service_a)
    assert list(AccessToken.objects.values_list("token", flat=True)) == [""]
    assert list(RefreshToken.objects.values_list("token", flat=True)) == [""]
    checksum = hashlib.sha256(issued["access_token"].encode()).hexdigest()
    assert AccessToken.objects.filter(token_checksum=checksum).exists()
    stored_secret = Application.objects.get(pk=service_a.application.pk).client_secret
    assert service_a.client_secret not in stored_secret
