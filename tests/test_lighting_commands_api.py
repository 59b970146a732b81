"""The commands API (/api/v1/lighting/commands, /lamps): good, bad, wrong role."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.territory.lighting.commands.models import Command
from tests.conftest import ALL_DATABASES
from tests.test_lighting_commands import age, group_entity, make_lamp, streetlight_entity

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
URL = "/api/v1/lighting/commands"


def _client(user=None) -> Client:
    client = Client(HTTP_ACCEPT="application/json")
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def lamps(m2m):
    return [make_lamp(m2m, "streetlight-57038-001"), make_lamp(m2m, "streetlight-54571-001")]


def test_send_to_lamps_and_a_group(lamps, agent_epci):
    client = _client(agent_epci)
    answer = client.post(URL, {"lamps": lamps, "level": 0.5}, content_type="application/json")
    assert answer.status_code == 202, answer.content
    assert [c["state"] for c in answer.json()] == ["sent", "sent"]
    assert {c["lamp"] for c in answer.json()} == set(lamps)
    group = group_entity("57038-rue-test", lamps[:1])
    answer = client.post(URL, {"group": group, "level": 1}, content_type="application/json")
    assert answer.status_code == 202 and answer.json()[0]["action"] == "on"
    listed = client.get(URL, {"lamp": lamps[0]}).json()
    assert [c["state"] for c in listed] == ["sent", "superseded"]
    assert len(client.get(URL, {"state": "superseded"}).json()) == 1
    states = client.get("/api/v1/lighting/lamps", {"commune": "57038"}).json()
    assert [(s["lamp"], s["command_state"], s["wanted_level"]) for s in states] == [
        (lamps[0], "commanded", 1.0)]  # fmt: skip


def test_an_agents_command_holds_for_the_minutes_given(lamps, agent_epci):
    from datetime import UTC, datetime, timedelta

    client = _client(agent_epci)
    before = datetime.now(UTC)
    answer = client.post(URL, {"lamps": lamps[:1], "level": 0.3, "hold_minutes": 120},
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 202
    [state] = client.get("/api/v1/lighting/lamps", {"commune": "57038"}).json()
    held = datetime.fromisoformat(state["held_until"])
    assert before + timedelta(minutes=119) < held < before + timedelta(minutes=121)
    answer = client.post(URL, {"lamps": lamps[:1], "level": 0.3},
                         content_type="application/json")  # fmt: skip
    [state] = client.get("/api/v1/lighting/lamps", {"commune": "57038"}).json()
    default = datetime.fromisoformat(state["held_until"]) - before
    assert timedelta(minutes=59) < default < timedelta(minutes=61)


def test_bad_requests_send_nothing(lamps, agent_epci):
    client = _client(agent_epci)
    unknown = "urn:ngsi-ld:Streetlight:streetlight-57038-999"
    answer = client.post(URL, {"lamps": [lamps[0], unknown], "level": 0.5},
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 422 and answer.json()["lamps"] == [unknown]
    assert answer["Content-Type"].startswith("application/problem+json")
    for body in ({"lamps": lamps, "level": 1.5}, {"lamps": lamps}, {"level": 0.5},
                 {"lamps": lamps, "group": "x", "level": 0.5},
                 {"lamps": lamps, "level": 0.5, "hold_minutes": 0},
                 {"lamps": lamps, "level": 0.5, "hold_minutes": 1441}):  # fmt: skip
        assert client.post(URL, body, content_type="application/json").status_code == 422
    missing = client.post(URL, {"group": "urn:ngsi-ld:StreetlightGroup:none", "level": 0},
                          content_type="application/json")  # fmt: skip
    assert missing.status_code == 404
    assert client.get(URL, {"state": "lost"}).status_code == 422
    assert client.get("/api/v1/lighting/lamps", {"commune": "x"}).status_code == 422
    assert not Command.objects.using(DB).exists()


def test_every_lamp_offline_is_a_conflict(lamps, agent_epci, settings):
    settings.ALZETTE_SUPERVISION_OFFLINE_MINUTES = 60
    age("streetlight-57038-001", 120)
    answer = _client(agent_epci).post(URL, {"lamps": lamps[:1], "level": 0.5},
                                      content_type="application/json")  # fmt: skip
    assert answer.status_code == 409
    assert Command.objects.using(DB).get().error_code == "offline"


def test_unknown_device_is_recorded(m2m, agent_epci):
    lamp = streetlight_entity("streetlight-57038-050")  # no device registered
    answer = _client(agent_epci).post(URL, {"lamps": [lamp], "level": 0.5},
                                      content_type="application/json")  # fmt: skip
    assert answer.status_code == 202 and answer.json()[0]["error_code"] == "unknown_device"


def test_wrong_roles(lamps, citizen, agent_villerupt, agent_audun):
    body = {"lamps": lamps[:1], "level": 0.5}
    assert _client().post(URL, body, content_type="application/json").status_code == 401
    assert _client().get(URL).status_code == 401
    assert _client(citizen).post(URL, body, content_type="application/json").status_code == 403
    assert _client(citizen).get("/api/v1/lighting/lamps").status_code == 403
    other = _client(agent_villerupt).post(URL, body, content_type="application/json")
    assert other.status_code == 403
    assert not Command.objects.using(DB).exists()
    own = _client(agent_audun).post(URL, body, content_type="application/json")
    assert own.status_code == 202
    assert _client(agent_villerupt).get(URL).status_code == 200  # every agent sees
