"""Pages under /waste/: the citizen's own household; the agents' office by commune."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from alzette.personal.households import services
from alzette.personal.households.models import (
    BinAllocation,
    CentreCard,
    Household,
    HouseholdLift,
    Tariff,
)
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def home(citizen, territory):
    year = timezone.localdate().year
    household = services.create_household("57038", "AUD-0001", members=[citizen])
    services.allocate_bin(
        household,
        "bin-57038-001",
        "system:test",
        starts_on=timezone.localdate().replace(month=1, day=1),
    )
    services.set_tariff(
        "",
        year,
        fixed_eur=Decimal("100"),
        per_lift_eur=Decimal("3"),
        per_kg_eur=Decimal("0.2"),
        included_lifts=1,
    )
    tz = timezone.get_current_timezone()
    for n, month in enumerate((1, 1, 2)):
        HouseholdLift.objects.create(
            household=household,
            bin_id="urn:ngsi-ld:WasteContainer:bin-57038-001",
            lifted_at=datetime(year, month, 10 + n, 7, tzinfo=tz),
            weight_kg=10,
            lift_id=n + 1,
        )
    return household


@pytest.fixture
def neighbour(territory):
    household = services.create_household(
        "54580", "VIL-0001", members=[UserFactory(email="n@example.org")]
    )
    services.allocate_bin(household, "bin-54580-007", "system:test")
    return household


def test_anonymous_visitors_are_sent_to_log_in(territory):
    for path in ("/waste/", "/waste/agents/", "/waste/agents/new/", "/waste/agents/tariffs/"):
        response = _client().get(path)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_citizen_sees_their_own_household(citizen, home, neighbour):
    response = _client(citizen).get("/waste/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-bin="bin-57038-001"' in html
    assert "bin-54580-007" not in html and "VIL-0001" not in html
    assert '<tr data-month="1"><th scope="row">' in html
    bill = response.context["bill"]
    assert (bill.lifts, bill.extra_lifts, bill.total_eur) == (3, 2, Decimal("112.00"))
    assert [m["lifts"] for m in response.context["months"]][:3] == [2, 1, 0]
    assert 'data-total="112.00"' in html
    assert "no-store" in response["Cache-Control"]


def test_a_citizen_without_household_is_told_so(territory):
    response = _client(UserFactory(email="alone@example.org")).get("/waste/")
    assert response.status_code == 200
    assert 'id="hh-none"' in response.content.decode()


def test_the_citizen_sees_visits_left_and_occupancy(citizen, home):
    from alzette.territory.waste.models import Centre

    Centre.objects.using("territory").create(
        slug="audun",
        name="Déchèterie",
        lon=5.9,
        lat=49.4,
        commune="57038",
        capacity=5,
        visits_per_year=12,
    )
    services.register_card(home, "badge", "B-1")
    services.decide_access("audun", badge="B-1")
    html = _client(citizen).get("/waste/").content.decode()
    assert 'data-centre="audun"' in html and 'data-left="11"' in html
    assert html.count("<li>", html.index('id="hh-visits"')) >= 1


@pytest.mark.parametrize("path", ["/waste/agents/", "/waste/agents/new/", "/waste/agents/tariffs/"])
def test_citizens_and_partners_may_not_use_the_agents_pages(citizen, partner, territory, path):
    assert _client(citizen).get(path).status_code == 403
    assert _client(partner).get(path).status_code == 403


def test_an_agent_lists_only_their_communes_households(agent_audun, home, neighbour):
    response = _client(agent_audun).get("/waste/agents/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-reference="AUD-0001"' in html and "VIL-0001" not in html


def test_an_agent_of_another_commune_gets_404_on_a_household(agent_villerupt, home):
    client = _client(agent_villerupt)
    assert client.get(f"/waste/agents/{home.pk}/").status_code == 404
    response = client.post(
        f"/waste/agents/{home.pk}/", {"action": "card", "card-kind": "badge", "card-value": "X123"}
    )
    assert response.status_code == 404
    assert not CentreCard.objects.exists()


def test_the_epci_agent_sees_every_commune(agent_epci, home, neighbour):
    html = _client(agent_epci).get("/waste/agents/").content.decode()
    assert "AUD-0001" in html and "VIL-0001" in html


def test_an_agent_creates_a_household_with_a_member(agent_audun, territory):
    member = UserFactory(email="member@example.org")
    client = _client(agent_audun)
    response = client.post(
        "/waste/agents/new/",
        {"commune": "57038", "reference": "AUD-0042", "member_email": "Member@example.org"},
    )
    assert response.status_code == 302
    household = Household.objects.get(reference="AUD-0042")
    assert list(household.members.all()) == [member]


@pytest.mark.parametrize(
    "data",
    [
        {"commune": "54580", "reference": "VIL-0042"},  # another commune
        {"commune": "57038", "reference": "bad ref"},
        {"commune": "57038", "reference": "AUD-0043", "member_email": "nobody@example.org"},
    ],
)
def test_household_creation_refuses_bad_input(agent_audun, territory, data):
    response = _client(agent_audun).post("/waste/agents/new/", data)
    assert response.status_code == 400
    assert not Household.objects.exists()


def test_an_agent_allocates_a_bin_and_registers_a_card(agent_audun, home):
    client = _client(agent_audun)
    url = f"/waste/agents/{home.pk}/"
    other = services.create_household("57038", "AUD-0002")
    response = client.post(
        f"/waste/agents/{other.pk}/", {"action": "allocate", "bin-bin_id": "bin-57038-002"}
    )
    assert response.status_code == 302
    assert BinAllocation.objects.get(household=other).bin_id.endswith("bin-57038-002")
    response = client.post(url, {"action": "card", "card-kind": "plate", "card-value": "AB-123-CD"})
    assert response.status_code == 302
    assert CentreCard.objects.get().last_chars == "3CD"
    page = client.get(url).content.decode()
    assert "AB-123-CD" not in page and "…3CD" in page


@pytest.mark.parametrize(
    "data",
    [
        {"action": "allocate", "bin-bin_id": "pav-57038-01-glass"},
        {"action": "allocate", "bin-bin_id": "bin-57038-001"},  # already this household's
        {"action": "card", "card-kind": "passport", "card-value": "X123"},
        {"action": "card", "card-kind": "badge", "card-value": "<b>"},
    ],
)
def test_the_household_page_refuses_bad_input(agent_audun, home, data):
    response = _client(agent_audun).post(f"/waste/agents/{home.pk}/", data)
    assert response.status_code == 400
    assert BinAllocation.objects.count() == 1 and not CentreCard.objects.exists()


def test_an_unknown_action_is_403(agent_audun, home):
    assert (
        _client(agent_audun).post(f"/waste/agents/{home.pk}/", {"action": "delete"}).status_code
        == 403
    )


def test_tariffs_by_scope(agent_audun, agent_epci, territory):
    year = timezone.localdate().year
    data = {
        "year": year,
        "fixed_eur": "100",
        "per_lift_eur": "3",
        "per_kg_eur": "0.2",
        "included_lifts": 12,
    }
    audun = _client(agent_audun)
    assert audun.post("/waste/agents/tariffs/", {**data, "commune": "57038"}).status_code == 302
    assert audun.post("/waste/agents/tariffs/", {**data, "commune": ""}).status_code == 400
    assert audun.post("/waste/agents/tariffs/", {**data, "commune": "54580"}).status_code == 400
    assert (
        audun.post(
            "/waste/agents/tariffs/", {**data, "commune": "57038", "per_kg_eur": "-1"}
        ).status_code
        == 400
    )
    assert (
        _client(agent_epci).post("/waste/agents/tariffs/", {**data, "commune": ""}).status_code
        == 302
    )
    assert set(Tariff.objects.values_list("commune_code", flat=True)) == {"57038", ""}
    assert Tariff.objects.get(commune_code="57038").per_kg_eur == Decimal("0.2")


def test_the_dashboard_widgets(citizen, home):
    from alzette.personal.dashboard import registry

    assert "my-bin-lifts" in registry.available_to(citizen)
    assert "my-bin-lifts" not in registry.available_to(UserFactory(email="z@example.org"))
    widget = registry.get("my-bin-lifts")
    context = widget.context(citizen, None)
    assert context["lifts"] == 3 and context["bill"].total_eur == Decimal("112.00")
    occupancy = registry.get("recycling-centres")
    assert occupancy.context(citizen, None) == {"centres": []}
    client = _client(citizen)
    client.post("/dashboard/edit/add/", {"widget": "recycling-centres"})
    html = client.get("/dashboard/").content.decode()
    assert "my-bin-lifts-count" in html
