"""Agents' water pages and the water API: good input, bad input, the wrong role."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from alzette.ledger.models import LedgerEntry
from alzette.territory.water import demo, detection, services
from alzette.territory.water.layers import DistrictMetersLayer, WaterSensorsLayer
from alzette.territory.water.models import District, LedgerRecord, Meter
from tests.conftest import ALL_DATABASES
from tests.test_water_ingest import device, iso, post

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
PAGES = ["/hypervision/water/", "/hypervision/water/districts/57038-1/"]
API = "/api/v1/water/districts"


@pytest.fixture
def network(territory, m2m):
    counts = demo.ensure_demo_water()
    aei = device(m2m, "dmeter-57038-1", "flow")
    moment = datetime.now(UTC) - timedelta(hours=5)
    for n in range(5):
        at = iso(moment + timedelta(hours=n))
        post(m2m, aei, "dmeter-57038-1", "flow", {"index": 100.0 + n, "flow": 1800.0 + n, "t": at})
    return counts


def client(user) -> Client:
    found = Client(HTTP_ACCEPT="application/json")
    found.force_login(user)
    return found


@pytest.mark.parametrize("path", PAGES)
def test_agents_see_the_pages(agent_villerupt, network, path):
    response = client(agent_villerupt).get(path)
    assert response.status_code == 200
    text = response.content.decode()
    assert 'class="hv-nav"' in text


def test_the_index_lists_districts_and_the_map(agent_audun, network):
    text = client(agent_audun).get(PAGES[0]).content.decode()
    assert text.count('data-district="') == 10
    assert 'id="water-map"' in text and 'id="water-features"' in text
    assert "W26-" not in text  # household meters are never listed


def test_the_district_page_shows_charts_tables_and_alerts(agent_audun, network):
    district = District.objects.get(slug="57038-1")
    rule = detection._rule(detection.NIGHT_FLOW)
    from alzette.territory.supervision import alerts

    alerts.raise_detected(rule, district.inflow_entity, 2500, "night flow above")
    text = client(agent_audun).get(PAGES[1]).content.decode()
    for marker in ('id="flow-table"', 'id="night-table"', 'id="balance-table"',
                   'id="quality-table"', "<svg", 'data-detector="water.night-flow"',
                   'id="district-settings"', 'data-figure="flow"'):  # fmt: skip
        assert marker in text, marker
    assert "1804" in text  # the latest flow


@pytest.mark.parametrize("path", PAGES)
def test_citizens_and_visitors_are_refused(citizen, partner, network, path):
    assert client(citizen).get(path).status_code == 403
    assert client(partner).get(path).status_code == 403
    response = Client().get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_district_is_404(agent_audun, network):
    assert client(agent_audun).get("/hypervision/water/districts/99999-1/").status_code == 404


def test_agents_of_the_commune_change_settings(agent_audun, network):
    response = client(agent_audun).post(PAGES[1], {
        "name": "Audun haut", "night_flow_threshold": "2000", "balance_percent": "30"})  # fmt: skip
    assert response.status_code == 302
    district = District.objects.get(slug="57038-1")
    assert (district.name, district.night_flow_threshold, district.balance_threshold) == (
        "Audun haut",
        2000,
        0.3,
    )
    assert LedgerRecord.objects.filter(object_ref="water_district:57038-1").exists()
    assert LedgerEntry.objects.filter(kind="water_district.changed").exists()


def test_bad_settings_are_refused(agent_audun, network):
    response = client(agent_audun).post(PAGES[1], {
        "name": "", "night_flow_threshold": "-4", "balance_percent": "150"})  # fmt: skip
    assert response.status_code == 400
    assert District.objects.get(slug="57038-1").night_flow_threshold == 1500


def test_agents_of_another_commune_cannot_change(agent_villerupt, network):
    text = client(agent_villerupt).get(PAGES[1]).content.decode()
    assert 'id="district-settings"' not in text
    response = client(agent_villerupt).post(PAGES[1], {
        "name": "x", "night_flow_threshold": "2000", "balance_percent": "30"})  # fmt: skip
    assert response.status_code == 403


# --- API --------------------------------------------------------------------------------


def test_api_lists_and_shows_districts(agent_audun, network):
    found = client(agent_audun).get(API).json()
    assert len(found) == 10 and found[0]["slug"] == "54521-1"
    detail = client(agent_audun).get(f"{API}/57038-1").json()
    assert detail["latest"]["flow"] == 1804.0 and len(detail["nights"]) == 7
    assert len(detail["balances"]) == 7 and detail["can_change"] is True
    assert detail["meters"] == 4


def test_api_refuses_non_agents(citizen, network, api_client):
    assert api_client.get(API).status_code == 401
    response = client(citizen).get(API)
    assert response.status_code == 403 and response["Content-Type"].startswith(
        "application/problem+json"
    )
    assert client(citizen).get(f"{API}/57038-1").status_code == 403


def test_api_unknown_district(agent_audun, network):
    response = client(agent_audun).get(f"{API}/99999-9")
    assert response.status_code == 404


def patch(user, slug, body):
    return client(user).patch(f"{API}/{slug}", json.dumps(body), content_type="application/json")


def test_api_patch(agent_audun, agent_epci, agent_villerupt, network):
    response = patch(agent_audun, "57038-1", {"night_flow_threshold": 1800})
    assert response.status_code == 200 and response.json()["night_flow_threshold"] == 1800
    response = patch(agent_epci, "54580-2", {"balance_threshold": 0.2})
    assert response.status_code == 200 and response.json()["balance_threshold"] == 0.2
    response = patch(agent_villerupt, "57038-1", {"night_flow_threshold": 100})
    assert response.status_code == 403
    response = patch(agent_audun, "57038-1", {"balance_threshold": 1.5})
    assert response.status_code == 422
    assert "balance_threshold" in response.json()["errors"]
    assert patch(agent_audun, "57038-1", {}).status_code == 422
    assert patch(agent_audun, "57038-1", {"night_flow_threshold": "lots"}).status_code == 422
    assert District.objects.get(slug="57038-1").night_flow_threshold == 1800


# --- Layers ------------------------------------------------------------------------------


def test_layers(network):
    meters = DistrictMetersLayer().features()
    assert len(meters) == 10
    audun = next(f for f in meters if f["id"] == services.inflow_id("57038-1"))
    assert audun["properties"]["value"] == 1804.0
    assert len(WaterSensorsLayer().features()) == 20
    assert Meter.objects.count() == 60  # and no household meter on the map
