"""Commands to streetlights through oneM2M: send, plan, retry, acknowledgements.

Each lamp registers as a device does over HTTP (tests/onem2m_helpers.py): its AE,
its ``cmd``, ``ack`` and ``state`` containers, an ACP granting ``Clighting``
create on ``cmd`` and its own subscription to ``cmd``. It is not reachable
(``rr`` false): it reads its latest command at ``cmd/la``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from alzette.ledger.models import LedgerEntry
from alzette.territory.lighting.commands import services
from alzette.territory.lighting.commands.models import Command, LampState, LedgerRecord
from alzette.territory.onem2m.models import Resource
from alzette.territory.supervision.models import Alert, QuarantinedMessage
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
DB = "territory"
AGENT = "ab" * 16
PREFIX = "urn:ngsi-ld:Streetlight:"


def streetlight_entity(name: str, lon: float = 5.98, lat: float = 49.47) -> str:
    from alzette.territory.ngsild import entities, jsonld, ldcontexts

    op = entities.Op(tenant="", ctx=jsonld.resolve(None, ldcontexts.lookup))
    entities.create(op, {"id": PREFIX + name, "type": "Streetlight",
                         "location": {"type": "GeoProperty",
                                      "value": {"type": "Point", "coordinates": [lon, lat]}},
                         "status": {"type": "Property", "value": "ok"},
                         "powerState": {"type": "Property", "value": "on"}})  # fmt: skip
    return PREFIX + name


def group_entity(group: str, lamps: list[str]) -> str:
    from alzette.territory.ngsild import entities, jsonld, ldcontexts

    op = entities.Op(tenant="", ctx=jsonld.resolve(None, ldcontexts.lookup))
    eid = f"urn:ngsi-ld:StreetlightGroup:{group}"
    entities.create(op, {"id": eid, "type": "StreetlightGroup",
                         "location": {"type": "GeoProperty",
                                      "value": {"type": "Point", "coordinates": [5.98, 49.47]}},
                         "refStreetlight": {"type": "Relationship", "object": lamps}})  # fmt: skip
    return eid


def register_lamp(m2m, name: str, *, grant: bool = True) -> str:
    """A lamp as it registers: AE, cmd/ack/state, ACP on cmd, subscription to cmd."""
    aei = m2m.register(name, origin=f"C{name}")["aei"]
    base = f"alzette/{name}"
    for container in ("cmd", "ack", "state"):
        m2m.container(base, container, aei)
    if grant:
        body = {"m2m:acp": {"rn": "lighting-app",
                            "pv": {"acr": [{"acor": ["Clighting"], "acop": 3}]},
                            "pvs": {"acr": [{"acor": [aei], "acop": 63}]}}}  # fmt: skip
        acp = m2m.create(base, 1, body, origin=aei).json()["m2m:acp"]["ri"]
        assert (
            m2m.update(f"{base}/cmd", {"m2m:cnt": {"acpi": [acp]}}, origin=aei).status_code == 200
        )
    body = {"m2m:sub": {"rn": "lamp", "nu": [aei], "enc": {"net": [3]}}}
    assert m2m.create(f"{base}/cmd", 23, body, origin=aei).status_code == 201
    return aei


def latest_command(m2m, name: str) -> dict:
    response = m2m.retrieve(f"alzette/{name}/cmd/la", origin=f"C{name}")
    assert response.status_code == 200, response.content
    return json.loads(response.json()["m2m:cin"]["con"])


def ack(m2m, name: str, command_id: str, result: str = "ok", **extra) -> None:
    content = {"id": command_id, "result": result, "level": 0.5,
               "t": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **extra}  # fmt: skip
    assert m2m.instance(f"alzette/{name}/ack", json.dumps(content), f"C{name}").status_code == 201


def make_lamp(m2m, name: str, **kwargs) -> str:
    lamp_id = streetlight_entity(name)
    register_lamp(m2m, name, **kwargs)
    return lamp_id


def age(name: str, minutes: float) -> None:
    old = datetime.now(UTC) - timedelta(minutes=minutes)
    ae = Resource.objects.using(DB).get(ty=2, rn=name)
    Resource.objects.using(DB).filter(ri=ae.ri).update(ct=old, lt=old)
    Resource.objects.using(DB).filter(ty=3, pi=ae.ri).update(ct=old, lt=old)


@pytest.fixture
def lamp_a(m2m):
    return make_lamp(m2m, "streetlight-57038-001")


def kinds() -> list[str]:
    return list(LedgerRecord.objects.using(DB).order_by("pk").values_list("kind", flat=True))


def test_send_writes_a_command_the_lamp_reads_and_acknowledges(m2m, lamp_a):
    [command] = services.send([lamp_a], 0.5, source="agent", actor="ab" * 16)
    assert (command.state, command.action, command.attempts) == ("sent", "dim", 1)
    content = latest_command(m2m, "streetlight-57038-001")
    assert content["id"] == command.id and content["action"] == "dim" and content["level"] == 0.5
    assert Resource.objects.using(DB).filter(ri="Clighting", ty=2, rn="lighting").exists()
    ack(m2m, "streetlight-57038-001", command.id)
    command.refresh_from_db(using=DB)
    assert command.state == "acknowledged" and command.acked_at is not None
    state = services.lamp_states()[lamp_a]
    assert (state.wanted_level, state.wanted_source, state.last_command_id) == (
        0.5,
        "agent",
        command.id,
    )
    assert services.display_state(state) == "acknowledged"
    assert kinds() == ["device.command_sent", "device.command_acknowledged"]
    assert LedgerEntry.objects.using("ledger").filter(kind="device.command_sent").exists()


@pytest.mark.parametrize(("level", "action"), [(0, "off"), (1, "on"), (1.0, "on"), (0.3, "dim")])
def test_levels_and_actions(m2m, lamp_a, level, action):
    [command] = services.send([lamp_a], level, source="agent", actor=AGENT)
    assert command.action == action


@pytest.mark.parametrize("level", [-0.1, 1.5, "half", None, True, float("nan")])
def test_an_invalid_level_writes_nothing(m2m, lamp_a, level):
    with pytest.raises(services.CommandError) as caught:
        services.send([lamp_a], level, source="agent", actor=AGENT)
    assert caught.value.code == "invalid_level"
    assert not Command.objects.using(DB).exists() and not LampState.objects.using(DB).exists()
    with pytest.raises(services.CommandError):
        services.apply_plan({lamp_a: level}, source="policy:1", actor="system:lighting")


def test_apply_plan_sends_only_changes_and_supersedes(m2m, lamp_a):
    first = services.apply_plan({lamp_a: 1.0}, source="policy:3", actor="system:lighting")
    assert len(first) == 1 and first[0].source == "policy:3"
    assert services.apply_plan({lamp_a: 1.0}, source="policy:3", actor="system:lighting") == []
    second = services.apply_plan({lamp_a: 0.5}, source={lamp_a: "override:5"},
                                 actor="system:lighting")  # fmt: skip
    first[0].refresh_from_db(using=DB)
    assert first[0].state == "superseded" and second[0].state == "sent"
    assert latest_command(m2m, "streetlight-57038-001")["id"] == second[0].id
    assert services.lamp_states([lamp_a])[lamp_a].wanted_source == "override:5"
    # An acknowledgement of the superseded command leaves it superseded.
    ack(m2m, "streetlight-57038-001", first[0].id)
    first[0].refresh_from_db(using=DB)
    assert first[0].state == "superseded"


def test_an_agents_command_holds_the_lamp_then_the_plan_takes_it_back(m2m, lamp_a):
    services.apply_plan({lamp_a: 1.0}, source="policy:3", actor="system:lighting")
    [manual] = services.send([lamp_a], 0.2, source="agent", actor=AGENT,
                             hold=timedelta(minutes=30))  # fmt: skip
    state = services.lamp_states([lamp_a])[lamp_a]
    assert state.held_until is not None and state.wanted_level == 0.2
    # The next schedule run leaves the lamp at the agent's level...
    assert services.apply_plan({lamp_a: 1.0}, source="policy:3", actor="system:lighting") == []
    # ... until the hold ends: then the plan sends its level again and the hold is gone.
    LampState.objects.using(DB).filter(lamp_id=lamp_a).update(
        held_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    [back] = services.apply_plan({lamp_a: 1.0}, source="policy:3", actor="system:lighting")
    assert (back.level, back.source) == (1.0, "policy:3")
    assert services.lamp_states([lamp_a])[lamp_a].held_until is None
    manual.refresh_from_db(using=DB)
    assert manual.state == "superseded"


@pytest.mark.parametrize("hold", [timedelta(0), timedelta(seconds=30), timedelta(days=2)])
def test_a_hold_out_of_bounds_sends_nothing(m2m, lamp_a, hold):
    with pytest.raises(services.CommandError) as caught:
        services.send([lamp_a], 0.5, source="agent", actor=AGENT, hold=hold)
    assert caught.value.code == "invalid_hold"
    assert not Command.objects.using(DB).exists()


def test_the_default_hold_follows_the_setting(settings):
    settings.ALZETTE_LIGHTING_MANUAL_HOLD_MINUTES = 90
    assert services.manual_hold() == timedelta(minutes=90)
    settings.ALZETTE_LIGHTING_MANUAL_HOLD_MINUTES = 100000
    assert services.manual_hold() == timedelta(days=1)


def test_unknown_devices_are_recorded_failed(m2m):
    no_ae = streetlight_entity("streetlight-57038-009")  # an entity, no device
    nothing = PREFIX + "streetlight-57038-404"  # neither
    found = services.send([no_ae, nothing], 1, source="agent", actor=AGENT)
    assert [(c.state, c.error_code) for c in found] == [("failed", "unknown_device")] * 2
    assert kinds() == ["device.command_refused"] * 2


def test_offline_lamps_are_recorded_failed(m2m, lamp_a, settings):
    settings.ALZETTE_SUPERVISION_OFFLINE_MINUTES = 60
    age("streetlight-57038-001", 90)
    [command] = services.send([lamp_a], 1, source="agent", actor=AGENT)
    assert (command.state, command.error_code) == ("failed", "offline")
    assert Resource.objects.using(DB).filter(ty=4).count() == 0


def test_a_lamp_that_grants_no_right_refuses(m2m):
    lamp = make_lamp(m2m, "streetlight-57038-002", grant=False)
    [command] = services.send([lamp], 1, source="agent", actor=AGENT)
    assert (command.state, command.error_code) == ("failed", "not_allowed")
    assert kinds() == ["device.command_refused"]
    assert Resource.objects.using(DB).filter(ty=4).count() == 0


def test_retry_resends_then_fails_with_an_alert_cleared_by_an_ack(m2m, lamp_a, settings):
    settings.ALZETTE_LIGHTING_ACK_SECONDS = 60
    settings.ALZETTE_LIGHTING_MAX_ATTEMPTS = 2
    [command] = services.send([lamp_a], 0.4, source="policy:1", actor="system:lighting")
    first_ri = command.instance_ri
    assert services.run_retry() == "0 command(s) re-sent, 0 failed"
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert services.run_retry(now=later) == "1 command(s) re-sent, 0 failed"
    command.refresh_from_db(using=DB)
    assert command.attempts == 2 and command.instance_ri != first_ri
    assert latest_command(m2m, "streetlight-57038-001")["id"] == command.id
    assert services.run_retry(now=later + timedelta(seconds=61)) == "0 command(s) re-sent, 1 failed"
    command.refresh_from_db(using=DB)
    assert (command.state, command.error_code) == ("failed", "no_ack")
    alert = Alert.objects.using(DB).get(entity_id=lamp_a)
    assert alert.rule.detector == "lighting.command-failed" and alert.state == "firing"
    ack(m2m, "streetlight-57038-001", command.id)  # late, but it did act
    command.refresh_from_db(using=DB)
    alert.refresh_from_db(using=DB)
    assert command.state == "acknowledged" and alert.state == "closed"
    assert kinds() == ["device.command_sent", "device.command_sent", "device.command_failed",
                       "device.command_acknowledged"]  # fmt: skip


def test_a_refusal_fails_the_command_with_the_lamps_reason(m2m, lamp_a):
    [command] = services.send([lamp_a], 0.5, source="agent", actor=AGENT)
    ack(m2m, "streetlight-57038-001", command.id, "refused", reason="driver fault")
    command.refresh_from_db(using=DB)
    assert (command.state, command.error_code, command.error_detail) == (
        "failed", "refused", "driver fault")  # fmt: skip
    assert services.display_state(services.lamp_states()[lamp_a]) == "failed"


@pytest.mark.parametrize("content", [
    "not json", json.dumps({"id": "0" * 32, "result": "ok"}), json.dumps({"result": "ok"}),
    json.dumps({"id": "x", "result": "maybe"}),
])  # fmt: skip
def test_impossible_acks_are_quarantined(m2m, lamp_a, content):
    services.send([lamp_a], 0.5, source="agent", actor=AGENT)
    m2m.instance("alzette/streetlight-57038-001/ack", content, "Cstreetlight-57038-001")
    assert QuarantinedMessage.objects.using(DB).filter(device="streetlight-57038-001").count() == 1
    assert Command.objects.using(DB).get().state == "sent"


def test_an_ack_from_the_future_is_quarantined(m2m, lamp_a):
    [command] = services.send([lamp_a], 0.5, source="agent", actor=AGENT)
    future = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ack(m2m, "streetlight-57038-001", command.id, t=future)
    assert QuarantinedMessage.objects.using(DB).get().kind == "future_time"
    command.refresh_from_db(using=DB)
    assert command.state == "sent"


def test_state_reports_update_the_lamp_state(m2m, lamp_a):
    report = {"powerState": "on", "illuminanceLevel": 0.5, "powerConsumption": 21.0,
              "status": "ok", "t": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    m2m.instance("alzette/streetlight-57038-001/state", json.dumps(report),
                 "Cstreetlight-57038-001")  # fmt: skip
    state = services.lamp_states()[lamp_a]
    assert (state.power_state, state.illuminance_level, state.power_consumption, state.status) == (
        "on", 0.5, 21.0, "ok")  # fmt: skip
    assert state.last_seen is not None and state.commune == "57038"
    m2m.instance("alzette/streetlight-57038-001/state", json.dumps({"illuminanceLevel": 7}),
                 "Cstreetlight-57038-001")  # fmt: skip
    # Every context that reads lamp states refuses it: one entry, every reason.
    (kept,) = QuarantinedMessage.objects.using(DB).all()
    assert kept.kind == "out_of_range" and kept.source
    assert "illuminanceLevel = 7 is out of range (0 to 1)" in kept.reason, kept.reason


def test_group_lamps(m2m, lamp_a):
    other = streetlight_entity("streetlight-57038-002")
    group = group_entity("57038-rue-test", [lamp_a, other])
    assert services.group_lamps(group) == [lamp_a, other]
    assert services.group_lamps("urn:ngsi-ld:StreetlightGroup:none") is None


def test_internal_principal_is_trusted_but_acps_still_decide(m2m, settings):
    from alzette.territory.onem2m import cse
    from alzette.territory.onem2m.constants import Operation
    from alzette.territory.onem2m.primitives import Request
    from alzette.territory.onem2m.security import INTERNAL

    settings.ALZETTE_ONEM2M_OPEN = False
    register = Request(op=Operation.CREATE, to="alzette", fr="Cinternal-test", rqi="i1", ty=2,
                       pc={"m2m:ae": {"rn": "internal-test", "api": "Ntest", "rr": False,
                                      "srv": ["3"]}}, principal=INTERNAL)  # fmt: skip
    assert cse.handle(register).rsc == 2001
    anonymous = Request(op=Operation.RETRIEVE, to="alzette/internal-test", fr="Cinternal-test",
                        rqi="i2")  # fmt: skip
    assert cse.handle(anonymous).rsc == 4107
    stranger = Request(op=Operation.CREATE, to="alzette/internal-test", fr="Cother", rqi="i3",
                       ty=3, pc={"m2m:cnt": {"rn": "x"}}, principal=INTERNAL)  # fmt: skip
    assert cse.handle(stranger).rsc == 4103
