"""``alzette simulate water``: the fleet (from the context's districts and meters, or
generated), the households' daily profiles, household leaks and burst mains, the
impossible messages that exercise quarantine, and a short run over HTTP against
``live_server`` whose readings reach the CSE and the water app.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from alzette.core import simulators
from alzette.core.simulators import Clock, Environment, Reading, Transport
from alzette.territory.water.simulator import (
    WEEKDAY_HOURS,
    WEEKEND_HOURS,
    WaterSimulator,
)
from tests.conftest import ALL_DATABASES

LIVE = pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)
DB = pytest.mark.django_db(databases=ALL_DATABASES)
PARIS = ZoneInfo("Europe/Paris")
QUIET = {"leaks": 0.0, "network_leaks": 0.0, "faults": 0.0}
#: A winter Monday, midnight in Paris: no garden watering, few holidays.
WINTER = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _registry(settings, monkeypatch):
    settings.ALZETTE_SIMULATORS = [
        "alzette.territory.waste.simulator.WasteSimulator",
        "alzette.territory.water.simulator.WaterSimulator",
    ]
    simulators.registry.cache_clear()
    # live_server shares one SQLite connection between its threads: one lane.
    monkeypatch.setattr(simulators.HttpTransport, "CONNECTIONS", 1)
    yield
    simulators.registry.cache_clear()


class Recorder(Transport):
    name = "recorder"

    def __init__(self) -> None:
        super().__init__(cse_rn="alzette", cse_id="/id-alzette")
        self.sent: list[dict] = []

    def requests(self, items):
        self.sent += items
        return [(2001, None)] * len(items)


def _simulator(devices: int | None = 20, seed: int = 3, **options) -> WaterSimulator:
    return WaterSimulator({**QUIET, **options}, seed=seed, devices=devices, env=Environment())


def _steps(sim: WaterSimulator, start: datetime, hours: float, tick: int = 5) -> list[Reading]:
    out: list[Reading] = []
    for k in range(1, int(hours * 60 / tick) + 1):
        out += sim.step(start + timedelta(minutes=tick * k), False)
    return out


def _series(readings: list[Reading], device: str) -> list[dict]:
    return [r.content for r in readings if r.device == device]


def _t(content: dict) -> datetime:
    return datetime.fromisoformat(content["t"].replace("Z", "+00:00"))


def _simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", "water", *args, stdout=out)
    return out.getvalue()


# --- The fleet ---------------------------------------------------------------------------


@DB
def test_a_generated_fleet_covers_the_communes_with_their_districts():
    sim = _simulator(devices=25)
    devices = sim.setup(WINTER)
    assert sim.fleet.source == "generated"
    districts = sim.fleet.districts
    assert len({d.commune for d in districts.values()}) == 8
    assert set(districts) >= {"57038-1", "57038-2", "54580-1", "54580-2", "57041-1"}
    assert all(1 <= sum(s.startswith(d.commune) for s in districts) <= 2
               for d in districts.values())  # fmt: skip
    names = {d.name: d for d in devices}
    meters = sorted(n for n in names if n.startswith("hmeter-"))
    assert len(meters) == 25 and meters[0] == "hmeter-W26-000001"
    for slug in districts:
        for kind in ("dmeter", "pressure", "quality"):
            assert f"{kind}-{slug}" in names
    index = names["hmeter-W26-000001"].containers[0]
    assert (index.name, index.mia) == ("index", 86400)  # a near-personal index is kept a day
    assert [c.name for c in names["dmeter-57038-1"].containers] == ["flow"]
    assert names["dmeter-57038-1"].originator == "Cdmeter-57038-1"
    assert all(1 <= h.persons <= 5 and 120 <= h.litres_pp <= 150
               for h in sim.fleet.households)  # fmt: skip
    # Every household belongs to a district of its commune.
    assert all(h.district.startswith(h.commune) for h in sim.fleet.households)


@DB
def test_the_fleet_comes_from_the_context_when_it_holds_the_demo_network(territory):
    from alzette.territory.water.demo import ensure_demo_water
    from alzette.territory.water.models import District, Meter

    ensure_demo_water()
    last = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)
    Meter.objects.filter(serial="W26-000001").update(last_index=123_456, last_at=last)
    sim = _simulator(devices=None)
    devices = sim.setup(WINTER)
    assert sim.fleet.source == "context"
    assert set(sim.fleet.districts) == set(District.objects.values_list("slug", flat=True))
    assert len(sim.fleet.households) == Meter.objects.count()
    for h in sim.fleet.households:
        meter = Meter.objects.select_related("district").get(serial=h.serial)
        assert h.district == meter.district.slug and h.commune == meter.commune
    assert {d.name for d in devices} >= {"dmeter-57038-2", "pressure-57038-2", "quality-57038-2"}

    # A meter the platform has read goes on from its last index, after its last reading.
    readings = _steps(sim, WINTER, 12)
    first = _series(readings, "hmeter-W26-000001")
    assert first and all(_t(c) > last for c in first)
    assert 123_456 <= first[0]["index"] < 123_456 + 1000

    # Fewer devices: the district's other meters still draw (a mean household).
    small = _simulator(devices=10)
    small.setup(WINTER)
    assert len(small.fleet.households) == 10
    assert sum(d.others for d in small.fleet.districts.values()) == Meter.objects.count() - 10
    assert len({h.district for h in small.fleet.households}) == 10  # spread over districts


# --- Behaviour ---------------------------------------------------------------------------


@DB
def test_households_draw_120_to_150_litres_a_person_a_day_with_morning_and_evening_peaks():
    sim = _simulator(devices=40)
    sim.setup(WINTER)
    days = 14
    readings = _steps(sim, WINTER, 24 * days, tick=15)
    per_person, by_hour = [], defaultdict(lambda: [0.0, 0])
    for h in sim.fleet.households:
        series = _series(readings, h.device)
        assert len(series) >= 24 * days - 1  # hourly
        indexes = [c["index"] for c in series]
        assert indexes == sorted(indexes)
        daily: dict = defaultdict(int)
        for before, after in pairwise(series):
            used = after["index"] - before["index"]
            local = (_t(after) - timedelta(minutes=30)).astimezone(PARIS)
            daily[local.date()] += used
            if local.weekday() < 5:
                by_hour[local.hour][0] += used
                by_hour[local.hour][1] += 1
        for day, litres in list(daily.items())[1:-1]:  # whole days only
            if not sim.away(h, day):
                per_person.append(litres / h.persons)
    mean = sum(per_person) / len(per_person)
    assert 115 <= mean <= 155, mean
    hourly = {hour: total / count for hour, (total, count) in by_hour.items()}
    night = sum(hourly[x] for x in (1, 2, 3, 4)) / 4
    morning = max(hourly[x] for x in (6, 7, 8))
    evening = max(hourly[x] for x in (18, 19, 20, 21))
    midafternoon = hourly[15]
    assert morning > 4 * night and evening > 4 * night
    assert morning > 1.5 * midafternoon and evening > 1.5 * midafternoon
    # Many night hours without any draw: nobody uses water every hour.
    assert night < 15
    # Weekends: the morning peak comes later.
    assert WEEKEND_HOURS.index(max(WEEKEND_HOURS[:12])) > WEEKDAY_HOURS.index(
        max(WEEKDAY_HOURS[:12])
    )


@DB
def test_holidays_mean_no_use_and_summer_evenings_bring_garden_watering():
    sim = _simulator(devices=60)
    sim.setup(datetime(2026, 6, 1, tzinfo=UTC))
    h = next(h for h in sim.fleet.households
             if any(sim.away(h, datetime(2026, 7, 1).date() + timedelta(days=n))
                    for n in range(60)))  # fmt: skip
    away = next(datetime(2026, 7, 1).date() + timedelta(days=n) for n in range(60)
                if sim.away(h, datetime(2026, 7, 1).date() + timedelta(days=n)))  # fmt: skip
    assert sim.day_litres(h, away) == 0
    start = datetime(away.year, away.month, away.day, 6, tzinfo=PARIS).astimezone(UTC)
    assert sim.household_use(h, start, start + timedelta(hours=12)) == 0

    gardens = [g for g in sim.fleet.households if g.garden and g.persons <= 2]
    july = datetime(2026, 7, 6, 17, tzinfo=UTC)  # 19:00 in Paris
    big = 0
    for g in gardens:
        for day in range(20):
            evening = july + timedelta(days=day)
            if not sim.away(g, evening.astimezone(PARIS).date()):
                hour_use = max(sim.household_use(g, evening + timedelta(hours=n),
                                                 evening + timedelta(hours=n + 1))
                               for n in range(3))  # fmt: skip
                big += hour_use >= 150
    assert big >= len(gardens)  # watering (150-500 L) on many summer evenings


@DB
def test_a_leaking_meter_shows_at_least_the_leak_every_hour():
    sim = _simulator(devices=8, leak=["W26-000002"])
    sim.setup(WINTER)
    h = next(h for h in sim.fleet.households if h.serial == "W26-000002")
    assert h.leak is not None and 5 <= h.leak.rate <= 40 and h.leak.end is None
    series = _series(_steps(sim, WINTER, 72), h.device)
    used = [b["index"] - a["index"] for a, b in pairwise(series)]
    assert len(used) >= 70
    assert all(u >= int(h.leak.rate) for u in used), (h.leak.rate, min(used))
    # Without the leak, the same meter has hours without use.
    dry = _simulator(devices=8)
    dry.setup(WINTER)
    series = _series(_steps(dry, WINTER, 72), h.device)
    assert any(b["index"] == a["index"] for a, b in pairwise(series))


@DB
def test_leaks_touch_the_given_share_of_meters_start_at_random_and_some_are_fixed():
    sim = _simulator(devices=400, leaks=0.2)
    sim.setup(WINTER)
    leaking = [h.leak for h in sim.fleet.households if h.leak]
    assert 0.14 <= len(leaking) / 400 <= 0.26
    assert min(lk.start for lk in leaking) < WINTER < max(lk.start for lk in leaking)
    assert any(lk.end is None for lk in leaking) and any(lk.end for lk in leaking)
    assert all(lk.end is None or lk.end - lk.start >= timedelta(days=1) for lk in leaking)


def _night_minimum(readings: list[Reading], slug: str) -> float:
    flows = [(c["flow"], _t(c).astimezone(PARIS)) for c in _series(readings, f"dmeter-{slug}")]
    return min(f for f, t in flows if 2 <= t.hour < 4)


def _balance(sim: WaterSimulator, readings: list[Reading], slug: str) -> float:
    """A day's loss share: inflow against what the district's meters counted and the
    uses without a meter (what the detector computes)."""
    inflow = _series(readings, f"dmeter-{slug}")
    day = [c for c in inflow if _t(c).astimezone(PARIS).date() == WINTER.date() + timedelta(1)]
    inflow_m3 = day[-1]["index"] - day[0]["index"]
    metered = 0
    for h in sim.fleet.districts[slug].households:
        series = [c for c in _series(readings, h.device) if day[0]["t"] < c["t"] <= day[-1]["t"]]
        metered += series[-1]["index"] - series[0]["index"]
    estimated = metered / 1000 + sim.unmetered / 1000
    return (inflow_m3 - estimated) / inflow_m3


@DB
def test_a_burst_main_raises_the_districts_night_minimum_and_its_balance():
    calm = _simulator(devices=60)
    calm.setup(WINTER)
    calm_readings = _steps(calm, WINTER, 50)
    burst = _simulator(devices=60, network_leak=["57038-1"])
    burst.setup(WINTER)
    burst_readings = _steps(burst, WINTER, 50)

    quiet = _night_minimum(calm_readings, "57038-1")
    assert quiet < 200  # little is drawn at night: the network's own leakage
    assert _night_minimum(burst_readings, "57038-1") > quiet + 2000 > 1500  # default threshold
    assert _night_minimum(burst_readings, "57041-1") == _night_minimum(calm_readings, "57041-1")
    assert _balance(calm, calm_readings, "57038-1") < 0.25
    assert _balance(burst, burst_readings, "57038-1") > 0.5
    # The pressure drops where the main burst.
    bars = [c["bar"] for c in _series(burst_readings, "pressure-57038-1")]
    calm_bars = [c["bar"] for c in _series(calm_readings, "pressure-57038-1")]
    assert sum(bars) / len(bars) < sum(calm_bars) / len(calm_bars) - 0.3


@DB
def test_random_bursts_follow_their_probability():
    sim = _simulator(devices=10, network_leaks=1.0)
    sim.setup(WINTER)
    assert all(d.bursts for d in sim.fleet.districts.values())
    none = _simulator(devices=10, network_leaks=0.0)
    none.setup(WINTER)
    assert not any(d.bursts for d in none.fleet.districts.values())


@DB
def test_pressure_rises_at_night_and_quality_looks_like_french_tap_water():
    sim = _simulator(devices=20)
    sim.setup(WINTER)
    readings = _steps(sim, WINTER, 48)
    by_hour = defaultdict(list)
    for r in readings:
        if r.container == "pressure":
            by_hour[_t(r.content).astimezone(PARIS).hour].append(r.content["bar"])
    assert all(2.5 <= bar <= 5.5 for bars in by_hour.values() for bar in bars)
    night = sum(by_hour[3]) / len(by_hour[3])
    peak = sum(by_hour[7]) / len(by_hour[7])
    assert night > peak + 0.3
    quality = [r.content for r in readings if r.container == "quality"]
    assert len(quality) >= 10 * 47
    for c in quality:
        assert 6.8 <= c["pH"] <= 8.4 and 200 <= c["conductivity"] <= 1000
        assert 3 <= c["temperature"] <= 20 and 0.05 <= c["freeChlorine"] <= 0.5
        assert 0 <= c["turbidity"] <= 6
    # Spikes of turbidity are rare.
    spikes = sum(c["turbidity"] > 1 for c in quality)
    assert spikes <= len(quality) * 0.03
    flows = [r.content for r in readings if r.container == "flow"]
    assert len(flows) >= 10 * 4 * 47 and all(c["flow"] >= 0 for c in flows)


@DB
def test_faults_produce_impossible_messages_at_the_given_share():
    sim = _simulator(devices=30, faults=0.1)
    sim.setup(WINTER)
    readings = _steps(sim, WINTER, 24)
    last_index: dict[str, int] = {}
    impossible = defaultdict(int)
    for r in readings:
        c = r.content
        if r.container == "index":
            bad = c["index"] < last_index.get(r.device, 0)
            if not bad:
                last_index[r.device] = c["index"]
        elif r.container == "flow":
            bad = c["flow"] < 0
        elif r.container == "pressure":
            bad = not 0 <= c["bar"] <= 16
        else:
            bad = not 0 <= c["pH"] <= 14
        impossible[r.container] += bad
    share = sum(impossible.values()) / len(readings)
    assert 0.07 <= share <= 0.13, share
    assert all(impossible[k] for k in ("index", "flow", "pressure", "quality"))
    clean = _simulator(devices=30)
    clean.setup(WINTER)
    for r in _steps(clean, WINTER, 24):
        c = r.content
        assert c.get("flow", 0) >= 0 and 0 <= c.get("bar", 1) <= 16 and c.get("pH", 7) <= 14


@DB
def test_the_same_seed_gives_the_same_run_and_contents_never_run_ahead():
    def run(seed: int) -> list:
        transport = Recorder()
        sim = WaterSimulator({**QUIET, "leaks": 0.2}, seed=seed, devices=6, env=Environment())
        clock = Clock(start=WINTER, speed=1e9, tick=timedelta(minutes=1))
        simulators.run(sim, transport, clock, steps=180)
        return [(p["to"], p.get("pc")) for p in transport.sent]

    first, again, other = run(5), run(5), run(6)
    assert first == again and first != other
    for _to, pc in first:
        if pc and "m2m:cin" in pc:
            content = json.loads(pc["m2m:cin"]["con"])
            assert _t(content) <= WINTER + timedelta(minutes=180)


@DB
def test_impossible_options_are_refused_before_anything_is_sent():
    for options, message in (
        ({"leaks": 1.5}, "--leaks"),
        ({"faults": -0.1}, "--faults"),
        ({"network_leaks": 2}, "--network-leaks"),
        ({"network_leak": ["99999-9"]}, "no district"),
        ({"leak": ["W99-000001"]}, "no simulated household meter"),
    ):
        with pytest.raises(CommandError, match=message):
            _simulator(**options).setup(WINTER)
    with pytest.raises(CommandError, match="--network-leak"):
        _simulate("--network-leak", "99999-9", "--steps", "1", "--no-progress",
                  "--url", "http://127.0.0.1:9")  # fmt: skip


def test_the_command_knows_the_water_simulator():
    assert simulators.registry()["water"] is WaterSimulator
    with pytest.raises(CommandError, match="invalid float"):
        _simulate("--leaks", "many")


# --- Over HTTP ---------------------------------------------------------------------------


def _instances(path: str) -> list[dict]:
    from alzette.territory.onem2m.models import Resource

    container = Resource.objects.get(path=path)
    rows = Resource.objects.filter(pi=container.ri, ty=4).order_by("ct", "st")
    return [json.loads(row.attrs["con"]) for row in rows]


def _aes(prefix: str) -> set[str]:
    from alzette.territory.onem2m.models import Resource

    return set(Resource.objects.filter(ty=2, rn__startswith=prefix).values_list("rn", flat=True))


@LIVE
def test_http_registers_the_network_and_its_readings_reach_the_water_app(live_server, territory):
    from alzette.territory.onem2m.models import Resource
    from alzette.territory.supervision.models import QuarantinedMessage
    from alzette.territory.water import services
    from alzette.territory.water.demo import ensure_demo_water
    from alzette.territory.water.models import Meter

    ensure_demo_water()
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    out = _simulate("--url", live_server.url, "--devices", "3", "--steps", "120", "--seed", "7",
                    "--start", start.isoformat(), "--speed", "1000000", "--no-progress",
                    "--leaks", "0", "--network-leaks", "0")  # fmt: skip
    assert "contentInstances:" in out and "errors" not in out

    meters = _aes("hmeter-")
    assert len(meters) == 3
    slugs = {d for d in services.District.objects.values_list("slug", flat=True)}
    assert _aes("dmeter-") == {f"dmeter-{s}" for s in slugs}
    assert _aes("pressure-") == {f"pressure-{s}" for s in slugs}
    assert _aes("quality-") == {f"quality-{s}" for s in slugs}
    now = start + timedelta(hours=2)
    for name in meters:
        readings = _instances(f"alzette/{name}/index")
        assert len(readings) == 2  # hourly over two hours
        assert readings[0]["index"] <= readings[1]["index"]
        assert all(_t(r) <= now for r in readings)
        meter = Meter.objects.get(serial=name.removeprefix("hmeter-"))
        assert meter.last_index == readings[-1]["index"]
        container = Resource.objects.get(path=f"alzette/{name}/index")
        assert container.attrs["mia"] == 86400
    flows = _instances("alzette/dmeter-57038-1/flow")
    assert 7 <= len(flows) <= 8  # every 15 minutes
    figures = services.figures(services.District.objects.get(slug="57038-1"))
    assert figures.flow == flows[-1]["flow"] and figures.index_m3 == flows[-1]["index"]
    assert figures.pressure == _instances("alzette/pressure-57038-1/pressure")[-1]["bar"]
    assert figures.quality["pH"] == _instances("alzette/quality-57038-1/quality")[-1]["pH"]
    assert not QuarantinedMessage.objects.exists()

    # Impossible messages are sent, and quarantined by the platform.
    later = now + timedelta(minutes=5)  # after what the platform knows
    _simulate("--url", live_server.url, "--devices", "3", "--steps", "40", "--seed", "8",
              "--start", later.isoformat(), "--speed", "1000000", "--no-progress",
              "--faults", "1", "--leaks", "0", "--network-leaks", "0")  # fmt: skip
    kept = set(QuarantinedMessage.objects.values_list("device", flat=True))
    assert any(k.startswith("dmeter-") for k in kept)
    assert any(k.startswith("pressure-") for k in kept)
    assert any(k.startswith("quality-") for k in kept)
    assert {k for k in kept if k.startswith("hmeter-")} <= meters
