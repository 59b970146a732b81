"""The recycling centres' gate API: keys, decisions, problem+json errors."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from alzette.personal.households import services
from alzette.personal.households.models import CentreVisit
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

API = "/api/v1/waste/centres"


@pytest.fixture
def centre(territory):
    from alzette.territory.waste.models import Centre

    return Centre.objects.using("territory").create(
        slug="audun",
        name="Déchèterie d'Audun",
        lon=5.95,
        lat=49.47,
        commune="57038",
        capacity=1,
        visits_per_year=2,
    )


@pytest.fixture
def key(centre):
    return services.issue_gate_key("audun")


@pytest.fixture
def badge(centre):
    household = services.create_household("57038", "AUD-0001")
    services.register_card(household, "badge", "BADGE-1")
    return household


def post(api_client, path, body=None, key=None):
    headers = {"HTTP_X_GATE_KEY": key} if key else {}
    return api_client.post(
        path, body if body is not None else {}, content_type="application/json", **headers
    )


def test_a_known_badge_opens_the_gate(api_client, key, badge):
    response = post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, key)
    assert response.status_code == 200
    assert response.json() == {"allowed": True, "reason": "allowed", "remaining": 1}
    assert CentreVisit.objects.get().household == badge


def test_an_unknown_plate_is_refused(api_client, key, badge):
    response = post(api_client, f"{API}/audun/access", {"plate": "AA-000-AA"}, key)
    assert response.status_code == 200
    assert response.json() == {"allowed": False, "reason": "unknown_card", "remaining": 0}


@pytest.mark.parametrize("headers_key", [None, "alzg_wrong", "Bearer x"])
def test_a_bad_or_missing_key_is_401(api_client, centre, badge, headers_key):
    response = post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, headers_key)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert not CentreVisit.objects.exists()


def test_a_key_of_another_centre_is_401(api_client, centre, badge):
    other = services.issue_gate_key("villerupt")
    assert post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, other).status_code == 401


def test_an_unknown_centre_is_404(api_client, territory):
    key = services.issue_gate_key("nowhere")
    response = post(api_client, f"{API}/nowhere/access", {"badge": "BADGE-1"}, key)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert post(api_client, f"{API}/nowhere/exit", key=key).status_code == 404


@pytest.mark.parametrize("body", [{}, {"badge": "BADGE-1", "plate": "AA-000-AA"}])
def test_neither_or_both_cards_is_400(api_client, key, badge, body):
    response = post(api_client, f"{API}/audun/access", body, key)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_malformed_card_is_422(api_client, key, badge):
    response = post(api_client, f"{API}/audun/access", {"badge": "<script>"}, key)
    assert response.status_code == 422


def test_the_quota_once_exhausted_refuses(api_client, key, badge):
    for _ in range(2):
        assert post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, key).json()["allowed"]
        assert post(api_client, f"{API}/audun/exit", key=key).json() == {"recorded": True}
    response = post(api_client, f"{API}/audun/access", {"badge": "badge-1"}, key)
    assert response.json() == {"allowed": False, "reason": "quota_exhausted", "remaining": 0}


def test_a_full_centre_refuses_until_a_vehicle_leaves(api_client, key, badge):
    other = services.create_household("57038", "AUD-0002")
    services.register_card(other, "plate", "AB-123-CD")
    assert post(api_client, f"{API}/audun/access", {"plate": "AB123CD"}, key).json()["allowed"]
    refused = post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, key).json()
    assert refused == {"allowed": False, "reason": "full", "remaining": 2}
    assert post(api_client, f"{API}/audun/exit", key=key).status_code == 200
    assert post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, key).json()["allowed"]


def test_exit_needs_a_key(api_client, centre):
    assert post(api_client, f"{API}/audun/exit").status_code == 401


def test_the_command_prints_a_working_key(api_client, centre, badge, capsys):
    call_command("households", "gate-key", "audun")
    key = capsys.readouterr().out.strip()
    assert key.startswith("alzg_")
    assert post(api_client, f"{API}/audun/access", {"badge": "BADGE-1"}, key).status_code == 200
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("households", "gate-key", "nowhere")


def test_the_api_is_described(api_client):
    description = api_client.get("/api/v1/openapi.json").json()
    operation = description["paths"]["/api/v1/waste/centres/{slug}/access"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "401", "404", "422"}
    assert operation["security"] == [{"GateKeyHeader": []}]
