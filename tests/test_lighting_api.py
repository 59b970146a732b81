"""The lighting policies API (/api/v1/lighting/policies, /overrides, /plan): good input,
bad input (problem+json 422 with field errors, 409 naming the conflicting schedule) and
the wrong role or commune."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.territory.lighting import policies
from alzette.territory.lighting.authz import PLATFORM
from alzette.territory.lighting.models import CalendarOverride, Policy
from tests.conftest import ALL_DATABASES
from tests.test_lighting_policies import AUDUN, STANDARD, make_group, policy_data

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
URL = "/api/v1/lighting"
JSON = "application/json"


def client_for(user=None) -> Client:
    client = Client(HTTP_ACCEPT=JSON)
    if user is not None:
        client.force_login(user)
    return client


def body(**extra) -> dict:
    return {"name": "Programme", "commune": AUDUN, "steps": STANDARD, **extra}


def override_body(**extra) -> dict:
    return {"commune": AUDUN, "start": "2026-12-04T16:00:00+01:00",
            "end": "2026-12-04T23:00:00+01:00", "level": 1.0, "reason": "Marché de Noël",
            **extra}  # fmt: skip


def problem(answer, status: int) -> dict:
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"].startswith("application/problem+json")
    return answer.json()


def test_wrong_roles(citizen, territory):
    assert client_for().get(URL + "/policies").status_code == 401
    assert client_for().post(URL + "/policies", body(), content_type=JSON).status_code == 401
    problem(client_for(citizen).get(URL + "/policies"), 403)
    problem(client_for(citizen).post(URL + "/policies", body(), content_type=JSON), 403)
    problem(client_for(citizen).get(URL + "/overrides"), 403)
    problem(client_for(citizen).get(URL + "/plan", {"target": AUDUN}), 403)


def test_policy_lifecycle(agent_audun, territory):
    client = client_for(agent_audun)
    answer = client.post(URL + "/policies", body(weekdays=[4, 5], valid_from="2026-12-01"),
                         content_type=JSON)  # fmt: skip
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["steps"] == STANDARD and created["weekdays"] == [4, 5]
    assert created["created_by"] == agent_audun.pseudonym
    pk = created["id"]
    assert [p["id"] for p in client.get(URL + "/policies", {"commune": AUDUN}).json()] == [pk]
    assert client.get(URL + "/policies", {"commune": "54580"}).json() == []
    assert client.get(URL + f"/policies/{pk}").json()["name"] == "Programme"
    answer = client.put(URL + f"/policies/{pk}", body(name="Renamed", enabled=False),
                        content_type=JSON)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["enabled"] is False
    assert client.delete(URL + f"/policies/{pk}").status_code == 204
    problem(client.get(URL + f"/policies/{pk}"), 404)
    problem(client.delete(URL + f"/policies/{pk}"), 404)
    problem(client.put(URL + f"/policies/{pk}", body(), content_type=JSON), 404)


def test_bad_policies(agent_audun, territory):
    client = client_for(agent_audun)
    answer = client.post(URL + "/policies", body(steps=[{"at": "sunset", "level": 1.5},
                                                        {"at": "26:00", "level": 0}]),
                         content_type=JSON)  # fmt: skip
    errors = problem(answer, 422)["errors"]
    locations = {tuple(e["location"]) for e in errors}
    assert {("body", "steps", "0", "level"), ("body", "steps", "1", "at")} <= locations
    answer = client.post(URL + "/policies", body(steps=[{"at": "23:00", "level": 0.5},
                                                        {"at": "sunset", "level": 1}]),
                         content_type=JSON)  # fmt: skip
    assert ["body", "steps", "1", "at"] in [e["location"] for e in problem(answer, 422)["errors"]]
    problem(client.post(URL + "/policies", {"name": "x"}, content_type=JSON), 422)
    problem(client.post(URL + "/policies", body(commune="99999"), content_type=JSON), 422)
    assert not Policy.objects.using(DB).exists()


def test_conflicting_policy_is_409(agent_audun, territory):
    other = policies.save_policy(PLATFORM, policy_data(name="Standard"))
    answer = client_for(agent_audun).post(URL + "/policies", body(), content_type=JSON)
    found = problem(answer, 409)
    assert found["conflicts_with"] == f"policy:{other.pk}" and "Standard" in found["detail"]


def test_another_communes_policy_is_403(agent_villerupt, agent_epci, territory):
    other = policies.save_policy(PLATFORM, policy_data())
    client = client_for(agent_villerupt)
    problem(client.post(URL + "/policies", body(), content_type=JSON), 403)
    problem(client.put(URL + f"/policies/{other.pk}", body(), content_type=JSON), 403)
    problem(client.delete(URL + f"/policies/{other.pk}"), 403)
    assert client.get(URL + f"/policies/{other.pk}").status_code == 200  # reading is fine
    answer = client_for(agent_epci).put(URL + f"/policies/{other.pk}", body(priority=2),
                                        content_type=JSON)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["priority"] == 2


def test_overrides(agent_audun, agent_villerupt, territory):
    group, _lamps = make_group(AUDUN, "grand-rue")
    client = client_for(agent_audun)
    answer = client.post(URL + "/overrides", override_body(groups=[group]), content_type=JSON)
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    listed = client.get(URL + "/overrides", {"from": "2026-12-01T00:00:00Z",
                                             "to": "2027-01-01T00:00:00Z"}).json()  # fmt: skip
    assert [o["id"] for o in listed] == [pk]
    assert client.get(URL + "/overrides", {"from": "2027-01-01T00:00:00Z"}).json() == []
    problem(client.get(URL + "/overrides", {"from": "yesterday"}), 422)
    found = problem(client.post(URL + "/overrides", override_body(reason="Concert"),
                                content_type=JSON), 409)  # fmt: skip
    assert found["conflicts_with"] == f"override:{pk}" and "Marché de Noël" in found["detail"]
    errors = problem(client.post(URL + "/overrides", override_body(level=None, reason=""),
                                 content_type=JSON), 422)["errors"]  # fmt: skip
    assert {tuple(e["location"]) for e in errors} == {("body", "level"), ("body", "reason")}
    problem(client.post(URL + "/overrides", override_body(end="2026-12-04T10:00:00+01:00"),
                        content_type=JSON), 422)  # fmt: skip
    january = override_body(start="2027-01-04T16:00:00+01:00", end="2027-01-04T23:00:00+01:00")
    problem(client_for(agent_villerupt).post(URL + "/overrides", january, content_type=JSON), 403)
    problem(client_for(agent_villerupt).delete(URL + f"/overrides/{pk}"), 403)
    assert client.delete(URL + f"/overrides/{pk}").status_code == 204
    problem(client.delete(URL + f"/overrides/{pk}"), 404)
    assert not CalendarOverride.objects.using(DB).exists()


def test_plan(agent_audun, territory):
    group, lamps = make_group(AUDUN, "grand-rue")
    policy = policies.save_policy(PLATFORM, policy_data())
    client = client_for(agent_audun)
    answer = client.get(URL + "/plan", {"target": lamps[0], "at": "2026-12-04T23:30:00+01:00"})
    assert answer.status_code == 200, answer.content
    plan = answer.json()
    assert (plan["kind"], plan["group"], plan["level"], plan["source"]) == (
        "lamp",
        group,
        0.5,
        f"policy:{policy.pk}",
    )
    assert plan["until"].startswith("2026-12-05T00:00")
    answer = client.get(URL + "/plan", {"target": AUDUN, "at": "2026-12-05T12:00:00"})
    assert answer.json()["level"] == 0.0 and answer.json()["kind"] == "commune"
    assert client.get(URL + "/plan", {"target": group}).status_code == 200
    problem(client.get(URL + "/plan", {"target": "urn:ngsi-ld:Streetlight:nothing"}), 404)
    problem(client.get(URL + "/plan"), 422)
    problem(client.get(URL + "/plan", {"target": AUDUN, "at": "soon"}), 422)
