"""The platform as OpenID Provider, end to end over HTTP against ``live_server``.

Authlib's ``OAuth2Session`` plays the third-party service, a ``requests.Session``
plays the person's browser (sign-in form, consent form, both with CSRF), and
every ID token is verified with joserfc against the published JWKS. Nothing is
mocked.

The fixtures here (provider settings, services, the browser) are shared with
tests/test_sso_refusals.py, tests/test_sso_services.py and
tests/test_browser_sso.py, which import them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet

from alzette.ledger.models import LedgerEntry
from alzette.personal.accounts.models import Role
from alzette.personal.mydata.models import DataAccess, StoredReceipt
from alzette.personal.sso import keys, services
from alzette.personal.sso.conf import oauth2_provider_settings
from alzette.personal.sso.models import Consent
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD, UserFactory

LIVE = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)

PAIRWISE_SECRET = "test-pairwise-secret-" + "s3cr3t" * 8
SERVICE_A = "https://mediatheque.example.org"
SERVICE_B = "https://piscine.example.net"
ALL_SCOPES = "openid profile email"


# --- Provider configuration, as alzette/conf/settings.py sets it --------------------


@pytest.fixture(scope="session")
def sso_signing_key() -> str:
    """A key of the test session's own, never one left in a data directory."""
    return keys.new_signing_key_pem()


@pytest.fixture(autouse=True)
def _sso_settings(settings, sso_signing_key, tmp_path):
    settings.OAUTH2_PROVIDER = {
        **oauth2_provider_settings(
            production=False, data_dir=tmp_path, signing_key=sso_signing_key
        ),
        # DOT caches its oauthlib server per view class: rebuild it from these settings.
        "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
    }
    settings.ALZETTE_SSO_PAIRWISE_SECRET = PAIRWISE_SECRET
    settings.ALZETTE_SSO_PAIRWISE_SECRET_FILE = ""


# --- Services -------------------------------------------------------------------------


def register(origin: str = SERVICE_A, name: str = "Médiathèque du Val", **options):
    return services.register_client(
        name,
        [f"{origin}/oidc/callback"],
        [f"{origin}/signed-out"],
        **options,
    )


@pytest.fixture
def service_a():
    return register()


@pytest.fixture
def service_b():
    return register(SERVICE_B, "Piscine intercommunale")


def random_value(length: int = 43) -> str:
    return generate_token(length)


def relying_party(registration, scope: str = ALL_SCOPES, **options) -> OAuth2Session:
    """The third-party service, as Authlib implements a client."""
    application = registration.application
    return OAuth2Session(
        application.client_id,
        registration.client_secret,
        scope=scope,
        redirect_uri=application.redirect_uris.split()[0],
        code_challenge_method="S256",
        **options,
    )


def discovery(live_server) -> dict:
    response = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return response.json()


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- The person's browser ----------------------------------------------------------------

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class ConsentForm(HTMLParser):
    """The hidden fields and the scopes listed on the consent screen."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.scopes: list[str] = []
        self._inside = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and "sso-consent-form" in (attributes.get("class") or ""):
            self._inside = True
            self.action = attributes.get("action") or ""
        elif self._inside and tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value") or ""
        elif tag == "li" and attributes.get("data-scope"):
            self.scopes.append(attributes["data-scope"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


class Person:
    """Just enough of a browser: cookies, forms with CSRF, no automatic redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(self.url(url), allow_redirects=False, timeout=30, **kwargs)

    def post(self, url: str, data: dict, referer: str = "") -> requests.Response:
        return self.http.post(
            self.url(url),
            data=data,
            allow_redirects=False,
            timeout=30,
            headers={"Referer": referer or self.url(url)},
        )

    def submit(self, page_url: str, data: dict) -> requests.Response:
        """Fill in the form of ``page_url`` (with its CSRF token) and post it there."""
        token = CSRF.search(self.get(page_url).text).group(1)
        return self.post(page_url, {"csrfmiddlewaretoken": token, **data})

    def log_in(self, user) -> None:
        """Through the sign-in form, then the TOTP step for agents and administrators."""
        response = self.submit("/accounts/login/", {"login": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.text[:500]
        if getattr(user, "totp_secret", None):
            assert "/accounts/2fa/authenticate/" in response.headers["Location"]
            response = self.submit(
                "/accounts/2fa/authenticate/", {"code": pyotp.TOTP(user.totp_secret).now()}
            )
            assert response.status_code == 302, response.text[:500]
        assert "whoami" in self.get("/").text

    def consent_screen(self, authorization_url: str) -> requests.Response:
        page = self.get(authorization_url)
        assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
        assert "sso-consent-form" in page.text
        return page

    def answer(self, page: requests.Response, allow: bool = True) -> str:
        """Press Allow (or Deny) on the consent screen; the redirect back to the service."""
        form = ConsentForm(page.text)
        choice = {"allow": "true"} if allow else {"deny": "true"}
        response = self.post(form.action, {**form.fields, **choice}, referer=page.url)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def sign_in_to(self, client: OAuth2Session, endpoint: str, **params) -> tuple[str, dict]:
        """Authorize (PKCE S256), consent if asked; the callback URL and what the service
        kept (state, nonce, code_verifier)."""
        verifier = random_value(64)
        nonce = random_value()
        url, state = client.create_authorization_url(
            endpoint, code_verifier=verifier, nonce=nonce, **params
        )
        response = self.get(url)
        if response.status_code == 200:
            callback = self.answer(response)
        else:
            assert response.status_code == 302, response.text[:500]
            callback = response.headers["Location"]
        return callback, {"state": state, "nonce": nonce, "code_verifier": verifier}


@pytest.fixture
def person(live_server):
    return Person(live_server.url)


def sign_in(person, live_server, registration, user, scope: str = ALL_SCOPES):
    """A whole sign-in of ``user`` to the service: (client, token, verified ID token claims)."""
    config = discovery(live_server)
    client = relying_party(registration, scope=scope)
    callback, kept = person.sign_in_to(client, config["authorization_endpoint"])
    token = client.fetch_token(
        config["token_endpoint"],
        authorization_response=callback,
        code_verifier=kept["code_verifier"],
    )
    claims = verify_id_token(live_server, token["id_token"], registration, kept["nonce"])
    return client, token, claims


def verify_id_token(live_server, id_token: str, registration, nonce: str | None = None) -> dict:
    config = discovery(live_server)
    published = requests.get(config["jwks_uri"], timeout=10).json()
    decoded = jwt.decode(id_token, KeySet.import_key_set(published), algorithms=["RS256"])
    assert decoded.header["alg"] == "RS256"
    assert decoded.header["kid"] in {key["kid"] for key in published["keys"]}
    expected = {
        "iss": {"essential": True, "value": f"{live_server.url}/o"},
        "aud": {"essential": True, "value": registration.application.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "auth_time": {"essential": True},
    }
    if nonce:
        expected["nonce"] = {"essential": True, "value": nonce}
    jwt.JWTClaimsRegistry(**expected).validate(decoded.claims)
    return decoded.claims


# --- Discovery and JWKS ------------------------------------------------------------------


@LIVE
def test_discovery_describes_what_the_provider_does(live_server):
    config = discovery(live_server)
    issuer = f"{live_server.url}/o"
    assert config["issuer"] == issuer
    assert config["authorization_endpoint"] == f"{issuer}/authorize/"
    assert config["token_endpoint"] == f"{issuer}/token/"
    assert config["userinfo_endpoint"] == f"{issuer}/userinfo/"
    assert config["revocation_endpoint"] == f"{issuer}/revoke_token/"
    assert config["end_session_endpoint"] == f"{issuer}/logout/"
    assert config["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert config["subject_types_supported"] == ["pairwise"]
    assert config["response_types_supported"] == ["code"]
    assert config["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["scopes_supported"] == ["openid", "profile", "email"]
    assert set(config["claims_supported"]) == {
        "sub",
        "given_name",
        "family_name",
        "email",
        "email_verified",
    }
    assert "none" in config["token_endpoint_auth_methods_supported"]
    assert config["authorization_response_iss_parameter_supported"] is True
    assert config["ui_locales_supported"] == ["fr", "de", "lb", "en", "pt"]

    published = requests.get(config["jwks_uri"], timeout=10).json()
    assert [key["kty"] for key in published["keys"]] == ["RSA"]
    assert all("d" not in key and "p" not in key for key in published["keys"]), "private key!"
    metadata = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["issuer"] == issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]


# --- The whole flow --------------------------------------------------------------------


@LIVE
def test_whole_flow_with_an_independent_client(live_server, person, service_a):
    citizen = UserFactory(
        email="camille@example.org", first_name="Camille", last_name="Muller", role=Role.CITIZEN
    )
    config = discovery(live_server)
    client = relying_party(service_a)
    application = service_a.application

    # The browser signs in to the platform, then follows the service's authorization request.
    person.log_in(citizen)
    verifier = random_value(64)
    nonce = random_value()
    authorization_url, state = client.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert query(authorization_url)["code_challenge_method"] == "S256"
    page = person.consent_screen(authorization_url)
    form = ConsentForm(page.text)
    assert form.scopes == ["openid", "profile", "email"]
    assert "Médiathèque du Val" in page.text
    assert form.fields["csrfmiddlewaretoken"]
    callback = person.answer(page)

    assert callback.startswith(f"{SERVICE_A}/oidc/callback?")
    returned = query(callback)
    assert returned["state"] == state and returned["code"]
    assert returned["iss"] == config["issuer"]  # RFC 9207

    # The consent is remembered, and its receipt kept for the person.
    consent = Consent.objects.get(user=citizen, application=application)
    assert consent.scopes == ["openid", "profile", "email"]
    receipt = StoredReceipt.objects.get(user=citizen, kind="consent.given")
    assert receipt.object_ref == f"sso-client:{application.client_id}"
    assert receipt.payload == {"service": "Médiathèque du Val", "scopes": consent.scopes}
    entry = LedgerEntry.objects.using("ledger").get(index=receipt.leaf_index)
    assert (entry.kind, entry.actor) == ("consent.given", citizen.pseudonym)

    # Code for tokens (Authlib checks the state), PKCE verifier included.
    token = client.fetch_token(
        config["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 600
    assert set(token["scope"].split()) == {"openid", "profile", "email"}
    claims = verify_id_token(live_server, token["id_token"], service_a, nonce)
    assert claims["at_hash"] == at_hash(token["access_token"])
    # The ID token names nobody: names and address come from userinfo only.
    assert not {"email", "given_name", "family_name", "name"} & set(claims)
    sub = claims["sub"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sub)
    assert citizen.pseudonym not in sub and str(citizen.pk) not in sub

    # Userinfo: the same sub, and what the scopes release.
    answer = client.get(config["userinfo_endpoint"], timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {
        "sub": sub,
        "given_name": "Camille",
        "family_name": "Muller",
        "email": "camille@example.org",
        "email_verified": True,
    }
    (access,) = DataAccess.objects.filter(user=citizen)
    assert (access.accessor_kind, access.accessor_label) == ("service", "Médiathèque du Val")

    # Refresh: a new pair (rotation), a new ID token for the same person.
    refreshed = client.refresh_token(config["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert verify_id_token(live_server, refreshed["id_token"], service_a)["sub"] == sub
    assert client.get(config["userinfo_endpoint"], timeout=10).json()["sub"] == sub

    # Revocation, then userinfo refuses the token.
    revoked = client.revoke_token(
        config["revocation_endpoint"],
        token=refreshed["access_token"],
        token_type_hint="access_token",
    )
    assert revoked.status_code == 200
    refused = client.get(config["userinfo_endpoint"], timeout=10)
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers.get("WWW-Authenticate", "")

    # RP-initiated logout: back to the registered address with the state; signed out.
    logout_state = random_value()
    ended = person.get(
        config["end_session_endpoint"],
        params={
            "id_token_hint": refreshed["id_token"],
            "post_logout_redirect_uri": f"{SERVICE_A}/signed-out",
            "state": logout_state,
        },
    )
    assert ended.status_code == 302
    assert ended.headers["Location"] == f"{SERVICE_A}/signed-out?state={logout_state}"
    assert "whoami" not in person.get("/").text


@LIVE
def test_a_returning_person_is_not_asked_again_and_keeps_their_sub(live_server, person, service_a):
    citizen = UserFactory()
    person.log_in(citizen)
    _client, _token, first = sign_in(person, live_server, service_a, citizen)

    config = discovery(live_server)
    client = relying_party(service_a)
    url, _state = client.create_authorization_url(
        config["authorization_endpoint"], code_verifier=random_value(64)
    )
    again = person.get(url)
    assert again.status_code == 302, "a remembered consent is not asked again"
    assert again.headers["Location"].startswith(f"{SERVICE_A}/oidc/callback?code=")
    _client, _token, second = sign_in(person, live_server, service_a, citizen)
    assert second["sub"] == first["sub"]
    assert StoredReceipt.objects.filter(user=citizen, kind="consent.given").count() == 1


@LIVE
def test_two_services_cannot_link_a_person(live_server, person, service_a, service_b):
    citizen = UserFactory()
    other = UserFactory()
    person.log_in(citizen)
    client_a, _token, at_a = sign_in(person, live_server, service_a, citizen)
    client_b, _token, at_b = sign_in(person, live_server, service_b, citizen)
    assert at_a["sub"] != at_b["sub"]
    assert client_a.get(discovery(live_server)["userinfo_endpoint"]).json()["sub"] == at_a["sub"]
    assert client_b.get(discovery(live_server)["userinfo_endpoint"]).json()["sub"] == at_b["sub"]

    someone_else = Person(live_server.url)
    someone_else.log_in(other)
    _client, _token, other_at_a = sign_in(someone_else, live_server, service_a, other)
    assert other_at_a["sub"] not in (at_a["sub"], at_b["sub"])


@LIVE
def test_services_of_one_sector_share_the_sub(live_server, person):
    citizen = UserFactory()
    booking = register(SERVICE_A, "Réservations")
    loans = register("https://prets.example.org", "Prêts", sector="mediatheque.example.org")
    person.log_in(citizen)
    assert (
        sign_in(person, live_server, booking, citizen)[2]["sub"]
        == sign_in(person, live_server, loans, citizen)[2]["sub"]
    )


@LIVE
@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMINISTRATOR])
def test_agents_and_administrators_sign_in_with_their_second_factor(
    live_server, person, service_a, units, role
):
    from alzette.personal.accounts.models import OrganisationalUnit

    extra = {"unit": OrganisationalUnit.objects.get(code="54580")} if role == Role.AGENT else {}
    user = UserFactory(role=role, first_name="Claire", **extra)
    assert user.totp_secret, "the factory gives them a TOTP authenticator"
    person.log_in(user)
    client, _token, claims = sign_in(person, live_server, service_a, user)
    info = client.get(discovery(live_server)["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["given_name"] == "Claire"
    assert "family_name" not in info, "a claim the account does not hold is left out"


@LIVE
def test_a_public_client_uses_pkce_alone(live_server, person):
    citizen = UserFactory()
    public = register(SERVICE_B, "Application mobile", public=True)
    assert public.client_secret is None
    person.log_in(citizen)
    config = discovery(live_server)
    client = OAuth2Session(
        public.application.client_id,
        scope="openid email",
        redirect_uri=f"{SERVICE_B}/oidc/callback",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    callback, kept = person.sign_in_to(client, config["authorization_endpoint"])
    token = client.fetch_token(
        config["token_endpoint"],
        authorization_response=callback,
        code_verifier=kept["code_verifier"],
    )
    assert verify_id_token(live_server, token["id_token"], public, kept["nonce"])["sub"]
    assert client.get(config["userinfo_endpoint"]).json()["email"] == citizen.email


@LIVE
def test_a_wrong_client_secret_is_refused_to_authlib(live_server, service_a):
    with (
        OAuth2Session(
            service_a.application.client_id,
            "not-the-secret",
            redirect_uri=f"{SERVICE_A}/oidc/callback",
        ) as client,
        pytest.raises(OAuthError) as refused,
    ):
        client.fetch_token(f"{live_server.url}/o/token/", code="whatever", code_verifier="x" * 43)
    assert refused.value.error == "invalid_client"


@LIVE
def test_denying_sends_access_denied_and_shares_nothing(live_server, person, service_a):
    citizen = UserFactory()
    person.log_in(citizen)
    config = discovery(live_server)
    client = relying_party(service_a)
    url, state = client.create_authorization_url(
        config["authorization_endpoint"], code_verifier=random_value(64)
    )
    callback = person.answer(person.consent_screen(url), allow=False)
    assert callback.startswith(f"{SERVICE_A}/oidc/callback?")
    returned = query(callback)
    assert returned["error"] == "access_denied" and returned["state"] == state
    assert "code" not in returned
    assert not Consent.objects.exists()
    assert not StoredReceipt.objects.filter(kind="consent.given").exists()


@LIVE
def test_the_consent_screen_speaks_the_service_s_ui_locales(live_server, person, service_a):
    person.log_in(UserFactory())
    client = relying_party(service_a)
    url, _state = client.create_authorization_url(
        discovery(live_server)["authorization_endpoint"],
        code_verifier=random_value(64),
        ui_locales="de-DE en",
    )
    page = person.consent_screen(url)
    assert '<html lang="de">' in page.text
    # A language the person chose on the platform wins over the service's wish.
    person.http.cookies.set("django_language", "pt")
    assert '<html lang="pt">' in person.consent_screen(url).text


@LIVE
def test_logout_without_a_hint_asks_the_person(live_server, person, service_a):
    person.log_in(UserFactory())
    logout = discovery(live_server)["end_session_endpoint"]
    page = person.get(logout, params={"client_id": service_a.application.client_id})
    assert page.status_code == 200
    assert 'name="allow"' in page.text
    stay = person.post(
        logout,
        {
            "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
            "client_id": service_a.application.client_id,
            "stay": "true",
        },
    )
    assert stay.status_code == 400 and "whoami" in person.get("/").text
    page = person.get(logout, params={"client_id": service_a.application.client_id})
    leave = person.post(
        logout,
        {
            "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
            "client_id": service_a.application.client_id,
            "allow": "true",
        },
    )
    assert leave.status_code == 302 and "whoami" not in person.get("/").text
