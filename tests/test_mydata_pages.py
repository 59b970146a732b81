"""The "my data" pages: overview, export, receipts, erasure and the goodbye page."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.core import signing
from django.test import Client
from django.utils import timezone

from alzette.ledger import services as ledger
from alzette.ledger.entries import opens
from alzette.ledger.receipts import verify_receipt
from alzette.personal.accounts.models import Role, User
from alzette.personal.mydata import services
from alzette.personal.mydata.models import AccessorKind, StoredReceipt
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

OVERVIEW, EXPORT, ERASE = "/my-data/", "/my-data/export/", "/my-data/erase/"


def _verifies(receipt: dict) -> bool:
    return verify_receipt(receipt, ledger.signing_key().public_key) == []


def _logged_in(user, client: Client | None = None) -> Client:
    client = client or Client()
    client.force_login(user)
    return client


@pytest.fixture
def persona(request):
    return request.getfixturevalue(request.param)


PERSONAS = ["citizen", "agent_audun", "partner", "administrator"]


# --- Who may see what --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", OVERVIEW),
        ("post", EXPORT),
        ("get", ERASE),
        ("post", ERASE),
        ("get", "/my-data/receipts/00000000-0000-0000-0000-000000000000.json"),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_every_role_sees_its_own_data_only(persona, citizen, territory):
    other = UserFactory(email="someone.else@example.org")
    services.log_access(other, AccessorKind.SERVICE, "Water service", "account", "Billing")
    response = _logged_in(persona).get(OVERVIEW)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    page = response.content.decode()
    assert persona.pseudonym in page
    assert f"<td>{persona.email}</td>" in page
    assert other.pseudonym not in page and "Water service" not in page
    if persona != citizen:
        assert citizen.pseudonym not in page


def test_the_overview_lists_categories_tables_and_sections(agent_audun):
    services.log_access(agent_audun, AccessorKind.AGENT, "Villerupt", "account", "Request RQ-7")
    services.record_receipt(agent_audun, "personal_data.exported", "personal_data:x", {})
    response = _logged_in(agent_audun).get(OVERVIEW, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    for category in services.DATA_SOURCES:
        assert f'href="#category-{category}"' in page
        assert f'id="category-{category}"' in page
    assert '<th scope="row">Pseudonym</th>' in page
    assert '<th scope="col">Purpose</th>' in page
    assert "<caption" in page
    assert "Authenticator app (TOTP)" in page and "Municipal agent" in page
    assert "Villerupt" in page and "Request RQ-7" in page
    assert 'id="consents"' in page and "You have given no consent yet." in page
    receipt = StoredReceipt.objects.get(user=agent_audun)
    assert f'href="/my-data/receipts/{receipt.pk}.json"' in page
    assert 'action="/my-data/export/"' in page and "csrfmiddlewaretoken" in page
    assert 'href="/my-data/erase/"' in page
    assert agent_audun.totp_secret not in page


def test_an_agent_without_second_factor_is_sent_to_set_it_up(units):
    from alzette.personal.accounts.models import OrganisationalUnit

    agent = UserFactory(
        role=Role.AGENT, unit=OrganisationalUnit.objects.get(code="54580"), second_factor=False
    )
    response = _logged_in(agent).get(OVERVIEW)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", EXPORT), ("put", ERASE), ("delete", OVERVIEW), ("post", OVERVIEW)],
)
def test_wrong_methods_get_405(citizen, method, path):
    assert getattr(_logged_in(citizen), method)(path).status_code == 405


# --- Export ----------------------------------------------------------------------


def test_export_downloads_a_dated_zip(citizen):
    response = _logged_in(citizen).post(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    name = f"alzette-my-data-{timezone.localdate():%Y-%m-%d}.zip"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert "no-store" in response["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        data = json.loads(archive.read("data.json"))
        assert data["categories"]["account"][0]["email"] == citizen.email
        assert citizen.email in archive.read("account.csv").decode("utf-8")
        assert _verifies(json.loads(archive.read("receipt.json")))
    assert StoredReceipt.objects.filter(user=citizen, kind="personal_data.exported").count() == 1
    assert date.fromisoformat(name[16:26])


def test_csrf_is_enforced(citizen):
    client = _logged_in(citizen, Client(enforce_csrf_checks=True))
    assert client.post(EXPORT).status_code == 403
    response = client.post(ERASE, {"email": citizen.email, "password": PASSWORD})
    assert response.status_code == 403
    assert User.objects.filter(pk=citizen.pk).exists()
    assert not StoredReceipt.objects.exists() and ledger.current_size() == 0
    # With the token from the page, the same requests go through.
    client.get(OVERVIEW)
    token = client.cookies["csrftoken"].value
    assert client.post(EXPORT, HTTP_X_CSRFTOKEN=token).status_code == 200


# --- Receipts ----------------------------------------------------------------------


def test_a_receipt_downloads_as_json_for_its_owner_only(citizen, partner):
    stored = services.record_receipt(citizen, "consent.given", "consent:abc", {"scope": "x"})
    url = f"/my-data/receipts/{stored.pk}.json"
    response = _logged_in(citizen).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="alzette-receipt-{stored.leaf_index}.json"'
    )
    document = response.json()
    assert _verifies(document)
    assert opens(document["entry"]["commitment"], {"scope": "x"}, document["opening"]["salt"])
    assert _logged_in(partner).get(url).status_code == 404
    assert _logged_in(citizen).post(url).status_code == 405
    missing = "/my-data/receipts/00000000-0000-0000-0000-000000000000.json"
    assert _logged_in(citizen).get(missing).status_code == 404


# --- Erasure -----------------------------------------------------------------------


def test_the_erase_page_explains_and_asks_for_email_and_password(citizen):
    response = _logged_in(citizen).get(ERASE, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="email"' in page and 'name="password"' in page
    assert "What is erased" in page and "What is kept" in page
    assert "csrfmiddlewaretoken" in page


def test_an_account_without_password_confirms_with_its_email_only(client):
    user = UserFactory(email="fc.user@example.org")
    user.set_unusable_password()
    user.save()
    client = _logged_in(user)
    page = client.get(ERASE).content.decode()
    assert 'name="email"' in page and 'name="password"' not in page
    response = client.post(ERASE, {"email": "FC.User@example.org"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize(
    "form",
    [
        {"email": "someone.else@example.org", "password": PASSWORD},
        {"email": "camille.citoyenne@example.org", "password": "not-the-password"},
        {"email": "camille.citoyenne@example.org"},
        {"password": PASSWORD},
        {"email": "not an address", "password": PASSWORD},
        {},
    ],
)
def test_a_wrong_confirmation_erases_nothing(citizen, form):
    client = _logged_in(citizen)
    response = client.post(ERASE, form)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.filter(pk=citizen.pk).exists()
    assert EmailAddress.objects.filter(user=citizen).exists()
    assert ledger.current_size() == 0
    assert client.get(OVERVIEW).status_code == 200  # still signed in


def test_erasure_deletes_the_account_and_shows_the_receipt(agent_audun, citizen):
    services.record_receipt(agent_audun, "consent.given", "consent:abc", {})
    client = _logged_in(agent_audun)
    other_device = _logged_in(agent_audun)
    pk, pseudonym = agent_audun.pk, agent_audun.pseudonym

    response = client.post(ERASE, {"email": agent_audun.email.upper(), "password": PASSWORD})

    assert response.status_code == 302
    goodbye = response["Location"]
    assert goodbye.startswith("/my-data/erased/")
    assert not User.objects.filter(pk=pk).exists()
    assert not EmailAddress.objects.filter(email=agent_audun.email).exists()
    assert not StoredReceipt.objects.filter(user_id=pk).exists()
    assert User.objects.filter(pk=citizen.pk).exists()
    # Signed out here and on the other device.
    for device in (client, other_device):
        assert device.get(OVERVIEW)["Location"].startswith("/accounts/login/")

    page = client.get(goodbye, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Your account has been erased" in page.content.decode()
    receipt_url = goodbye + "receipt.json"
    assert f'href="{receipt_url}"' in page.content.decode()
    downloaded = Client().get(receipt_url)  # works without any account
    assert downloaded.status_code == 200
    assert downloaded["Content-Disposition"].startswith("attachment;")
    document = downloaded.json()
    assert _verifies(document)
    assert document["entry"]["kind"] == "personal_data.erased"
    assert document["entry"]["actor"] == pseudonym
    opening = document["opening"]
    assert opens(document["entry"]["commitment"], opening["payload"], opening["salt"])
    assert opening["payload"]["records"]["receipts"] == 1
    assert agent_audun.email not in json.dumps(document)


def test_the_goodbye_link_is_signed_and_expires_after_an_hour(citizen, monkeypatch):
    response = _logged_in(citizen).post(ERASE, {"email": citizen.email, "password": PASSWORD})
    goodbye = response["Location"]
    token = goodbye.split("/")[-2]
    client = Client()
    assert client.get(goodbye).status_code == 200
    forged = signing.dumps({"i": 0, "n": 1, "s": "00", "p": {}}, salt="another.purpose")
    for path in (
        f"/my-data/erased/{token[:-2]}xx/",
        f"/my-data/erased/{forged}/",
        f"/my-data/erased/{forged}/receipt.json",
        "/my-data/erased/nonsense/",
    ):
        assert client.get(path).status_code == 404, path
    later = time.time() + 3601
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.get(goodbye).status_code == 404
    assert client.get(goodbye + "receipt.json").status_code == 404


def test_a_retention_hold_keeps_the_account(citizen, monkeypatch):
    monkeypatch.setitem(services.RETENTION_HOLDS, "procedures", "tests.test_mydata._mayor_hold")
    client = _logged_in(citizen)
    page = client.get(ERASE, HTTP_ACCEPT_LANGUAGE="en")
    assert "A procedure is still under legal retention." in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    response = client.post(ERASE, {"email": citizen.email, "password": PASSWORD})
    assert response.status_code == 409
    assert "A procedure is still under legal retention." in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()
    assert ledger.current_size() == 0


def test_a_hold_appearing_after_the_form_was_shown_still_refuses(citizen, monkeypatch):
    def refuse(user):
        raise services.ErasureRefused(["A hold appeared."])

    monkeypatch.setattr(services, "erase_account", refuse)
    response = _logged_in(citizen).post(ERASE, {"email": citizen.email, "password": PASSWORD})
    assert response.status_code == 409
    assert "A hold appeared." in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()


def test_password_guessing_is_rate_limited(citizen):
    client = _logged_in(citizen)
    statuses = [
        client.post(ERASE, {"email": citizen.email, "password": f"guess-{n}"}).status_code
        for n in range(12)
    ]
    assert statuses[0] == 200 and statuses[-1] == 429
    response = client.post(ERASE, {"email": citizen.email, "password": PASSWORD})
    assert response.status_code == 429
    assert User.objects.filter(pk=citizen.pk).exists()
