"""Agents and administrators must use a second factor (TOTP); citizens may."""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator

from alzette.personal.accounts.models import OrganisationalUnit, Role
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

ACTIVATE = "/accounts/2fa/totp/activate/"


@pytest.fixture
def new_agent(units):
    return UserFactory(
        role=Role.AGENT, unit=OrganisationalUnit.objects.get(code="54580"), second_factor=False
    )


def _login(client, user):
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})


def _activation_form(client):
    """Setting up a second factor is sensitive: allauth asks for the password again."""
    response = client.get(ACTIVATE)
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    client.post(response["Location"], {"password": PASSWORD})
    page = client.get(ACTIVATE)
    assert page.status_code == 200
    return page


def test_an_agent_without_totp_is_sent_to_set_it_up(client, new_agent, territory):
    _login(client, new_agent)
    for path in ("/", "/admin/", "/accounts/email/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == ACTIVATE, path


def test_an_agent_without_totp_gets_403_from_the_api(client, new_agent, territory):
    _login(client, new_agent)
    response = client.get("/api/v1/territory/units")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "second factor" in response.json()["detail"]


def test_activating_totp_unlocks_the_platform_and_is_then_required(client, new_agent, territory):
    _login(client, new_agent)
    page = _activation_form(client)
    secret = page.context["form"].secret
    response = client.post(ACTIVATE, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=new_agent, type="totp").exists()
    assert client.get("/").status_code == 200

    client.post("/accounts/logout/")
    response = _login(client, new_agent)
    assert response.status_code == 302 and "/accounts/2fa/authenticate/" in response["Location"]
    assert not client.get("/accounts/2fa/authenticate/").context["user"].is_authenticated
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["form"].errors
    response = client.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get("/").context["user"] == new_agent


def test_a_wrong_code_does_not_activate(client, new_agent, territory):
    _login(client, new_agent)
    _activation_form(client)
    response = client.post(ACTIVATE, {"code": "123456"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Authenticator.objects.filter(user=new_agent).exists()


def test_administrators_are_held_to_the_same_rule(client, units, territory):
    admin = UserFactory(
        role=Role.ADMINISTRATOR, is_staff=True, is_superuser=True, second_factor=False
    )
    _login(client, admin)
    assert client.get("/admin/")["Location"] == ACTIVATE


@pytest.mark.parametrize("persona", ["citizen", "partner"])
def test_citizens_and_partners_are_not_forced(client, persona, request, territory):
    _login(client, request.getfixturevalue(persona))
    assert client.get("/").status_code == 200
