"""``alzette simulate lighting``: lamps that take commands through oneM2M.

The fleet (from the context's Streetlights, or generated), the lamps' behaviour
step by step (photocell, commands, faults, failures, cabinets' meters), and, over
HTTP against ``live_server``, the whole loop: the lamp registers request-reachable
with its ACP and subscription, a command the platform sends reaches it through
the CSE's notification, it acknowledges and reports its new state.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from alzette.core import simulators
from alzette.core.simulators import (
    Clock,
    Environment,
    HttpTransport,
    MqttTransport,
    Reading,
    Transport,
)
from alzette.territory.lighting import sun
from alzette.territory.lighting.simulator import LightingSimulator, _value
from tests.conftest import ALL_DATABASES
from tests.test_onem2m_mqtt import BROKER, _broker_up
from tests.test_onem2m_mqtt import cse as cse  # the MQTT binding in a thread (fixture)

LIVE = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)
DB = pytest.mark.django_db(databases=ALL_DATABASES)
LIGHTING = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/"
    "master/context.jsonld"
)
LAMP = "urn:ngsi-ld:Streetlight:"
QUIET = {"ignore_rate": 0.0, "error_rate": 0.0, "failure_rate": 0.0, "faults": 0.0}
#: A winter evening: dark from about 16:00 UTC.
NIGHT = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
NOON = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _registry(settings, monkeypatch):
    settings.ALZETTE_SIMULATORS = [
        "alzette.territory.waste.simulator.WasteSimulator",
        "alzette.territory.lighting.simulator.LightingSimulator",
    ]
    simulators.registry.cache_clear()
    # live_server shares one SQLite connection between its threads: one lane.
    monkeypatch.setattr(simulators.HttpTransport, "CONNECTIONS", 1)
    yield
    simulators.registry.cache_clear()


class Recorder(Transport):
    """Accepts everything, remembers it; devices are "reachable" at a fake URL."""

    name = "recorder"

    def __init__(self) -> None:
        super().__init__(cse_rn="alzette", cse_id="/id-alzette")
        self.sent: list[dict] = []

    def points_of_access(self, device):
        return [f"http://127.0.0.1:9/{device.name}"]

    def requests(self, items):
        self.sent += items
        return [(2001, None)] * len(items)


def _simulator(devices: int | None = 8, **options) -> LightingSimulator:
    return LightingSimulator({**QUIET, **options}, seed=3, devices=devices, env=Environment())


def _entities(*items: dict) -> None:
    from alzette.territory.ngsild import batch, jsonld, ldcontexts
    from alzette.territory.ngsild.entities import Op

    op = Op(tenant="", ctx=jsonld.resolve(LIGHTING, ldcontexts.lookup), actor="system:test")
    result = batch.write(op, list(items), "create")
    assert not result.errors, result.errors


def _lamp(name: str, rating: float, cabinet: str) -> dict:
    return {
        "id": LAMP + name, "type": "Streetlight",
        "location": {"type": "GeoProperty", "value": {"type": "Point",
                                                      "coordinates": [5.95, 49.47]}},
        "status": {"type": "Property", "value": "ok"},
        "powerState": {"type": "Property", "value": "off"},
        "illuminanceLevel": {"type": "Property", "value": 0.0},
        "powerRating": {"type": "Property", "value": rating, "unitCode": "WTT"},
        "refStreetlightControlCabinet": {
            "type": "Relationship", "object": f"urn:ngsi-ld:StreetlightControlCabinet:{cabinet}"},
    }  # fmt: skip


def _cabinet(name: str, energy: float) -> dict:
    return {
        "id": f"urn:ngsi-ld:StreetlightControlCabinet:{name}",
        "type": "StreetlightControlCabinet",
        "location": {"type": "GeoProperty", "value": {"type": "Point",
                                                      "coordinates": [5.95, 49.47]}},
        "energyConsumed": {"type": "Property", "value": energy, "unitCode": "KWH"},
        "workingMode": {"type": "Property", "value": "automatic"},
        "refStreetlightGroup": {"type": "Relationship",
                                "object": ["urn:ngsi-ld:StreetlightGroup:57038-rue"]},
    }  # fmt: skip


def _contents(sent: list[dict], container: str) -> list[tuple[str, dict]]:
    import json

    return [
        (p["to"].split("/")[1], json.loads(p["pc"]["m2m:cin"]["con"]))
        for p in sent
        if p.get("ty") == 4 and p["to"].endswith("/" + container)
    ]


# --- The fleet -----------------------------------------------------------------------


@DB
def test_a_generated_fleet_covers_the_communes():
    transport = Recorder()
    simulator = _simulator(devices=16)
    clock = Clock(start=NIGHT, speed=1e9, tick=timedelta(minutes=1))
    simulators.run(simulator, transport, clock, steps=1)
    lamps = simulator.fleet.lamps
    assert simulator.fleet.source == "generated" and len(lamps) == 16
    assert len({lamp.commune for lamp in lamps}) == 8
    assert all(lamp.id.startswith("streetlight-") for lamp in lamps)
    aes = [p for p in transport.sent if p.get("ty") == 2]
    lamp_aes = [p["pc"]["m2m:ae"] for p in aes if p["fr"].startswith("Cstreetlight-")]
    assert len(lamp_aes) == 16 and all(ae["rr"] and ae["poa"] for ae in lamp_aes)
    cabinets = [p for p in aes if p["fr"].startswith("Ccabinet-")]
    assert cabinets and not any(p["pc"]["m2m:ae"]["rr"] for p in cabinets)
    # Each lamp: an ACP for Clighting, cmd naming it, a subscription to cmd.
    acps = [p for p in transport.sent if p.get("ty") == 1]
    assert len(acps) == 16
    assert acps[0]["pc"]["m2m:acp"]["pv"] == {"acr": [{"acor": ["Clighting"], "acop": 3}]}
    cmds = [p["pc"]["m2m:cnt"] for p in transport.sent
            if p.get("ty") == 3 and p["pc"]["m2m:cnt"]["rn"] == "cmd"]  # fmt: skip
    assert len(cmds) == 16 and all(c["acpi"][0].endswith("/commands-acp") for c in cmds)
    subs = [p for p in transport.sent if p.get("ty") == 23]
    assert len(subs) == 16
    sub = subs[0]
    assert sub["to"].endswith("/cmd") and sub["pc"]["m2m:sub"]["nu"] == [sub["fr"]]
    assert sub["pc"]["m2m:sub"]["enc"] == {"net": [3]}


@DB
def test_the_fleet_comes_from_the_context_when_it_holds_streetlights(territory):
    _entities(
        _cabinet("cabinet-57038-1", 1234.5),
        _lamp("streetlight-57038-001", 40.0, "cabinet-57038-1"),
        _lamp("streetlight-57038-002", 150.0, "cabinet-57038-1"),
    )
    simulator = _simulator(devices=None)
    devices = simulator.setup(NIGHT)
    assert simulator.fleet.source == "context"
    assert {d.name for d in devices} == {
        "streetlight-57038-001", "streetlight-57038-002", "cabinet-57038-1"}  # fmt: skip
    assert [lamp.rating for lamp in simulator.fleet.lamps] == [40.0, 150.0]
    cabinet = simulator.fleet.cabinets["cabinet-57038-1"]
    assert cabinet.base == 1234.5 and len(cabinet.lamps) == 2


# --- Behaviour -----------------------------------------------------------------------


def _ready(start: datetime = NIGHT, **options) -> LightingSimulator:
    simulator = _simulator(**options)
    simulator.setup(start)
    return simulator


@DB
def test_a_command_is_applied_acknowledged_and_reported():
    simulator = _ready()
    lamp = simulator.fleet.lamps[0]
    lamp.rating = 40.0
    answers = simulator.on_command(lamp.id, {"id": "c1", "action": "dim", "level": 0.5,
                                             "t": "2026-12-01T20:00:00Z"}, NIGHT)  # fmt: skip
    ack, state = answers
    assert ack == Reading(lamp.id, "ack", {"id": "c1", "t": "2026-12-01T20:00:00Z",
                                           "result": "ok", "level": 0.5})  # fmt: skip
    assert state.container == "state"
    assert state.content == {"powerState": "low", "illuminanceLevel": 0.5,
                             "powerConsumption": 20.5, "status": "ok",
                             "t": "2026-12-01T20:00:00Z"}  # fmt: skip
    # The level holds through the night, then the photocell switches off at sunrise.
    simulator.step(NIGHT + timedelta(hours=1), True)
    assert lamp.level == 0.5
    morning = sun.sunrise(NIGHT.date() + timedelta(days=1)) + timedelta(minutes=1)
    out = simulator.step(morning, True)
    assert lamp.level == 0.0
    assert any(r.device == lamp.id and r.content["powerState"] == "off" for r in out)
    off = simulator.on_command(lamp.id, {"id": "c2", "action": "off", "level": 0}, morning)
    assert off[0].content["result"] == "ok" and off[1].content["powerConsumption"] == 0.0


@DB
def test_ignoring_erring_failed_and_unpowered_lamps():
    simulator = _ready()
    quiet, erring, failed, dark = simulator.fleet.lamps[:4]
    quiet.behaviour, erring.behaviour = "ignore", "error"
    failed.failed_until = NIGHT + timedelta(days=2)
    command = {"id": "c1", "action": "dim", "level": 0.3}
    assert simulator.on_command(quiet.id, command, NIGHT) == []
    [ack] = simulator.on_command(erring.id, command, NIGHT)
    assert ack.content["result"] == "error" and ack.content["reason"] == "driver fault"
    [ack] = simulator.on_command(failed.id, command, NIGHT)
    assert ack.content["result"] == "error"
    [ack] = simulator.on_command(erring.id, {"id": "c3", "action": "dim", "level": 7}, NIGHT)
    assert ack.content["result"] == "refused"
    assert simulator.on_command("streetlight-00000-999", command, NIGHT) == []
    simulator.fleet.cabinets[dark.cabinet].tripped = True
    assert simulator.on_command(dark.id, command, NIGHT) == []
    out = simulator.step(NIGHT + timedelta(minutes=15), True)
    assert not any(r.device == dark.id for r in out)
    states = {r.device: r.content for r in out if r.container == "state"}
    if failed.id in states:
        assert states[failed.id]["status"] == "defectiveLamp"
        assert states[failed.id]["powerConsumption"] == 0.0
    meters = [r.content for r in out if r.container == "meter"]
    assert any(m.get("fault") == "breaker-tripped" and m["totalActivePower"] == 0 for m in meters)


@DB
def test_rates_choose_behaviours_and_failures_are_repaired():
    simulator = _ready(devices=40, ignore_rate=0.25, error_rate=0.25, failure_rate=1.0)
    kinds = {lamp.behaviour for lamp in simulator.fleet.lamps}
    assert kinds == {"normal", "ignore", "error"}
    simulator.step(NIGHT + timedelta(days=1), True)
    assert all(lamp.failed for lamp in simulator.fleet.lamps)
    simulator.failure_rate = 0.0
    simulator.step(NIGHT + timedelta(days=7), True)
    assert not any(lamp.failed for lamp in simulator.fleet.lamps)


@DB
def test_reports_every_15_minutes_at_night_hourly_by_day_and_meters_add_up():
    def count(start: datetime) -> tuple[int, list[tuple[str, dict]], LightingSimulator]:
        transport = Recorder()
        simulator = _simulator(devices=8)
        clock = Clock(start=start, speed=1e9, tick=timedelta(minutes=1))
        simulators.run(simulator, transport, clock, steps=120)
        return (
            len(_contents(transport.sent, "state")),
            _contents(transport.sent, "meter"),
            simulator,
        )

    night, meters, simulator = count(NIGHT)
    day, _, _ = count(NOON)
    assert night == 8 * 8 and day == 8 * 2
    for name, cabinet in simulator.fleet.cabinets.items():
        readings = [m for device, m in meters if device == name]
        assert len(readings) == 8
        power = sum(lamp.rating + 0.5 for lamp in cabinet.lamps)  # all on, full power
        assert readings[0]["totalActivePower"] == pytest.approx(power / 1000, abs=1e-4)
        # Cumulative: 15 minutes more of every lamp between two readings.
        step = readings[1]["energyConsumed"] - readings[0]["energyConsumed"]
        assert step == pytest.approx(power / 1000 / 4, abs=2e-3)


@DB
def test_a_run_answers_commands_until_its_very_end_at_their_arrival_time():
    """A run shorter than a tick still listens for its whole duration, and a lamp
    answers when the command arrived, not at the last step's simulated time."""
    transport = Recorder()
    simulator = _simulator(devices=8)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    clock = Clock(start=start, speed=1, tick=timedelta(hours=1))
    lamp_name = "streetlight-54521-001"

    def command() -> None:
        time.sleep(0.5)
        transport.inbox.put(simulators.Incoming(lamp_name, {"id": "late", "action": "off"}))

    sender = threading.Thread(target=command)
    sender.start()
    began = time.monotonic()
    stats = simulators.run(simulator, transport, clock, duration=1.5)
    sender.join()
    assert time.monotonic() - began >= 1.4 and stats.steps == 0
    assert stats.received == {"streetlight": 1}
    [(device, ack)] = _contents(transport.sent, "ack")
    assert device == lamp_name and ack["id"] == "late" and ack["result"] == "ok"
    assert datetime.fromisoformat(ack["t"]) >= start + timedelta(minutes=29)


def test_the_command_knows_the_lighting_simulator():
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--listen"):
        call_command("simulate", "lighting", "--listen", "nowhere", "--steps", "1",
                     stdout=StringIO())  # fmt: skip


# --- Over HTTP, against the live server -----------------------------------------------


def _mappings() -> None:
    from alzette.territory.ngsild import mapping

    for attribute, unit in (("illuminanceLevel", ""), ("powerConsumption", "WTT")):
        mapping.define(name=f"test-lighting-{attribute}", container="alzette/streetlight-*/state",
                       entity_type="Streetlight", entity_id=LAMP + "{ae}", attribute=attribute,
                       value_path=attribute, unit_code=unit, context=LIGHTING)  # fmt: skip


def _wait(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@LIVE
def test_a_command_reaches_the_simulated_lamp_which_acknowledges_and_reports(
    live_server, territory, settings
):
    from alzette.territory.lighting.commands import services
    from alzette.territory.onem2m.models import Resource

    settings.ALZETTE_ONEM2M_DELIVERY = "sync"
    transport = HttpTransport(live_server.url, cse_rn="alzette", cse_id="/id-alzette")
    _commanded_over(transport)
    ae = Resource.objects.get(ty=2, rn="streetlight-57038-001")
    assert ae.attrs["rr"] is True
    assert ae.attrs["poa"][0].startswith("http://127.0.0.1:")
    assert ae.attrs["poa"][0].endswith("/streetlight-57038-001")
    acp = Resource.objects.get(ty=1, pi=ae.ri)
    assert acp.attrs["pv"] == {"acr": [{"acor": ["Clighting"], "acop": 3}]}
    assert Resource.objects.get(path="alzette/streetlight-57038-001/cmd").acpi
    sub = Resource.objects.get(ty=23, path__startswith="alzette/streetlight-57038-001/")
    assert sub.attrs["nu"] == ["Cstreetlight-57038-001"]
    state = services.lamp_states()[LAMP + "streetlight-57038-001"]
    assert state.illuminance_level == 0.5 and state.power_consumption == 20.5
    assert state.power_state == "low" and state.status == "ok"


def _commanded_over(transport: Transport) -> None:
    """Register two lamps through ``transport``, send both a command: the first
    acknowledges and reports, the second (ignoring commands) stays silent.

    SQLite's live_server shares one connection between threads, and a read in
    this thread while the server writes locks the table: so this thread waits on
    the transport (what it has sent and had answered), not on the database, and
    the lamp handles the command only once ``send`` has returned."""
    from alzette.territory.lighting.commands import services
    from alzette.territory.lighting.commands.models import Command
    from alzette.territory.ngsild import store

    _entities(
        _cabinet("cabinet-57038-1", 100.0),
        _lamp("streetlight-57038-001", 40.0, "cabinet-57038-1"),
        _lamp("streetlight-57038-002", 60.0, "cabinet-57038-1"),
    )
    _mappings()
    simulator = _simulator(devices=None)
    simulator.step = lambda now, live: []  # no periodic reports here (tested above)
    registered, sent = threading.Event(), threading.Event()
    published: list[tuple[Reading, int]] = []
    register, publish, on_command = transport.register, transport.publish, simulator.on_command

    def registering(devices):
        new = register(devices)
        registered.set()
        return new

    def publishing(readings):
        answers = publish(readings)
        published.extend((r, rsc) for r, (rsc, _) in zip(readings, answers, strict=True))
        return answers

    def commanded(*args):
        sent.wait(10)
        return on_command(*args)

    transport.register, transport.publish = registering, publishing
    simulator.on_command = commanded
    clock = Clock(start=datetime.now(UTC).replace(microsecond=0), speed=1,
                  tick=timedelta(seconds=1))  # fmt: skip
    stop = threading.Event()

    def running() -> None:
        from django.db import connections

        try:
            simulators.run(simulator, transport, clock, stop=stop)
        finally:
            connections.close_all()  # this thread's (PostgreSQL: the test database's teardown)

    runner = threading.Thread(target=running, daemon=True)
    runner.start()
    try:
        assert registered.wait(20)
        simulator.lamps["streetlight-57038-002"].behaviour = "ignore"
        ignored, answered = services.send(
            [LAMP + "streetlight-57038-002", LAMP + "streetlight-57038-001"], 0.5,
            source="agent", actor="system:test",
        )  # fmt: skip
        assert answered.state == ignored.state == "sent"
        sent.set()
        assert _wait(lambda: len(published) >= 2)
        time.sleep(0.5)
        assert [(r.device, r.container, rsc) for r, rsc in published] == [
            ("streetlight-57038-001", "ack", 2001),
            ("streetlight-57038-001", "state", 2001),
        ]
        assert published[0][0].content["id"] == answered.id
        assert Command.objects.get(pk=answered.pk).state == "acknowledged"
        assert Command.objects.get(pk=ignored.pk).state == "sent"
        body = store.get("", LAMP + "streetlight-57038-001").body
        assert _value(body, "powerConsumption") == 20.5
        assert _value(body, "illuminanceLevel") == 0.5
    finally:
        stop.set()
        runner.join(10)
        transport.close()


@LIVE
@pytest.mark.skipif(not _broker_up(), reason="Mosquitto is not running on 127.0.0.1:1883")
def test_commands_reach_lamps_over_mqtt(cse, territory):
    transport = MqttTransport(f"mqtt://{BROKER[0]}:{BROKER[1]}", cse_rn="alzette",
                              cse_id=f"/{cse}")  # fmt: skip
    _commanded_over(transport)


@LIVE
def test_registering_again_updates_the_point_of_access(live_server, territory):
    from alzette.territory.onem2m.models import Resource

    devices = _simulator(devices=2).setup(NIGHT)
    poas = []
    for _ in range(2):
        transport = HttpTransport(live_server.url, cse_rn="alzette", cse_id="/id-alzette")
        try:
            transport.register(devices)
            poas.append(transport.listener.url("streetlight-x"))
        finally:
            transport.close()
    lamp = next(d for d in devices if d.commands)
    ae = Resource.objects.get(ty=2, rn=lamp.name)
    assert poas[0] != poas[1]
    assert ae.attrs["poa"] == [poas[1].replace("streetlight-x", lamp.name)]
    assert Resource.objects.filter(ty=23).count() == 2
    assert Resource.objects.filter(ty=1).count() >= 2
