"""Pages of collection rounds: good input, bad input and the wrong role for each."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from alzette.territory.waste.rounds import demo, services
from alzette.territory.waste.rounds.models import Round, RoundRecord
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

INDEX = "/hypervision/rounds/"


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _bins() -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            id=f"urn:ngsi-ld:WasteContainer:bin-57038-{i:03d}",
            kind="bin",
            commune="57038",
            lon=5.95 + 0.002 * (i % 4),
            lat=49.47 + 0.002 * (i // 4),
            filling_level=0.9 if i % 2 else 0.2,
            capacity_l=240.0,
            waste_kind="inorganic",
            observed_at=None,
            name=f"bin {i}",
        )
        for i in range(12)
    ]


@pytest.fixture
def planning(settings, monkeypatch):
    settings.ALZETTE_ROUTING_TIME_LIMIT = 1
    settings.ALZETTE_OSRM_URL = ""
    demo.ensure_demo_fleet()
    monkeypatch.setattr(services, "_bins", _bins)
    monkeypatch.setattr(services, "_fill_rates", lambda ids: {}.get)


def _form(**changes) -> dict:
    data = {
        "trucks": "2",
        "threshold": "70",
        "planned_for": timezone.localdate().isoformat(),
        "horizon": "7",
    }
    data.update(changes)
    return data


def test_an_agent_sees_the_list_and_the_form(agent_audun, planning):
    response = _client(agent_audun).get(INDEX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="plan-form"' in html and 'name="threshold"' in html and 'id="rounds-list"' in html
    assert response.context["form"]["trucks"].initial == 4


def test_an_agent_computes_a_round_and_sees_its_map_tables_and_savings(agent_audun, planning):
    client = _client(agent_audun)
    response = client.post(INDEX, _form())
    assert response.status_code == 302
    found = Round.objects.get()
    assert response["Location"] == f"{INDEX}{found.pk}/"
    assert found.actor == agent_audun.pseudonym and found.container_count == 6
    assert found.parameters["threshold"] == 0.7 and found.parameters["trucks"] == 2
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="rounds-map"' in html and 'id="rounds-chart"' in html
    assert html.count('class="rounds-route"') == 2
    geojson = page.context["geojson"]
    lines = [f for f in geojson["features"] if f["properties"]["kind"] == "route"]
    assert len(lines) == 2 and len({f["properties"]["colour"] for f in lines}) == 2
    stops = [f for f in geojson["features"] if f["properties"]["kind"] == "stop"]
    assert len(stops) == 6
    assert json.loads(html.split('id="rounds-features" type="application/json">')[1].split("<")[0])
    assert [bar["km"] for bar in page.context["chart"]] == [
        found.baseline_distance_m / 1000,
        found.distance_m / 1000,
    ]
    listing = client.get(INDEX).content.decode()
    assert f'data-round="{found.pk}"' in listing


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trucks": "9"}, "trucks"),
        ({"trucks": "0"}, "trucks"),
        ({"trucks": "two"}, "trucks"),
        ({"threshold": "150"}, "threshold"),
        ({"threshold": ""}, "threshold"),
        ({"planned_for": "2020-01-01"}, "planned_for"),
        ({"planned_for": "not a date"}, "planned_for"),
        ({"horizon": "0"}, "horizon"),
    ],
)
def test_bad_input_is_refused_with_the_field_at_fault(agent_audun, planning, changes, field):
    response = _client(agent_audun).post(INDEX, _form(**changes))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Round.objects.exists()


def test_a_round_too_far_ahead_is_refused(agent_audun, planning):
    far = (timezone.localdate() + timedelta(days=61)).isoformat()
    response = _client(agent_audun).post(INDEX, _form(planned_for=far))
    assert response.status_code == 400 and "planned_for" in response.context["form"].errors


def test_without_a_fleet_the_form_says_so(agent_audun, settings, monkeypatch):
    monkeypatch.setattr(services, "_bins", _bins)
    response = _client(agent_audun).post(INDEX, _form(trucks="1"))
    assert response.status_code == 400 and "trucks" in response.context["form"].errors
    assert not Round.objects.exists()


def test_an_agent_validates_then_marks_the_round_done(agent_epci, planning):
    client = _client(agent_epci)
    client.post(INDEX, _form())
    found = Round.objects.get()
    url = f"{INDEX}{found.pk}/status/"
    assert 'value="validated"' in client.get(f"{INDEX}{found.pk}/").content.decode()
    assert client.post(url, {"status": "done"}).status_code == 302  # not yet: refused
    assert Round.objects.get().status == "draft"
    client.post(url, {"status": "validated"})
    assert Round.objects.get().status == "validated"
    assert 'value="done"' in client.get(f"{INDEX}{found.pk}/").content.decode()
    client.post(url, {"status": "done"})
    assert Round.objects.get().status == "done"
    client.post(url, {"status": "bogus"})
    assert Round.objects.get().status == "done"
    assert RoundRecord.objects.filter(round=found, kind="waste_round.changed").count() == 2


def test_an_unknown_round_is_not_found(agent_audun, planning):
    assert _client(agent_audun).get(f"{INDEX}{uuid.uuid4()}/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(planning):
    response = _client().get(INDEX)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("persona", ["citizen", "partner"])
def test_citizens_and_partners_may_not_see_or_compute_rounds(persona, request, planning):
    client = _client(request.getfixturevalue(persona))
    assert client.get(INDEX).status_code == 403
    assert client.post(INDEX, _form()).status_code == 403
    assert not Round.objects.exists()
    found = services.plan_round(trucks=1)
    assert client.get(f"{INDEX}{found.pk}/").status_code == 403
    assert client.post(f"{INDEX}{found.pk}/status/", {"status": "validated"}).status_code == 403
    assert Round.objects.get().status == "draft"
