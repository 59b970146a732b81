"""Roles, organisational units and the scope of what each person may act for."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from alzette.personal.accounts.authz import can_act_for, unit_scope
from alzette.personal.accounts.models import OrganisationalUnit, Role, User
from alzette.personal.accounts.services import sync_organisational_units
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

AUDUN, VILLERUPT = "57038", "54580"


def test_units_mirror_the_territory_with_their_services(units):
    # EPCI + 3 services, 8 communes + 2 services each.
    assert sync_organisational_units() == 1 + 3 + 8 + 8 * 2
    audun = OrganisationalUnit.objects.get(code=AUDUN)
    assert audun.parent.code == "CCPHVA"
    assert set(audun.children.values_list("code", flat=True)) == {
        f"{AUDUN}-TECH",
        f"{AUDUN}-ETATCIVIL",
    }


@pytest.mark.parametrize(
    ("persona", "inside", "outside"),
    [
        ("agent_audun", {AUDUN, f"{AUDUN}-TECH"}, {VILLERUPT, "CCPHVA", f"{VILLERUPT}-TECH"}),
        ("agent_villerupt", {VILLERUPT, f"{VILLERUPT}-ETATCIVIL"}, {AUDUN, "CCPHVA-EAU"}),
        ("agent_epci", {"CCPHVA", AUDUN, VILLERUPT, f"{AUDUN}-TECH", "CCPHVA-EAU"}, set()),
        ("administrator", {"CCPHVA", AUDUN, VILLERUPT}, set()),
        ("citizen", set(), {AUDUN, VILLERUPT, "CCPHVA"}),
        ("partner", set(), {AUDUN, "CCPHVA"}),
    ],
)
def test_unit_scope(persona, inside, outside, units, request):
    user = request.getfixturevalue(persona)
    assert inside <= unit_scope(user)
    assert not outside & unit_scope(user)
    for code in inside:
        assert can_act_for(user, code)


def test_anonymous_has_no_scope():
    from django.contrib.auth.models import AnonymousUser

    assert unit_scope(AnonymousUser()) == frozenset()


def test_an_agent_of_one_commune_cannot_see_another_communes_agents(
    agent_audun, agent_villerupt, agent_epci, citizen
):
    technician = UserFactory(
        role=Role.AGENT, unit=OrganisationalUnit.objects.get(code=f"{AUDUN}-TECH")
    )
    assert technician.get_abilities(agent_audun)["view"] is True
    assert technician.get_abilities(agent_villerupt)["view"] is False
    assert technician.get_abilities(agent_epci)["view"] is True
    assert technician.get_abilities(citizen)["view"] is False
    # Agents never reach citizens' accounts through their unit.
    assert citizen.get_abilities(agent_epci) == {"view": False, "update": False, "delete": False}


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"role": Role.AGENT}, "unit"),
        ({"role": Role.CITIZEN, "unit_code": AUDUN}, "unit"),
        ({"role": Role.CITIZEN, "partner": True}, "partner_organisation"),
    ],
)
def test_roles_and_attachments_must_agree(fields, error_field, units, partner):
    user = User(email="someone@example.org", role=fields["role"])
    if "unit_code" in fields:
        user.unit = OrganisationalUnit.objects.get(code=fields["unit_code"])
    if fields.get("partner"):
        user.partner_organisation = partner.partner_organisation
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert error_field in error.value.message_dict


def test_siret_must_have_14_digits():
    from alzette.personal.accounts.models import PartnerOrganisation

    with pytest.raises(ValidationError) as error:
        PartnerOrganisation(name="Bad", siret="1234").full_clean()
    assert "siret" in error.value.message_dict
