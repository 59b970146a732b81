"""The agents' waste pages (containers, the recycling centre and its pick-ups) and the
public occupancy of a centre: good input, bad input, the wrong role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alzette.territory.waste import services
from alzette.territory.waste.models import Centre, PickupRequest
from tests.conftest import ALL_DATABASES
from tests.test_waste_ingest import make_container

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
PAGES = ["/hypervision/waste/", "/hypervision/waste/centres/audun/"]


@pytest.fixture
def centre():
    centre = Centre.objects.using("territory").create(
        slug="audun", name="Déchèterie d'Audun-le-Tiche", lon=5.95, lat=49.47, commune="57038",
        capacity=8, opening_hours="9h-18h",
    )  # fmt: skip
    make_container("skip-audun-1", storedWasteKind="metal", fillingLevel=0.9)
    make_container("skip-audun-2", storedWasteKind="paper", fillingLevel=0.2)
    make_container("bin-57038-001", storedWasteKind="organic", fillingLevel=0.5)
    make_container("pav-54580-01-glass", storedWasteKind="glass", fillingLevel=0.1)
    return centre


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Who may see -------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_agents_see_the_pages(agent_audun, centre, path):
    assert _client(agent_audun).get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_citizens_and_partners_are_refused(citizen, partner, centre, path):
    assert _client(citizen).get(path).status_code == 403
    assert _client(partner).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_visitors_are_sent_to_log_in(centre, path):
    response = Client().get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_citizens_cannot_request_a_pickup(citizen, centre):
    response = _client(citizen).post(PAGES[1], {"action": "request", "skip": "skip-audun-1"})
    assert response.status_code == 403
    assert not PickupRequest.objects.exists()


# --- Containers ----------------------------------------------------------------------------


def test_containers_are_listed_and_filtered(agent_epci, centre, territory):
    client = _client(agent_epci)
    everything = client.get(PAGES[0])
    listed = [row[0].short_id for row in everything.context["rows"]]
    assert listed == ["bin-57038-001", "pav-54580-01-glass", "skip-audun-1", "skip-audun-2"]
    assert b'data-container="urn:ngsi-ld:WasteContainer:bin-57038-001"' in everything.content
    bins = client.get(PAGES[0], {"kind": "bin", "commune": "57038"})
    assert [row[0].short_id for row in bins.context["rows"]] == ["bin-57038-001"]
    villerupt = client.get(PAGES[0], {"commune": "54580"})
    assert [row[0].short_id for row in villerupt.context["rows"]] == ["pav-54580-01-glass"]


@pytest.mark.parametrize("query", [{"kind": "bucket"}, {"commune": "99999"}, {"page": "zero"}])
def test_a_bad_filter_is_refused(agent_audun, centre, territory, query):
    response = _client(agent_audun).get(PAGES[0], query)
    assert response.status_code == 400
    assert response.context["rows"] == []


# --- The centre ----------------------------------------------------------------------------


def test_the_centre_shows_occupancy_and_skips(agent_audun, centre):
    services.record_passage("audun", "in", True, timezone.now() - timedelta(minutes=5))
    response = _client(agent_audun).get(PAGES[1])
    assert response.context["occupancy"]["inside"] == 1
    assert b'data-inside="1"' in response.content
    assert [s.short_id for s, _ in response.context["skips"]] == ["skip-audun-1", "skip-audun-2"]
    assert _client(agent_audun).get("/hypervision/waste/centres/nowhere/").status_code == 404


def test_an_agent_requests_a_pickup_then_closes_it_with_the_weight(agent_audun, centre):
    client = _client(agent_audun)
    response = client.post(PAGES[1], {"action": "request", "skip": "skip-audun-1"})
    assert response.status_code == 302
    request = PickupRequest.objects.get()
    assert request.requested_by == agent_audun.pseudonym
    again = client.post(PAGES[1], {"action": "request", "skip": "skip-audun-1"})
    assert again.status_code == 400 and again.context["ask"].errors["skip"]
    no_weight = client.post(PAGES[1], {"action": "done", "request": request.pk})
    assert no_weight.status_code == 400 and no_weight.context["change"].errors["weight_kg"]
    done = client.post(PAGES[1], {"action": "done", "request": request.pk, "weight_kg": "3150.5"})
    assert done.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.weight_kg) == ("done", 3150.5)
    closed = client.post(PAGES[1], {"action": "cancel", "request": request.pk})
    assert closed.status_code == 400
    assert PickupRequest.objects.get().status == "done"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "request", "skip": "skip-audun-9"},
        {"action": "request", "skip": "bin-57038-001"},
        {"action": "explode"},
        {"action": "done", "request": "999", "weight_kg": "10"},
        {"action": "done", "request": "REQUEST", "weight_kg": "-3"},
        {"action": "done", "request": "REQUEST", "weight_kg": "many"},
    ],
)
def test_bad_pickup_input_is_refused(agent_audun, centre, data):
    pickup = services.request_pickup("skip-audun-2", "system:waste")
    data = {k: (str(pickup.pk) if v == "REQUEST" else v) for k, v in data.items()}
    response = _client(agent_audun).post(PAGES[1], data)
    assert response.status_code == 400
    assert PickupRequest.objects.count() == 1
    assert PickupRequest.objects.get().status == "requested"


def test_a_request_of_another_centre_cannot_be_changed_here(agent_audun, centre):
    other = Centre.objects.using("territory").create(slug="villerupt", name="V", lon=5.9,
                                                     lat=49.46, commune="54580")  # fmt: skip
    make_container("skip-villerupt-1", storedWasteKind="metal")
    pickup = services.request_pickup("skip-villerupt-1", "system:waste")
    assert pickup.centre == other
    response = _client(agent_audun).post(PAGES[1], {"action": "cancel", "request": pickup.pk})
    assert response.status_code == 400
    pickup.refresh_from_db()
    assert pickup.status == "requested"


# --- Public occupancy ----------------------------------------------------------------------


def test_the_occupancy_is_public_and_impersonal(centre):
    services.record_passage("audun", "in", True, timezone.now())
    response = Client().get("/hypervision/waste/centres/audun/occupancy.json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"centre", "name", "inside", "capacity", "updated_at", "opening_hours"}
    assert (body["centre"], body["inside"], body["capacity"]) == ("audun", 1, 8)
    assert Client().get("/hypervision/waste/centres/nowhere/occupancy.json").status_code == 404
    assert Client().post("/hypervision/waste/centres/audun/occupancy.json").status_code == 405
