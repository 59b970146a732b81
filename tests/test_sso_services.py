"""The OpenID Provider's domain and operations: pairwise subjects, secrets, settings,
registration of services, consents and their withdrawal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import stat
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from oauth2_provider import checks as dot_checks
from oauth2_provider.models import AccessToken, Application, RefreshToken

from alzette.ledger.models import LedgerEntry
from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.sso import conf, keys, services
from alzette.personal.sso.checks import check_provider_configuration
from alzette.personal.sso.models import Consent, RelyingParty
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory
from tests.test_sso import (
    PAIRWISE_SECRET,
    SERVICE_A,
    SERVICE_B,
    _sso_settings,
    service_a,
    service_b,
    sso_signing_key,
)
from tests.test_sso_refusals import citizen_browser, tokens, userinfo

#: Fixtures of tests/test_sso.py and tests/test_sso_refusals.py, used here by name.
SHARED_FIXTURES = (_sso_settings, service_a, service_b, sso_signing_key, citizen_browser)

DB = pytest.mark.django_db(databases=ALL_DATABASES)


# --- Pairwise subject identifiers -------------------------------------------------------


def test_the_subject_is_base64url_hmac_sha256_of_sector_and_pseudonym():
    pseudonym = "0123456789abcdef0123456789abcdef"
    expected = (
        base64.urlsafe_b64encode(
            hmac.new(
                b"server-secret", b"mediatheque.example.org" + pseudonym.encode(), hashlib.sha256
            ).digest()
        )
        .rstrip(b"=")
        .decode()
    )
    assert services.pairwise_subject("mediatheque.example.org", pseudonym, "server-secret") == (
        expected
    )
    assert len(expected) == 43
    assert services.pairwise_subject("Mediatheque.Example.org", pseudonym, "server-secret") == (
        expected
    ), "host names are case-insensitive"
    assert services.pairwise_subject("other.example.org", pseudonym, "server-secret") != expected
    assert services.pairwise_subject("mediatheque.example.org", pseudonym, "other") != expected


@DB
def test_one_service_always_sees_the_same_sub_and_two_sectors_never_do(service_a, service_b):
    person = UserFactory()
    first = services.subject_for(person, service_a.application)
    assert services.subject_for(person, service_a.application) == first
    assert services.subject_for(person, service_b.application) != first
    assert first == services.pairwise_subject(
        "mediatheque.example.org", person.pseudonym, PAIRWISE_SECRET
    )
    assert services.subject_for(UserFactory(), service_a.application) != first


@pytest.mark.parametrize(
    ("uris", "sector"),
    [
        ("https://a.example.org/cb", "a.example.org"),
        ("https://A.example.org/cb https://a.example.org:8443/other", "a.example.org"),
        ("http://127.0.0.1:8000/cb", "127.0.0.1"),
    ],
)
def test_the_sector_is_the_redirect_uris_host(uris, sector):
    assert services.sector_from_redirect_uris(uris) == sector


@pytest.mark.parametrize("uris", ["", "https://a.example.org/cb https://b.example.org/cb"])
def test_no_sector_without_exactly_one_host(uris):
    with pytest.raises(services.SectorError):
        services.sector_from_redirect_uris(uris)


@DB
def test_a_service_registered_in_the_admin_gets_its_sector_on_first_use():
    application = Application.objects.create(
        name="From the admin",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://admin-made.example.org/cb",
        algorithm=Application.RS256_ALGORITHM,
    )
    assert services.relying_party(application).sector == "admin-made.example.org"
    application.redirect_uris = "https://moved.example.org/cb"
    application.save()
    assert services.relying_party(application).sector == "admin-made.example.org", (
        "the sector never follows later changes of the redirect URIs"
    )


# --- Claims -------------------------------------------------------------------------------


@DB
def test_claims_come_from_the_account_and_nothing_is_made_up(service_a):
    from allauth.account.models import EmailAddress

    person = UserFactory(first_name="Tom", last_name="")
    claims = services.claims_for(person, service_a.application, ["openid", "profile", "email"])
    assert claims == {
        "sub": services.subject_for(person, service_a.application),
        "given_name": "Tom",
        "email": person.email,
        "email_verified": True,
    }
    EmailAddress.objects.filter(user=person).update(verified=False)
    assert (
        services.claims_for(person, service_a.application, ["openid", "email"])["email_verified"]
        is False
    )
    assert set(services.claims_for(person, service_a.application, ["openid"])) == {"sub"}


# --- Secrets --------------------------------------------------------------------------------


def test_a_secret_is_created_once_even_by_concurrent_processes(tmp_path):
    path = tmp_path / "sso" / "pairwise-secret"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(keys.load_or_create(path, keys.new_pairwise_secret))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["pairwise-secret"], "no temporary left"


def test_the_signing_key_is_generated_outside_production_only(tmp_path):
    pem = keys.signing_key_pem("", "", tmp_path, production=False)
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert (tmp_path / "sso" / "oidc-rs256.pem").read_text() == pem
    assert keys.signing_key_pem("", "", tmp_path, production=False) == pem
    assert keys.signing_key_pem("", "", tmp_path / "prod", production=True) == ""
    assert not (tmp_path / "prod").exists()


def test_the_signing_key_comes_from_the_environment_in_production(tmp_path, sso_signing_key):
    assert keys.signing_key_pem(sso_signing_key, "", tmp_path, production=True) == sso_signing_key
    key_file = tmp_path / "key.pem"
    key_file.write_text(sso_signing_key)
    assert keys.signing_key_pem("", str(key_file), tmp_path, production=True) == sso_signing_key
    with pytest.raises(ImproperlyConfigured, match="ALZETTE_SSO_SIGNING_KEY_FILE"):
        keys.signing_key_pem("", str(tmp_path / "missing.pem"), tmp_path, production=True)
    with pytest.raises(ImproperlyConfigured, match="not a PEM private key"):
        keys.signing_key_pem("not a key", "", tmp_path, production=True)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small_pem = small.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ImproperlyConfigured, match="at least 2048"):
        keys.signing_key_pem(small_pem, "", tmp_path, production=True)


def test_the_pairwise_secret(tmp_path):
    assert keys.pairwise_secret("x" * 40, "", tmp_path, production=True) == "x" * 40
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        keys.pairwise_secret("short", "", tmp_path, production=True)
    assert keys.pairwise_secret("", "", tmp_path, production=True) == ""
    generated = keys.pairwise_secret("", "", tmp_path, production=False)
    assert len(generated) >= 32
    assert (tmp_path / "sso" / "pairwise-secret").read_text() == generated


@DB
def test_production_without_a_pairwise_secret_refuses_to_compute_subjects(settings, service_a):
    settings.ALZETTE_MODE = "production"
    settings.ALZETTE_SSO_PAIRWISE_SECRET = ""
    with pytest.raises(ImproperlyConfigured, match="ALZETTE_SSO_PAIRWISE_SECRET"):
        services.subject_for(UserFactory(), service_a.application)
    assert "sso.E002" in [problem.id for problem in check_provider_configuration()]


# --- Settings ------------------------------------------------------------------------------


def test_production_settings_pass_django_oauth_toolkit_s_deploy_checks(settings, sso_signing_key):
    settings.OAUTH2_PROVIDER = conf.oauth2_provider_settings(
        production=True, data_dir="/nonexistent", signing_key=sso_signing_key
    )
    assert dot_checks.validate_bcp_configuration(None) == []
    assert settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"] == ["https"]
    assert settings.OAUTH2_PROVIDER["PKCE_REQUIRED"] is True
    assert check_provider_configuration() == []


def test_the_checks_wait_for_the_settings_to_use_conf(settings):
    settings.OAUTH2_PROVIDER = {"PKCE_REQUIRED": True}
    assert check_provider_configuration() == []


def test_the_check_wants_a_signing_key(settings):
    settings.OAUTH2_PROVIDER = conf.oauth2_provider_settings(production=True, data_dir="/x")
    assert [problem.id for problem in check_provider_configuration()] == ["sso.E001"]


# --- Registration ---------------------------------------------------------------------------


@DB
def test_register_client_prints_credentials_once_and_keeps_a_hash():
    out = io.StringIO()
    call_command(
        "sso",
        "register-client",
        "--name",
        "Médiathèque",
        "--redirect-uri",
        f"{SERVICE_A}/oidc/callback",
        "--post-logout-uri",
        f"{SERVICE_A}/signed-out",
        stdout=out,
    )
    printed = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    application = Application.objects.get(client_id=printed["client_id"])
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert application.algorithm == Application.RS256_ALGORITHM
    assert application.post_logout_redirect_uris == f"{SERVICE_A}/signed-out"
    assert application.client_secret != printed["client_secret"]
    assert check_password(printed["client_secret"], application.client_secret)
    assert printed["sector"] == "mediatheque.example.org"
    assert RelyingParty.objects.get(application=application).allowed_scopes == (
        "openid profile email"
    )
    assert printed["discovery"].endswith("/o/.well-known/openid-configuration")

    listing = io.StringIO()
    call_command("sso", "list-clients", stdout=listing)
    assert application.client_id in listing.getvalue()
    assert printed["client_secret"] not in listing.getvalue()


@DB
def test_register_a_public_client_with_some_scopes():
    out = io.StringIO()
    call_command(
        "sso",
        "register-client",
        "--name=Mobile",
        f"--redirect-uri={SERVICE_B}/cb",
        "--public",
        "--scope=openid",
        "--scope=email",
        stdout=out,
    )
    assert "client_secret" not in out.getvalue()
    application = Application.objects.get(name="Mobile")
    assert application.client_type == Application.CLIENT_PUBLIC
    assert services.allowed_scopes(application) == ["openid", "email"]


@DB
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--redirect-uri=not-a-uri"], "redirect_uris"),
        (["--redirect-uri=ftp://files.example.org/cb"], "redirect_uris"),
        (["--redirect-uri=https://a.example.org/cb#fragment"], "redirect_uris"),
        (
            ["--redirect-uri=https://a.example.org/cb", "--redirect-uri=https://b.example.org/cb"],
            "sector",
        ),
        (
            ["--redirect-uri=https://a.example.org/cb", "--post-logout-uri=javascript:alert(1)"],
            "scheme",
        ),
        (["--redirect-uri=https://a.example.org/cb", "--scope=email"], "openid"),
    ],
    ids=["not-a-uri", "scheme", "fragment", "two-hosts", "logout-uri", "no-openid"],
)
def test_register_client_refuses_bad_input(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("sso", "register-client", "--name=Bad", *arguments, stdout=io.StringIO())
    assert not Application.objects.exists()


@DB
def test_two_hosts_with_an_explicit_sector(settings):
    registration = services.register_client(
        "Two hosts",
        ["https://a.example.org/cb", "https://b.example.org/cb"],
        sector="Example.org",
    )
    assert registration.relying_party.sector == "example.org"


@DB
def test_production_accepts_https_redirect_uris_only(settings, sso_signing_key):
    settings.OAUTH2_PROVIDER = conf.oauth2_provider_settings(
        production=True, data_dir="/nonexistent", signing_key=sso_signing_key
    )
    with pytest.raises(ValidationError):
        services.register_client("Plain", ["http://plain.example.org/cb"])
    assert services.register_client("TLS", ["https://tls.example.org/cb"]).client_secret


def test_keygen_and_pairwise_secret_print_fresh_secrets():
    out = io.StringIO()
    call_command("sso", "keygen", stdout=out)
    keys.checked_signing_key(out.getvalue(), "keygen")
    out = io.StringIO()
    call_command("sso", "pairwise-secret", stdout=out)
    assert len(out.getvalue().strip()) >= 32


# --- Consents ------------------------------------------------------------------------------


@DB
def test_consents_accumulate_and_each_is_a_receipt(service_a):
    person = UserFactory()
    services.give_consent(person, service_a.application, ["openid", "email"])
    consent = services.give_consent(person, service_a.application, ["openid", "profile"])
    assert consent.scopes == ["openid", "profile", "email"]
    assert services.consent_covers(person, service_a.application, ["email", "openid"])
    assert not services.consent_covers(UserFactory(), service_a.application, ["openid"])
    receipts = StoredReceipt.objects.filter(user=person, kind="consent.given").order_by(
        "leaf_index"
    )
    assert [receipt.payload["scopes"] for receipt in receipts] == [
        ["openid", "email"],
        ["openid", "profile"],
    ]


@DB
def test_the_connected_services_page_withdraws_a_consent(citizen_browser, citizen, service_a):
    issued = tokens(citizen_browser, service_a)
    consent = Consent.objects.get(user=citizen)
    page = citizen_browser.get("/o/services/")
    assert page.status_code == 200
    assert "Médiathèque du Val".encode() in page.content
    assert f"/o/services/{consent.pk}/withdraw/".encode() in page.content

    assert citizen_browser.get(f"/o/services/{consent.pk}/withdraw/").status_code == 405
    forged = citizen_browser.post(f"/o/services/{consent.pk}/withdraw/")
    assert forged.status_code == 403, "CSRF"

    token = page.cookies.get("csrftoken") or citizen_browser.cookies["csrftoken"]
    done = citizen_browser.post(
        f"/o/services/{consent.pk}/withdraw/", {"csrfmiddlewaretoken": token.value}
    )
    assert done.status_code == 302 and done["Location"] == "/o/services/"
    assert not Consent.objects.exists()
    assert userinfo(issued["access_token"]).status_code == 401
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    withdrawn = StoredReceipt.objects.get(user=citizen, kind="consent.withdrawn")
    entry = LedgerEntry.objects.using("ledger").get(index=withdrawn.leaf_index)
    assert entry.object == f"sso-client:{service_a.application.client_id}"


@DB
def test_nobody_withdraws_someone_else_s_consent(service_a):
    owner = UserFactory()
    consent = services.give_consent(owner, service_a.application, ["openid"])
    intruder = Client()
    intruder.force_login(UserFactory())
    assert intruder.post(f"/o/services/{consent.pk}/withdraw/").status_code == 404
    assert Consent.objects.filter(pk=consent.pk).exists()
    assert Client().get("/o/services/").status_code == 302, "sign-in first"


@DB
def test_the_my_data_source_lists_connected_services(service_a):
    from alzette.personal.sso import sources

    person = UserFactory()
    services.give_consent(person, service_a.application, ["openid", "email"])
    (row,) = sources.connected_services(person)
    assert row["service"] == "Médiathèque du Val" and row["scopes"] == "openid email"
    assert list(sources.data_source().columns) == ["service", "scopes", "given_at"]
    assert sources.connected_services(UserFactory()) == []


@DB
def test_my_data_lists_the_consents_and_links_to_withdrawal(service_a):
    person = UserFactory()
    client = Client()
    client.force_login(person)
    assert "sso/services" not in client.get("/my-data/").content.decode()
    services.give_consent(person, service_a.application, ["openid", "email"])
    page = client.get("/my-data/").content.decode()
    section = page[page.index('id="consents"') :]
    assert service_a.application.name in section and "/o/services/" in section
