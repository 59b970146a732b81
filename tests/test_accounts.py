"""Local accounts: sign-up with e-mail confirmation, login, logout, reset, rate limit."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from alzette.personal.accounts.models import Role, User
from alzette.personal.accounts.services import DEMO_ACCOUNTS, ensure_demo_accounts
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

NEW_PASSWORD = "another-long-passphrase-2026"


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _signup(client, email="new.resident@example.org"):
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )


def test_signup_sends_a_confirmation_and_confirming_logs_in(client):
    response = _signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="new.resident@example.org")
    assert user.role == Role.CITIZEN and len(user.pseudonym) == 32
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    confirm_url = _link(mail.outbox[0])
    assert client.get(confirm_url).status_code == 200  # shows a confirm button, no change on GET
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get("/").context["user"] == user


def test_unconfirmed_account_cannot_log_in(client):
    _signup(client)
    client.logout()
    response = client.post(
        "/accounts/login/", {"login": "new.resident@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert "/accounts/confirm-email/" in response["Location"]
    assert not client.get("/").context["user"].is_authenticated


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, "email"),
        (
            {"email": "a@example.org", "password1": NEW_PASSWORD, "password2": "different-2026!"},
            "password2",
        ),
        ({"email": "a@example.org", "password1": "short", "password2": "short"}, "password1"),
    ],
)
def test_signup_bad_input_creates_nothing(client, data, field):
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.exists()
    assert not mail.outbox


def test_login_and_logout(client, citizen):
    response = client.post("/accounts/login/", {"login": citizen.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == citizen
    assert client.post("/accounts/logout/").status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_login_with_a_wrong_password(client, citizen):
    response = client.post("/accounts/login/", {"login": citizen.email, "password": "wrong-one"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not client.get("/").context["user"].is_authenticated


def test_failed_logins_are_rate_limited(client, citizen):
    for _ in range(5):
        client.post("/accounts/login/", {"login": citizen.email, "password": "wrong-one"})
    # Even the right password is refused while the limit holds.
    response = client.post("/accounts/login/", {"login": citizen.email, "password": PASSWORD})
    assert not client.get("/").context["user"].is_authenticated
    assert response.status_code in (200, 429)


def test_password_reset(client, citizen):
    response = client.post("/accounts/password/reset/", {"email": citizen.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    reset_url = _link(mail.outbox[0])
    response = client.get(reset_url, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else reset_url
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_reveals_nothing(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302  # same answer as for a known address
    assert len(mail.outbox) == 1  # allauth tells the owner someone tried, without an account link
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body


def test_demo_accounts_are_idempotent_and_can_log_in(client, units):
    ensure_demo_accounts()
    ensure_demo_accounts()
    assert User.objects.count() == len(DEMO_ACCOUNTS)
    citizen = DEMO_ACCOUNTS[0]
    response = client.post(
        "/accounts/login/", {"login": citizen.email, "password": citizen.password}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].email == citizen.email
    agent = User.objects.get(email=DEMO_ACCOUNTS[1].email)
    assert agent.unit.code == "57038" and agent.requires_second_factor


def test_pseudonyms_are_random_and_unique(citizen, agent_audun):
    assert citizen.pseudonym != agent_audun.pseudonym
    assert citizen.email.split("@")[0] not in citizen.pseudonym


def test_abilities(citizen, agent_audun, administrator):
    assert citizen.get_abilities(citizen) == {"view": True, "update": True, "delete": True}
    assert citizen.get_abilities(agent_audun) == {"view": False, "update": False, "delete": False}
    assert citizen.get_abilities(administrator)["view"] is True
