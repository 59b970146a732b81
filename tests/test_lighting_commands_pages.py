"""Agents' pages of commands to streetlights: list, lamp, command form."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.territory.lighting.commands import services
from alzette.territory.lighting.commands.models import Command
from tests.conftest import ALL_DATABASES
from tests.test_lighting_commands import AGENT, ack, make_lamp

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
INDEX = "/hypervision/lighting/lamps/"


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def lamps(m2m, territory):
    first = make_lamp(m2m, "streetlight-57038-001")
    second = make_lamp(m2m, "streetlight-54580-001")
    [sent] = services.send([first], 0.5, source="policy:3", actor=AGENT)
    ack(m2m, "streetlight-57038-001", sent.id, "refused", reason="driver fault")
    return [first, second]


def test_lamps_page_and_filters(lamps, agent_epci):
    client = _client(agent_epci)
    page = client.get(INDEX).content.decode()
    assert 'data-lamp="urn:ngsi-ld:Streetlight:streetlight-57038-001" data-state="failed"' in page
    assert "driver fault" in page and 'data-state="none"' in page
    assert 'id="command-form"' in page
    page = client.get(INDEX, {"commune": "54580"}).content.decode()
    assert "streetlight-57038-001" not in page and "streetlight-54580-001" in page
    page = client.get(INDEX, {"state": "failed"}).content.decode()
    assert "streetlight-54580-001" not in page and "streetlight-57038-001" in page
    assert client.get(INDEX, {"state": "nonsense", "commune": "x"}).status_code == 200


def test_lamp_page_and_history(lamps, agent_audun, agent_villerupt):
    page = _client(agent_audun).get(INDEX + "streetlight-57038-001/").content.decode()
    assert 'id="history"' in page and 'data-state="failed"' in page and "policy:3" in page
    assert 'id="command-form"' in page
    other = _client(agent_villerupt).get(INDEX + "streetlight-57038-001/").content.decode()
    assert 'id="command-form"' not in other
    assert _client(agent_audun).get(INDEX + "streetlight-57038-404/").status_code == 404


def test_command_form(lamps, agent_audun, agent_villerupt):
    post = {"target": lamps[0], "switch": "on", "next": INDEX}
    response = _client(agent_audun).post(INDEX + "command/", post)
    assert response.status_code == 302
    assert Command.objects.using(DB).filter(lamp_id=lamps[0], action="on", state="sent").exists()
    dimmed = {"target": lamps[0], "switch": "", "level": "30", "next": INDEX}
    _client(agent_audun).post(INDEX + "command/", dimmed)
    assert Command.objects.using(DB).filter(action="dim", level=0.3).exists()
    count = Command.objects.using(DB).count()
    bad = {"target": lamps[0], "switch": "", "level": "300", "next": INDEX}
    assert _client(agent_audun).post(INDEX + "command/", bad).status_code == 302
    for hold in ("0", "2000", "soon"):
        held = {"target": lamps[0], "switch": "on", "hold": hold, "next": INDEX}
        assert _client(agent_audun).post(INDEX + "command/", held).status_code == 302
    unknown = {"target": "urn:ngsi-ld:Streetlight:nope", "switch": "on"}
    assert _client(agent_audun).post(INDEX + "command/", unknown).status_code == 302
    refused = _client(agent_villerupt).post(INDEX + "command/", post)
    assert refused.status_code == 403
    assert Command.objects.using(DB).count() == count
    held = {"target": lamps[0], "switch": "off", "hold": "15", "next": INDEX}
    assert _client(agent_audun).post(INDEX + "command/", held).status_code == 302
    page = _client(agent_audun).get(INDEX + lamps[0].rsplit(":", 1)[1] + "/").content.decode()
    assert 'id="lamp-held"' in page and 'id="command-hold"' in page


def test_wrong_roles(lamps, citizen):
    assert _client().get(INDEX).status_code == 302  # to the log-in page
    assert _client(citizen).get(INDEX).status_code == 403
    assert (
        _client(citizen).post(INDEX + "command/", {"target": lamps[0], "switch": "on"}).status_code
        == 403
    )


def test_layer_shows_the_command_state(lamps):
    from alzette.territory.lighting.commands.layers import LampCommandsLayer

    found = {f["id"]: f["properties"] for f in LampCommandsLayer().features()}
    assert found[lamps[0]]["commandState"] == "failed"
    assert found[lamps[0]]["commandError"] == "refused"
    assert found[lamps[1]]["commandState"] == ""
