"""``alzette simulate waste``: devices registered and streaming through oneM2M over
HTTP (against ``live_server``) and MQTT (the real Mosquitto), the waste model's
behaviours step by step, the clock that never runs ahead, options refused clearly.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from alzette.core import simulators
from alzette.core.simulators import ApiCall, Clock, Environment, Reading, Transport
from alzette.territory.onem2m.models import Credential, Resource
from alzette.territory.waste.simulator import WasteSimulator, collection_weekday
from tests.conftest import ALL_DATABASES
from tests.test_onem2m_mqtt import BROKER, _broker_up
from tests.test_onem2m_mqtt import cse as cse  # the MQTT binding in a thread (fixture)

LIVE = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)
PARIS = ZoneInfo("Europe/Paris")
QUIET = ["--no-progress", "--no-centre", "--no-dumping", "--speed", "1000000"]


def _simulate(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("simulate", "waste", *args, stdout=out)
    return out.getvalue()


def _instances(path: str) -> list[dict]:
    container = Resource.objects.get(path=path)
    rows = Resource.objects.filter(pi=container.ri, ty=4).order_by("ct", "st")
    return [json.loads(row.attrs["con"]) for row in rows]


def _aes(prefix: str) -> set[str]:
    return set(Resource.objects.filter(ty=2, rn__startswith=prefix).values_list("rn", flat=True))


class Recorder(Transport):
    """A transport that accepts everything and remembers it."""

    name = "recorder"

    def __init__(self) -> None:
        super().__init__(cse_rn="alzette", cse_id="/id-alzette")
        self.sent: list[dict] = []

    def requests(self, items):
        self.sent += items
        return [(2001, None)] * len(items)


def _run(seed: int, start: datetime, steps: int, devices: int = 4) -> list[dict]:
    transport = Recorder()
    simulator = WasteSimulator({"trucks": 2}, seed=seed, devices=devices, env=Environment())
    clock = Clock(start=start, speed=1e9, tick=timedelta(minutes=1))
    simulators.run(simulator, transport, clock, steps=steps)
    return transport.sent


# --- Over HTTP and MQTT ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def one_connection(monkeypatch):
    """``live_server`` shares one SQLite connection between its threads: requests in
    parallel would interleave their transactions (uvicorn has no such limit)."""
    monkeypatch.setattr(simulators.HttpTransport, "CONNECTIONS", 1)


@LIVE
def test_http_registers_devices_and_updates_their_entities(live_server, territory):
    from alzette.territory.supervision.models import QuarantinedMessage
    from alzette.territory.waste import services
    from alzette.territory.waste.demo import ensure_demo_waste

    ensure_demo_waste()
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    out = _simulate("--url", live_server.url, "--devices", "3", "--steps", "120", "--seed", "7",
                    "--start", start.isoformat(), *QUIET)  # fmt: skip

    bins = _aes("bin-")
    assert len(bins) == 3
    assert _aes("truck-") == {"truck-1", "truck-2"}
    assert len(_aes("pav-")) == 3 and _aes("skip-")
    for name in bins:
        readings = _instances(f"alzette/{name}/fill")
        assert len(readings) >= 2  # hourly over two hours
        now = datetime.now(UTC)
        assert all(0 <= r["level"] <= 1 and datetime.fromisoformat(r["t"]) <= now for r in readings)
        view = services.container(name)
        assert view is not None and view.filling_level == readings[-1]["level"]
        assert Resource.objects.filter(path=f"alzette/{name}/battery", ty=3).exists()
    ae = Resource.objects.get(ty=2, rn=sorted(bins)[0])
    assert ae.ri == f"C{ae.rn}"
    container = Resource.objects.get(path=f"alzette/{ae.rn}/fill")
    assert container.attrs["mni"] == 2500 and container.attrs["mia"] == 90 * 86400
    openings = Resource.objects.get(path=f"alzette/{sorted(_aes('pav-'))[0]}/openings")
    assert openings.attrs["mia"] == 86400  # badges are not kept long
    assert not QuarantinedMessage.objects.filter(device__in=bins).exists()
    assert "contentInstances:" in out and "errors" not in out


@LIVE
def test_http_run_twice_is_idempotent(live_server, territory):
    args = ["--url", live_server.url, "--devices", "2", "--steps", "5", "--seed", "1", *QUIET]
    first = _simulate(*args)
    second = _simulate(*args)
    assert "(0 newly registered)" not in first
    assert "(0 newly registered)" in second and "errors" not in second
    assert len(_aes("bin-")) == 2


@LIVE
def test_closed_cse_gets_a_key_for_the_run_then_revokes_it(live_server, territory, settings):
    settings.ALZETTE_ONEM2M_OPEN = False
    out = _simulate("--url", live_server.url, "--devices", "1", "--steps", "3", *QUIET)
    assert "errors" not in out
    key = Credential.objects.get(name="Simulator (waste)")
    assert key.revoked_at is not None
    assert Resource.objects.get(ty=2, rn__startswith="bin-").attrs.get("_cred") == key.prefix


@LIVE
def test_closed_cse_refuses_a_wrong_key(live_server, territory, settings):
    settings.ALZETTE_ONEM2M_OPEN = False
    with pytest.raises(CommandError, match="--key"):
        _simulate("--url", live_server.url, "--key", "m2m_dead_beef", "--steps", "2", *QUIET)
    assert not _aes("bin-")


@LIVE
def test_unreachable_server_is_fatal():
    with pytest.raises(CommandError, match="unreachable"):
        _simulate("--url", "http://127.0.0.1:9", "--devices", "1", "--steps", "2", *QUIET)


@LIVE
@pytest.mark.skipif(not _broker_up(), reason="Mosquitto is not running on 127.0.0.1:1883")
def test_mqtt_registers_and_streams(cse):
    out = _simulate("--mqtt", f"mqtt://{BROKER[0]}:{BROKER[1]}", "--devices", "2",
                    "--steps", "120", "--seed", "3", *QUIET)  # fmt: skip
    assert "over mqtt" in out and "errors" not in out
    bins = _aes("bin-")
    assert len(bins) == 2
    for name in bins:
        assert len(_instances(f"alzette/{name}/fill")) >= 2
        assert Resource.objects.get(ty=2, rn=name).attrs.get("aei") in (f"C{name}", None)


@LIVE
def test_mqtt_without_the_binding_fails_clearly(settings):
    settings.ALZETTE_ONEM2M_CSI = f"/id-nobody-{uuid.uuid4().hex[:6]}"
    if not _broker_up():
        pytest.skip("Mosquitto is not running")
    simulators.MqttTransport.TIMEOUT, old = 1.0, simulators.MqttTransport.TIMEOUT
    try:
        with pytest.raises(CommandError, match="unanswered"):
            _simulate("--mqtt", "mqtt://127.0.0.1:1883", "--devices", "1", "--steps", "1", *QUIET)
    finally:
        simulators.MqttTransport.TIMEOUT = old


# --- Options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0"], "--speed"),
        (["--speed", "-3"], "--speed"),
        (["--tick", "0"], "--tick"),
        (["--steps", "0"], "--steps"),
        (["--devices", "0"], "--devices"),
        (["--duration", "0"], "--duration"),
        (["--history", "-1"], "--history"),
        (["--start", "yesterday"], "ISO 8601"),
        (["--start", "2999-01-01T00:00:00Z"], "future"),
        (["--url", "ftp://example.org"], "--url"),
        (["--mqtt", "http://127.0.0.1:1883"], "--mqtt"),
        (["--steps", "3", "--duration", "5"], "not allowed with"),
        (["--speed", "fast"], "invalid float"),
    ],
)
def test_bad_options_are_refused_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        _simulate(*args)


def test_unknown_simulator_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("simulate", "lighting-nope")


def test_registry_rejects_what_is_not_a_simulator(settings):
    simulators.registry.cache_clear()
    settings.ALZETTE_SIMULATORS = ["alzette.core.simulators.Clock"]
    try:
        with pytest.raises(TypeError, match="not a Simulator"):
            simulators.registry()
    finally:
        simulators.registry.cache_clear()
    del settings.ALZETTE_SIMULATORS
    assert simulators.registry()["waste"] is WasteSimulator


# --- The clock -------------------------------------------------------------------------


def test_an_accelerated_run_meets_the_real_clock_when_it_ends():
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    span = timedelta(hours=10)
    start = Clock.start_for(now, 60, span, timedelta(hours=24))
    assert start == now - span * (1 - 1 / 60)
    # The run lasts span / speed real seconds: it ends at the real time it simulates.
    assert start + span == now + span / 60
    assert Clock.start_for(now, 1, span, timedelta(hours=24)) == now
    assert Clock.start_for(now, 60, None, timedelta(hours=24)) == now - timedelta(hours=24)


def test_no_step_is_due_before_the_real_clock_reaches_it():
    wall = datetime(2026, 12, 4, 12, tzinfo=UTC)
    clock = Clock(start=wall - timedelta(minutes=10), speed=600, tick=timedelta(minutes=1),
                  wall_start=wall, mono_start=1000.0)  # fmt: skip
    for k in range(1, 40):
        due = clock.due(k)
        assert due >= 1000.0 + k * 60 / 600  # never faster than the speed
        assert wall + timedelta(seconds=due - 1000.0) >= clock.at(k)  # never ahead of time
    assert clock.due(30) == 1000.0 + 20 * 60  # past the catch-up: real time


# --- The waste model -------------------------------------------------------------------


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_same_seed_gives_the_same_run():
    start = datetime(2026, 11, 30, 5, tzinfo=UTC)
    first = _run(5, start, 300)
    again = _run(5, start, 300)
    other = _run(6, start, 300)
    strip = [[(p["to"], p.get("pc")) for p in run] for run in (first, again, other)]
    assert strip[0] == strip[1]
    assert strip[0] != strip[2]


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_contents_follow_the_conventions_and_never_run_ahead():
    start = datetime(2026, 11, 30, 5, tzinfo=UTC)
    sent = _run(2, start, 24 * 60, devices=8)
    end = start + timedelta(days=1)
    kinds: dict[str, int] = {}
    for primitive in sent:
        if primitive.get("ty") != 4:
            continue
        device, container = primitive["to"].split("/")[1:]
        content = json.loads(primitive["pc"]["m2m:cin"]["con"])
        assert primitive["fr"] == f"C{device}"
        kinds[container] = kinds.get(container, 0) + 1
        if "t" in content:
            assert start <= datetime.fromisoformat(content["t"]) <= end
        if container == "fill":
            assert 0 <= content["level"] <= 1
        if container == "openings":
            assert device.startswith("pav-") and content["badge"]
        if container == "lifts":
            assert device.startswith("truck-") and content["weight"] > 0 and content["tag"]
    assert kinds["fill"] >= 8 * 24 and kinds["battery"] >= 8 and kinds["openings"] > 0


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_bins_are_lifted_on_their_communes_collection_morning():
    simulator = WasteSimulator({"trucks": 2}, seed=1, devices=8, env=Environment())
    # A Thursday: 57038 and 57603 are collected (INSEE code modulo 5 == 3).
    day = datetime(2026, 12, 3, 5, tzinfo=PARIS).astimezone(UTC)
    simulator.setup(day)
    for b in simulator.fleet.bins:
        b.level = 0.8
    collected = {b.rfid: b for b in simulator.fleet.bins if collection_weekday(b.commune) == 3}
    assert collected
    lifts, fills = [], {}
    now = day
    for _ in range(8 * 60):
        now += timedelta(minutes=1)
        for message in simulator.step(now, live=False):
            if isinstance(message, Reading) and message.container == "lifts":
                lifts.append(message.content)
            elif isinstance(message, Reading) and message.container == "fill":
                fills[message.device] = message.content["level"]
    assert {lift["tag"] for lift in lifts} == set(collected)
    for lift in lifts:
        hour = datetime.fromisoformat(lift["t"]).astimezone(PARIS).hour
        assert 6 <= hour < 12
        assert 5 < lift["weight"] < 200
    for b in collected.values():
        assert fills[b.id] < 0.1  # emptied, and the bin's sensor says so
    others = [b for b in simulator.fleet.bins if b.rfid not in collected]
    assert all(fills[b.id] > 0.7 for b in others)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_bins_fill_more_after_the_weekend():
    def filled(day: datetime) -> float:
        simulator = WasteSimulator({"trucks": 1}, seed=4, devices=16, env=Environment())
        simulator.setup(day)
        for b in simulator.fleet.bins:
            b.level, b.daily = 0.0, 1.0
        simulator._plan_day = lambda _day: None  # no lifts, no daily noise
        simulator.day = day.astimezone(PARIS).date()
        now = day
        for _ in range(24):
            now += timedelta(hours=1)
            simulator.step(now, live=False)
        return sum(b.level for b in simulator.fleet.bins)

    monday = filled(datetime(2026, 11, 30, 0, tzinfo=PARIS))
    wednesday = filled(datetime(2026, 12, 2, 0, tzinfo=PARIS))
    assert monday > wednesday * 1.2


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_centre_visits_call_the_gate_only_when_live():
    env = Environment(gate_key=lambda centre: "alzg_test")
    simulator = WasteSimulator({"trucks": 1}, seed=2, devices=4, env=env)
    saturday = datetime(2026, 12, 5, 9, 30, tzinfo=PARIS).astimezone(UTC)
    simulator.setup(saturday)
    past = [m for k in range(1, 30)
            for m in simulator.step(saturday + timedelta(minutes=k), live=False)]  # fmt: skip
    assert not [m for m in past if isinstance(m, ApiCall)]
    calls = [m for k in range(30, 90)
             for m in simulator.step(saturday + timedelta(minutes=k), live=True)
             if isinstance(m, ApiCall)]  # fmt: skip
    assert calls and all(c.headers["X-Gate-Key"] == "alzg_test" for c in calls)
    access = calls[0]
    assert access.path == "/api/v1/waste/centres/audun/access"
    assert ("badge" in access.body) != ("plate" in access.body)
    access.on_response(200, {"allowed": True, "reason": "allowed", "remaining": 3})
    later = saturday + timedelta(hours=2)
    exits = [m for m in simulator.step(later, live=True)
             if isinstance(m, ApiCall) and m.path.endswith("/exit")]  # fmt: skip
    assert exits


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_without_a_gate_key_visits_are_skipped_with_a_note():
    env = Environment()
    simulator = WasteSimulator({"trucks": 1}, seed=2, devices=2, env=env)
    simulator.setup(datetime(2026, 12, 5, 8, tzinfo=UTC))
    assert any("gate key" in note for note in env.notes)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_ctrl_c_ends_the_run_with_its_summary():
    stop = threading.Event()
    transport = Recorder()

    class Once(WasteSimulator):
        def step(self, now, live):
            stop.set()  # as Ctrl+C would, during the first step
            return super().step(now, live)

    simulator = Once({"trucks": 1, "no_centre": True, "no_dumping": True}, seed=1, devices=1)
    clock = Clock(start=datetime(2026, 12, 1, tzinfo=UTC), speed=1e9, tick=timedelta(minutes=1))
    stats = simulators.run(simulator, transport, clock, steps=1000, stop=stop)
    assert stats.steps == 1 and stats.devices > 0


def test_progress_is_one_updating_line_on_a_terminal_and_plain_lines_otherwise():
    from io import StringIO

    from alzette.core.simulators import Progress, Stats

    stats = Stats()
    stats.sent["fill"] = 12
    stats.errors["rsc 4000"] = 1
    now = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    terminal, log = StringIO(), StringIO()
    for out, tty in ((terminal, True), (log, False)):
        progress = Progress(out, tty=tty)
        progress.show(stats, now, live=False, force=True)
        progress.show(stats, now, live=True, force=True)
        progress.done()
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().count("\n") == 1
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue()
    assert "2026-12-04 10:30 UTC" in lines[0] and "12 sent" in lines[0] and "1 errors" in lines[0]
    assert "catching up" in lines[0] and "live" in lines[1]


def test_demo_starts_the_simulators_beside_the_server(monkeypatch):
    from alzette.core.management.commands import demo
    from alzette.core.management.commands.simulate import Command

    started = []
    monkeypatch.setattr(demo, "_start_child", lambda *command: started.append(command))
    demo._start_simulators("0.0.0.0", 8000)
    assert [command[1] for command in started] == ["waste", "lighting", "water"]
    for command in started:
        assert command[0] == "simulate" and command[2:4] == ("--url", "http://127.0.0.1:8000")
        options = Command().create_parser("alzette", "simulate").parse_args(list(command[1:]))
        assert options.speed > 1 and options.wait > 0 and options.no_progress
