"""Token checks of the relying party, and the linking rules, without any network."""

from __future__ import annotations

import time

import pytest
from django.utils import translation
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from alzette.personal.accounts.models import Role, User
from alzette.personal.identity import oidc, services
from alzette.personal.identity.models import PivotIdentity
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

PROVIDER = oidc.ProviderSettings(
    slug="franceconnect",
    name="FranceConnect",
    issuer="https://fc.example.org/api/v2",
    client_id="alzette",
    client_secret="secret",
    scopes="openid identite_pivot email",
    acr_values="eidas1",
)
KEY = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, private=True)
KEY.ensure_kid()
KEYS = KeySet([KEY])


@pytest.fixture(autouse=True)
def _english():
    # The reasons are translated; these tests read them in English.
    with translation.override("en"):
        yield


def _token(key=KEY, alg="ES256", **changes) -> str:
    now = int(time.time())
    claims = {
        "iss": PROVIDER.issuer,
        "aud": "alzette",
        "sub": "abc",
        "iat": now,
        "exp": now + 60,
        "nonce": "n" * 43,
        "acr": "eidas1",
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def test_a_good_token_verifies():
    assert oidc.verify_jwt(_token(), KEYS, PROVIDER)["sub"] == "abc"


def test_rs256_is_accepted_too():
    rsa = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, private=True)
    rsa.ensure_kid()
    assert oidc.verify_jwt(_token(rsa, "RS256"), KeySet([rsa]), PROVIDER)["sub"] == "abc"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iss": "https://evil.example.org"}, "another identity provider"),
        ({"aud": "someone-else"}, "another service"),
        ({"aud": ["someone-else", "other"]}, "another service"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"exp": None}, "expired"),
        ({"iat": int(time.time()) + 3600}, "future"),
        ({"sub": None}, "nobody"),
    ],
)
def test_bad_claims_are_refused(changes, message):
    with pytest.raises(oidc.OidcError, match=message):
        oidc.verify_jwt(_token(**changes), KEYS, PROVIDER)


def test_a_token_signed_by_another_key_is_refused():
    other = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, private=True)
    other.ensure_kid()
    with pytest.raises(oidc.OidcError, match="not validly signed"):
        oidc.verify_jwt(_token(other), KEYS, PROVIDER)


def test_an_unsigned_token_is_refused():
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    import base64
    import json

    body = base64.urlsafe_b64encode(
        json.dumps({"iss": PROVIDER.issuer, "aud": "alzette", "sub": "x", "exp": 2**40}).encode()
    ).rstrip(b"=")
    with pytest.raises(oidc.OidcError):
        oidc.verify_jwt(f"{header}.{body.decode()}.", KEYS, PROVIDER)


def test_tokens_are_random_and_long():
    tokens = {oidc.random_token() for _ in range(100)}
    assert len(tokens) == 100 and min(map(len, tokens)) >= 32


def test_a_mixed_up_issuer_on_the_callback_is_refused():
    discovery = oidc.Discovery(PROVIDER.issuer, "a", "t", "u", "j")
    with pytest.raises(oidc.OidcError, match="another issuer"):
        oidc.complete(
            PROVIDER,
            discovery,
            code="c",
            redirect_uri="r",
            nonce="n",
            callback_issuer="https://evil.example.org",
        )


PIVOT = {
    "sub": "s1",
    "given_name": "Élodie Anne",
    "family_name": "DUPONT",
    "birthdate": "1985-03-14",
    "gender": "female",
    "birthplace": "57038",
    "birthcountry": "99100",
    "email": "elodie@example.org",
}


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_same_civil_identity_with_another_sub_reaches_the_same_account():
    first = services.franceconnect_sign_in(PIVOT)
    again = services.franceconnect_sign_in(
        {**PIVOT, "sub": "s2", "given_name": "ELODIE ANNE", "email": "other@example.org"}
    )
    assert first.created and not again.created and again.user == first.user
    assert User.objects.count() == 1


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_another_birthdate_is_another_person():
    first = services.franceconnect_sign_in(PIVOT)
    other = services.franceconnect_sign_in(
        {**PIVOT, "sub": "s3", "birthdate": "1985-03-15", "email": "twin@example.org"}
    )
    assert other.user != first.user


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_missing_pivot_claim_is_refused():
    with pytest.raises(services.SignInRefused, match="birthdate"):
        services.franceconnect_sign_in({k: v for k, v in PIVOT.items() if k != "birthdate"})
    assert not PivotIdentity.objects.exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_linking_a_second_civil_identity_to_an_account_is_refused():
    user = UserFactory(email="someone@example.org")
    services.franceconnect_sign_in(PIVOT, current=user)
    with pytest.raises(services.SignInRefused):
        services.franceconnect_sign_in(
            {**PIVOT, "sub": "s9", "family_name": "MARTIN"}, current=user
        )


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_proconnect_never_turns_a_citizen_into_an_agent(units):
    UserFactory(email="claire@mairie-villerupt.fr", role=Role.CITIZEN)
    with pytest.raises(services.SignInRefused):
        services.proconnect_sign_in(
            {"sub": "p1", "email": "claire@mairie-villerupt.fr"}, {"mairie-villerupt.fr": "54580"}
        )


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_my_data_shows_linked_identities_and_the_civil_identity():
    from alzette.personal.mydata.services import collect

    user = services.franceconnect_sign_in(PIVOT).user
    data = collect(user)
    assert data["federated_identities"][0]["sub"] == "s1"
    assert data["civil_identity"][0]["birthdate"] == "1985-03-14"


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_proconnect_links_only_the_signed_in_account(units, agent_audun, agent_villerupt):
    claims = {"sub": "p2", "email": agent_villerupt.email}
    with pytest.raises(services.SignInRefused):
        services.proconnect_sign_in(claims, {}, current=agent_audun)
    assert services.proconnect_sign_in(claims, {}, current=agent_villerupt).user == agent_villerupt
