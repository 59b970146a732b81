"""FranceConnect v2 and ProConnect simulators (alzette.devidp).

The whole flow runs over HTTP against ``live_server`` with Authlib's
OAuth2Session as an independent relying party, and every token is verified
with joserfc against the published JWKS. Bad input goes through Django's test
client (same middleware, no socket), which keeps the file fast.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from alzette.devidp import keys, store
from alzette.devidp.clients import FRANCECONNECT, PROCONNECT, demo_client
from alzette.devidp.identities import AGENTS, CITIZENS, FRANCE
from alzette.devidp.providers import PROVIDERS
from tests.conftest import ALL_DATABASES

LIVE = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)
DB = pytest.mark.django_db(databases=ALL_DATABASES)
TIME_CLAIMS = {"iss", "aud", "sub", "iat", "exp"}


@pytest.fixture(scope="session")
def devidp_data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("devidp-data")


@pytest.fixture(autouse=True)
def _data_dir(settings, devidp_data_dir):
    # Keys go to a scratch data directory, never to the developer's var/.
    settings.DATA_DIR = devidp_data_dir


def random_value(length: int = 43) -> str:
    return generate_token(length)


class AuthorizeForm(HTMLParser):
    """The hidden fields and identity buttons of the simulator's form."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.identities: list[str] = []
        self._inside = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._inside = "devidp-form" in (attributes.get("class") or "")
            if self._inside:
                self.action = attributes["action"]
        elif self._inside and tag == "input" and attributes.get("type") == "hidden":
            self.hidden[attributes["name"]] = attributes.get("value") or ""
        elif self._inside and tag == "button" and attributes.get("name") == "identity":
            self.identities.append(attributes["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- The whole flow, over HTTP, with an independent client -------------------------

FLOWS = [
    pytest.param(
        FRANCECONNECT,
        "openid identite_pivot email preferred_username",
        "eidas1",
        "maria-da-silva",
        "client_secret_basic",
        id="franceconnect",
    ),
    pytest.param(
        PROCONNECT,
        "openid email given_name usual_name uid siret phone organizational_unit "
        "belonging_population",
        None,
        "claire-marchetti",
        "client_secret_post",
        id="proconnect",
    ),
]


@LIVE
@pytest.mark.parametrize(("provider", "scope", "acr", "identity", "auth_method"), FLOWS)
def test_whole_flow_with_an_independent_client(
    live_server, provider, scope, acr, identity, auth_method
):
    base = f"{live_server.url}/dev-idp/{provider}"
    simulated = PROVIDERS[provider]
    registered = demo_client(provider)

    # Discovery.
    config = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == base
    for endpoint in ("authorization", "token", "userinfo", "end_session"):
        assert config[f"{endpoint}_endpoint"].startswith(base + "/")
    assert config["id_token_signing_alg_values_supported"] == [simulated.algorithm]
    assert config["userinfo_signing_alg_values_supported"] == [simulated.algorithm]
    assert config["response_types_supported"] == ["code"]
    assert config["grant_types_supported"] == ["authorization_code"]
    assert set(config["token_endpoint_auth_methods_supported"]) == {
        "client_secret_post",
        "client_secret_basic",
    }
    assert set(scope.split()) <= set(config["scopes_supported"])
    published = requests.get(config["jwks_uri"], timeout=10).json()
    assert all("d" not in key for key in published["keys"]), "the JWKS leaks a private key"
    jwks = KeySet.import_key_set(published)

    # Authorization request, from the relying party.
    redirect_uri = live_server.url + registered.redirect_paths[0]
    relying_party = OAuth2Session(
        registered.client_id,
        registered.client_secret,
        scope=scope,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method=auth_method,
        # Access tokens live 60 s, as ProConnect's do: Authlib's default 60 s
        # leeway would take them for expired on arrival.
        leeway=5,
    )
    nonce = random_value()
    extra = {"acr_values": acr} if acr else {}
    authorization_url, state = relying_party.create_authorization_url(
        config["authorization_endpoint"], state=random_value(), nonce=nonce, **extra
    )

    # The user's browser: the page, then the chosen identity.
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    form = AuthorizeForm(page.text)
    assert identity in form.identities
    chosen = browser.post(
        urljoin(page.url, form.action),
        data={**form.hidden, "identity": identity},
        allow_redirects=False,
        timeout=10,
    )
    assert chosen.status_code == 302
    callback = chosen.headers["Location"]
    assert callback.startswith(redirect_uri + "?")
    returned = query(callback)
    assert returned["state"] == state
    assert returned["code"]
    if simulated.returns_iss:
        assert returned["iss"] == base
    else:
        assert "iss" not in returned

    # Token exchange (Authlib checks the state).
    token = relying_party.fetch_token(config["token_endpoint"], authorization_response=callback)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == store.ACCESS_TOKEN_TTL

    # The ID token: signature from the JWKS, then issuer, audience, nonce.
    id_token = jwt.decode(token["id_token"], jwks, algorithms=[simulated.algorithm])
    assert id_token.header["alg"] == simulated.algorithm
    assert id_token.header["kid"] == published["keys"][0]["kid"]
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base},
        aud={"essential": True, "value": registered.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        auth_time={"essential": True},
        acr={"essential": True, "value": acr or "eidas1"},
    ).validate(id_token.claims)
    assert id_token.claims["amr"] == ["pwd"]
    assert id_token.claims["at_hash"] == at_hash(token["access_token"])

    # Userinfo: a signed JWT, verified the same way, with the granted claims.
    answer = relying_party.get(config["userinfo_endpoint"], timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == "application/jwt"
    userinfo = jwt.decode(answer.text, jwks, algorithms=[simulated.algorithm])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": base},
        aud={"essential": True, "value": registered.client_id},
        sub={"essential": True, "value": id_token.claims["sub"]},
        exp={"essential": True},
    ).validate(userinfo.claims)
    person = simulated.identity(identity)
    assert {k: v for k, v in userinfo.claims.items() if k not in TIME_CLAIMS} == person.claims()

    # End session: back to the registered post-logout URI with the state.
    logout_state = random_value()
    post_logout = live_server.url + registered.post_logout_redirect_paths[0]
    ended = browser.get(
        config["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "state": logout_state,
            "post_logout_redirect_uri": post_logout,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert ended.status_code == 303
    assert ended.headers["Location"] == f"{post_logout}?state={logout_state}"
    # The session is over: its access token no longer opens userinfo.
    assert relying_party.get(config["userinfo_endpoint"], timeout=10).status_code == 401


@LIVE
def test_wrong_client_secret_is_refused_over_http(live_server):
    registered = demo_client(FRANCECONNECT)
    relying_party = OAuth2Session(
        registered.client_id,
        "not-the-secret",
        redirect_uri=live_server.url + registered.redirect_paths[0],
    )
    with pytest.raises(OAuthError) as refused:
        relying_party.fetch_token(f"{live_server.url}/dev-idp/franceconnect/token", code="whatever")
    assert refused.value.error == "invalid_client"


# --- Helpers for the test client --------------------------------------------------


def authorization_params(provider: str, **overrides: str | None) -> dict[str, str]:
    registered = demo_client(provider)
    params = {
        "response_type": "code",
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uris[0],
        "scope": "openid email",
        "state": random_value(),
        "nonce": random_value(),
        "acr_values": "eidas1",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def authorize(browser: Client, provider: str, **overrides: str | None):
    return browser.get(
        f"/dev-idp/{provider}/authorize", authorization_params(provider, **overrides)
    )


def sign_in(browser: Client, provider: str, identity: str | None = None, **overrides: str | None):
    """Authorize and pick an identity: the redirect back to the client, as a dict."""
    page = authorize(browser, provider, **overrides)
    assert page.status_code == 200, page.content
    form = AuthorizeForm(page.content.decode())
    chosen = browser.post(form.action, {**form.hidden, "identity": identity or form.identities[0]})
    assert chosen.status_code == 302
    return query(chosen["Location"])


def exchange(api: Client, provider: str, code: str, **overrides: str | None):
    registered = demo_client(provider)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": registered.redirect_uris[0],
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
    }
    data.update(overrides)
    return api.post(
        f"/dev-idp/{provider}/token",
        {name: value for name, value in data.items() if value is not None},
    )


def verify(provider: str, token: str) -> dict:
    simulated = PROVIDERS[provider]
    key_set = keys.verification_keys(provider, simulated.algorithm)
    return jwt.decode(token, key_set, algorithms=[simulated.algorithm]).claims


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def api():
    return Client()


# --- Authorize: refusals ----------------------------------------------------------


@DB
@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example/accounts/franceconnect/callback/"},
        {"redirect_uri": "http://127.0.0.1:8000/accounts/somewhere-else/"},
        {"redirect_uri": "http://127.0.0.1:8000/accounts/proconnect/callback/"},
        {"redirect_uri": None},
        {"client_id": "unknown-client"},
        {"client_id": None},
    ],
    ids=["other-host", "other-path", "other-provider", "missing", "unknown-client", "no-client"],
)
def test_unusable_client_or_redirect_uri_gets_a_page_not_a_redirect(browser, overrides):
    response = authorize(browser, FRANCECONNECT, **overrides)
    assert response.status_code == 400
    assert "Location" not in response
    assert response.templates[0].name == "devidp/error.html"


@DB
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"state": None}, "invalid_request"),
        ({"state": "x" * 31}, "invalid_request"),
        ({"nonce": None}, "invalid_request"),
        ({"nonce": "n" * 31}, "invalid_request"),
        ({"scope": "email given_name"}, "invalid_scope"),
        ({"scope": "openid address"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"acr_values": None}, "invalid_request"),
        ({"acr_values": "eidas9"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
    ],
    ids=[
        "no-state",
        "short-state",
        "no-nonce",
        "short-nonce",
        "no-openid",
        "unknown-scope",
        "implicit",
        "no-acr",
        "unknown-acr",
        "prompt-none",
    ],
)
def test_bad_authorization_request_is_an_oauth_error_redirect(browser, overrides, error):
    params = authorization_params(FRANCECONNECT, **overrides)
    response = browser.get("/dev-idp/franceconnect/authorize", params)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(params["redirect_uri"] + "?")
    returned = query(location)
    assert returned["error"] == error
    assert returned["error_description"]
    assert returned["iss"] == "http://testserver/dev-idp/franceconnect"
    if "state" in params:
        assert returned["state"] == params["state"]
    else:
        assert "state" not in returned


@DB
def test_repeated_parameter_is_refused(browser):
    params = authorization_params(PROCONNECT)
    response = browser.get(
        "/dev-idp/proconnect/authorize?"
        + "&".join(f"{k}={v}" for k, v in params.items())
        + "&scope=openid"
    )
    assert query(response["Location"])["error"] == "invalid_request"


@DB
def test_proconnect_needs_no_acr_and_answers_eidas1(browser, api):
    returned = sign_in(browser, PROCONNECT, acr_values=None)
    assert "iss" not in returned  # ProConnect does not send it
    token = exchange(api, PROCONNECT, returned["code"]).json()
    assert verify(PROCONNECT, token["id_token"])["acr"] == "eidas1"


@DB
def test_page_lists_every_identity_and_is_translated(browser):
    page = authorize(browser, FRANCECONNECT)
    form = AuthorizeForm(page.content.decode())
    assert form.identities == [citizen.key for citizen in CITIZENS]
    assert set(form.hidden) == {"csrfmiddlewaretoken", "transaction"}
    assert page["Cache-Control"].startswith("max-age=0")
    german = browser.get(
        "/dev-idp/proconnect/authorize",
        authorization_params(PROCONNECT),
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert german.templates[0].name == "devidp/authorize.html"
    assert '<html lang="de">' in german.content.decode()


@DB
def test_choosing_needs_the_csrf_token(browser):
    page = authorize(browser, FRANCECONNECT)
    form = AuthorizeForm(page.content.decode())
    forged = browser.post(form.action, {"transaction": form.hidden["transaction"], "identity": "x"})
    assert forged.status_code == 403


@DB
def test_pending_request_is_single_use(browser):
    page = authorize(browser, FRANCECONNECT)
    form = AuthorizeForm(page.content.decode())
    data = {**form.hidden, "identity": form.identities[0]}
    assert browser.post(form.action, data).status_code == 302
    again = browser.post(form.action, data)
    assert again.status_code == 400
    assert "Location" not in again


@DB
def test_unknown_identity_is_refused(browser):
    page = authorize(browser, FRANCECONNECT)
    form = AuthorizeForm(page.content.decode())
    response = browser.post(form.action, {**form.hidden, "identity": "nobody"})
    assert response.status_code == 400


@DB
def test_cancelling_returns_access_denied(browser):
    params = authorization_params(FRANCECONNECT)
    page = browser.get("/dev-idp/franceconnect/authorize", params)
    form = AuthorizeForm(page.content.decode())
    response = browser.post(form.action, {**form.hidden, "cancel": "1"})
    returned = query(response["Location"])
    assert returned["error"] == "access_denied"
    assert returned["state"] == params["state"]
    assert "code" not in returned


# --- Token: refusals ---------------------------------------------------------------


@DB
@pytest.mark.parametrize("method", ["post", "basic"])
def test_wrong_client_secret_is_invalid_client(browser, api, method):
    code = sign_in(browser, FRANCECONNECT)["code"]
    registered = demo_client(FRANCECONNECT)
    if method == "post":
        response = exchange(api, FRANCECONNECT, code, client_secret="wrong")
    else:
        credentials = base64.b64encode(f"{registered.client_id}:wrong".encode()).decode()
        response = api.post(
            "/dev-idp/franceconnect/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": registered.redirect_uris[0],
            },
            HTTP_AUTHORIZATION=f"Basic {credentials}",
        )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic")
    # The code survives a failed client authentication.
    assert exchange(api, FRANCECONNECT, code).status_code == 200


@DB
def test_basic_authentication_is_accepted_and_not_mixed(browser, api):
    registered = demo_client(PROCONNECT)
    code = sign_in(browser, PROCONNECT)["code"]
    credentials = base64.b64encode(
        f"{registered.client_id}:{registered.client_secret}".encode()
    ).decode()
    both = api.post(
        "/dev-idp/proconnect/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": registered.redirect_uris[0],
            "client_secret": registered.client_secret,
        },
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"
    basic = api.post(
        "/dev-idp/proconnect/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": registered.redirect_uris[0],
        },
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert basic.status_code == 200
    assert basic["Cache-Control"] == "no-store"


@DB
def test_replayed_code_is_refused_and_revokes_its_token(browser, api):
    code = sign_in(browser, FRANCECONNECT)["code"]
    first = exchange(api, FRANCECONNECT, code)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
    assert api.get("/dev-idp/franceconnect/userinfo", **bearer).status_code == 200
    replay = exchange(api, FRANCECONNECT, code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert api.get("/dev-idp/franceconnect/userinfo", **bearer).status_code == 401


@DB
def test_code_is_bound_to_its_redirect_uri(browser, api):
    registered = demo_client(FRANCECONNECT)
    first, second = registered.redirect_uris[:2]
    code = sign_in(browser, FRANCECONNECT, redirect_uri=first)["code"]
    other = exchange(api, FRANCECONNECT, code, redirect_uri=second)
    assert other.status_code == 400
    assert other.json()["error"] == "invalid_grant"
    missing = exchange(api, FRANCECONNECT, code, redirect_uri=None)
    assert missing.json()["error"] == "invalid_grant"
    assert exchange(api, FRANCECONNECT, code, redirect_uri=first).status_code == 200


@DB
def test_code_of_one_provider_is_useless_at_the_other(browser, api):
    code = sign_in(browser, FRANCECONNECT)["code"]
    assert exchange(api, PROCONNECT, code).json()["error"] == "invalid_grant"


@DB
def test_code_expires_after_sixty_seconds(browser, api, monkeypatch):
    code = sign_in(browser, FRANCECONNECT)["code"]
    issued = store.now()
    monkeypatch.setattr(store, "now", lambda: issued + store.CODE_TTL + 1)
    response = exchange(api, FRANCECONNECT, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@DB
@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"grant_type": "refresh_token"}, 400, "unsupported_grant_type"),
        ({"grant_type": None}, 400, "invalid_request"),
        ({"code": None}, 400, "invalid_request"),
        ({"code": "made-up"}, 400, "invalid_grant"),
        ({"client_id": "unknown"}, 401, "invalid_client"),
        ({"client_secret": None}, 401, "invalid_client"),
    ],
)
def test_token_request_errors(api, overrides, status, error):
    response = exchange(api, FRANCECONNECT, **{"code": "some-code", **overrides})
    assert response.status_code == status
    assert response.json()["error"] == error


# --- Userinfo and claims -----------------------------------------------------------


@DB
@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-token", "Basic Zm9vOmJhcg==", "Bearer "],
    ids=["none", "unknown", "basic", "empty"],
)
def test_userinfo_needs_a_valid_bearer_token(api, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api.get("/dev-idp/proconnect/userinfo", **extra)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


@DB
def test_access_token_expires(browser, api, monkeypatch):
    code = sign_in(browser, PROCONNECT)["code"]
    access_token = exchange(api, PROCONNECT, code).json()["access_token"]
    issued = store.now()
    monkeypatch.setattr(store, "now", lambda: issued + store.ACCESS_TOKEN_TTL + 1)
    response = api.get("/dev-idp/proconnect/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    assert response.status_code == 401


@DB
def test_userinfo_gives_only_what_the_scopes_grant(browser, api):
    code = sign_in(browser, FRANCECONNECT, "jean-luc-schmitt", scope="openid email")["code"]
    access_token = exchange(api, FRANCECONNECT, code).json()["access_token"]
    answer = api.get("/dev-idp/franceconnect/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    claims = verify(FRANCECONNECT, answer.content.decode())
    assert set(claims) == TIME_CLAIMS | {"email"}
    assert claims["email"] == "jl.schmitt@example.org"


@DB
def test_identite_pivot_of_someone_born_abroad(browser, api):
    code = sign_in(browser, FRANCECONNECT, "tom-wagner", scope="openid identite_pivot")["code"]
    access_token = exchange(api, FRANCECONNECT, code).json()["access_token"]
    answer = api.get("/dev-idp/franceconnect/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    claims = verify(FRANCECONNECT, answer.content.decode())
    assert set(claims) - TIME_CLAIMS == {
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
    }
    assert claims["birthplace"] == ""
    assert claims["birthcountry"] == "99137"


@DB
def test_proconnect_always_names_the_identity_provider(browser, api):
    code = sign_in(browser, PROCONNECT, "julie-lambert", scope="openid email", acr_values=None)[
        "code"
    ]
    access_token = exchange(api, PROCONNECT, code).json()["access_token"]
    answer = api.get("/dev-idp/proconnect/userinfo", HTTP_AUTHORIZATION=f"Bearer {access_token}")
    claims = verify(PROCONNECT, answer.content.decode())
    assert set(claims) - TIME_CLAIMS == {"email", "idp_id"}


def test_subjects_are_stable_pairwise_for_franceconnect_and_public_for_proconnect():
    franceconnect, proconnect = PROVIDERS[FRANCECONNECT], PROVIDERS[PROCONNECT]
    citizen, agent = CITIZENS[0], AGENTS[0]
    assert franceconnect.subject(citizen, "a") == franceconnect.subject(citizen, "a")
    assert franceconnect.subject(citizen, "a") != franceconnect.subject(citizen, "b")
    assert franceconnect.subject(citizen, "a") != franceconnect.subject(CITIZENS[1], "a")
    assert proconnect.subject(agent, "a") == proconnect.subject(agent, "b")
    assert re.fullmatch(r"[0-9a-f]{64}", franceconnect.subject(citizen, "a"))


# --- End session ----------------------------------------------------------------------


@pytest.fixture
def signed_in(browser, api):
    code = sign_in(browser, PROCONNECT, acr_values=None)["code"]
    return exchange(api, PROCONNECT, code).json()


def end_session_params(**overrides):
    params = {
        "state": random_value(),
        "post_logout_redirect_uri": demo_client(PROCONNECT).post_logout_redirect_uris[0],
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


@DB
def test_end_session_redirects_with_the_state(browser, signed_in):
    params = end_session_params(id_token_hint=signed_in["id_token"])
    response = browser.get("/dev-idp/proconnect/session/end", params)
    assert response.status_code == 303
    assert response["Location"] == (f"{params['post_logout_redirect_uri']}?state={params['state']}")


@DB
@pytest.mark.parametrize(
    "overrides",
    [
        {"post_logout_redirect_uri": "https://evil.example/logout"},
        {"post_logout_redirect_uri": "http://127.0.0.1:8000/accounts/proconnect/callback/"},
        {"post_logout_redirect_uri": None},
        {"state": None},
        {"id_token_hint": None},
        {"id_token_hint": "not.a.jwt"},
    ],
    ids=["other-host", "login-callback", "no-uri", "no-state", "no-hint", "bad-hint"],
)
def test_end_session_refusals_are_pages(browser, signed_in, overrides):
    params = end_session_params(**{"id_token_hint": signed_in["id_token"], **overrides})
    response = browser.get("/dev-idp/proconnect/session/end", params)
    assert response.status_code == 400
    assert "Location" not in response


@DB
def test_end_session_refuses_another_providers_id_token(browser, api):
    code = sign_in(browser, FRANCECONNECT)["code"]
    foreign = exchange(api, FRANCECONNECT, code).json()["id_token"]
    response = browser.get(
        "/dev-idp/proconnect/session/end", end_session_params(id_token_hint=foreign)
    )
    assert response.status_code == 400


# --- Never in production ---------------------------------------------------------------


@DB
@pytest.mark.parametrize("provider", [FRANCECONNECT, PROCONNECT])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ".well-known/openid-configuration"),
        ("get", "jwks"),
        ("get", "authorize"),
        ("post", "authorize"),
        ("post", "token"),
        ("get", "userinfo"),
        ("get", "session/end"),
    ],
)
def test_every_endpoint_is_404_in_production(api, settings, provider, method, path):
    settings.ALZETTE_MODE = "production"
    response = getattr(api, method)(f"/dev-idp/{provider}/{path}")
    assert response.status_code == 404


def test_no_key_in_production(settings):
    settings.ALZETTE_MODE = "production"
    with pytest.raises(Exception, match="never run in production"):
        keys.signing_key(FRANCECONNECT, "ES256")


# --- Keys ------------------------------------------------------------------------------


def test_keys_are_persisted_and_shared_by_concurrent_creators(tmp_path):
    path = tmp_path / "devidp" / "proconnect-rs256.jwk.json"
    barrier = threading.Barrier(6)
    found: list[str] = []

    def create() -> None:
        barrier.wait()
        found.append(keys.load_or_create(path, "RS256").kid)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1
    assert keys.load_or_create(path, "RS256").kid == found[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["kty"] == "RSA"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "temporary files left"


def test_jwks_publishes_the_key_in_the_data_directory(devidp_data_dir):
    published = keys.public_jwks(FRANCECONNECT, "ES256")["keys"]
    stored = json.loads((devidp_data_dir / "devidp" / "franceconnect-es256.jwk.json").read_text())
    assert [key["kid"] for key in published] == [stored["kid"]]
    assert published[0]["crv"] == "P-256"
    assert published[0]["alg"] == "ES256"
    assert "d" not in published[0]


# --- Demo clients and identities ---------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("http://127.0.0.1:8000/accounts/franceconnect/callback/", True),
        ("http://localhost:8000/accounts/franceconnect/callback/", True),
        ("http://localhost:54321/accounts/franceconnect/callback/", True),
        ("http://[::1]:54321/accounts/franceconnect/callback/", True),
        ("http://localhost/accounts/franceconnect/callback/", False),
        ("https://localhost:8000/accounts/franceconnect/callback/", False),
        ("http://localhost:8000/accounts/franceconnect/callback", False),
        ("http://localhost:8000/accounts/franceconnect/callback/?next=/", False),
        ("http://user@localhost:8000/accounts/franceconnect/callback/", False),
        ("http://localhost.evil.example:8000/accounts/franceconnect/callback/", False),
        ("http://10.0.0.1:8000/accounts/franceconnect/callback/", False),
        ("http://localhost:8000/accounts/proconnect/callback/", False),
        ("http://localhost:99999/accounts/franceconnect/callback/", False),
        ("", False),
    ],
)
def test_redirect_uri_rule(uri, accepted):
    assert demo_client(FRANCECONNECT).accepts_redirect_uri(uri) is accepted


def luhn(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_franceconnect_identities_have_the_real_formats():
    assert len(CITIZENS) >= 3
    assert any(citizen.birthcountry != FRANCE for citizen in CITIZENS)
    for citizen in CITIZENS:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", citizen.birthdate)
        assert citizen.gender in {"male", "female"}
        assert re.fullmatch(r"99\d{3}", citizen.birthcountry)
        if citizen.birthcountry == FRANCE:
            assert re.fullmatch(r"\d[\dAB]\d{3}", citizen.birthplace)
        else:
            assert citizen.birthplace == ""
        assert "@" in citizen.email


def test_proconnect_identities_have_the_real_formats():
    assert len(AGENTS) >= 3
    domains = [agent.email.split("@")[1] for agent in AGENTS]
    assert sum(domain.startswith("mairie-") for domain in domains) >= 2
    assert any(not domain.startswith("mairie-") for domain in domains)
    for agent in AGENTS:
        assert re.fullmatch(r"\d{14}", agent.siret)
        assert luhn(agent.siret), agent.siret
        assert agent.uid
        assert agent.idp_id
