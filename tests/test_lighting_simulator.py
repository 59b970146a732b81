"""``alzette simulate lighting``: a tripped cabinet is reset by a technician after a
delay (``--repair-hours``) or as soon as its repair is closed in the platform, and
says so in its next meter report; a failed lamp whose repair is closed lights again;
a lamp dimmed to half power or less reports ``powerState`` ``low``, which the
platform's receivers take. Fixed winter nights: nothing depends on the time of day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from statistics import mean

import pytest

from alzette.territory.lighting.simulator import LOW_LEVEL, LightingSimulator
from tests.conftest import ALL_DATABASES
from tests.test_simulate_lighting import NIGHT, QUIET, _cabinet, _entities, _lamp

DB = pytest.mark.django_db(databases=ALL_DATABASES)
#: A winter night a year back, for reports that go through the platform's receivers.
PAST_NIGHT = datetime(2025, 12, 1, 20, 0, tzinfo=UTC)


def _simulator(devices: int | None = 24, **options) -> LightingSimulator:
    from alzette.core.simulators import Environment

    return LightingSimulator({**QUIET, **options}, seed=5, devices=devices, env=Environment())


def _by(out: list, device: str, container: str) -> list[dict]:
    return [r.content for r in out if r.device == device and r.container == container]


# --- Tripped cabinets ------------------------------------------------------------------------


@DB
def test_tripped_cabinets_get_a_seeded_gamma_distributed_reset_delay():
    simulator = _simulator(devices=400, faults=1.0, repair_hours=6.0)
    simulator.setup(NIGHT)
    cabinets = list(simulator.fleet.cabinets.values())
    assert len(cabinets) >= 30
    assert all(c.tripped and c.tripped_at == NIGHT and c.reset_at for c in cabinets)
    delays = [(c.reset_at - NIGHT).total_seconds() / 3600 for c in cabinets]
    assert all(delay > 0 for delay in delays)
    assert 6.0 * 0.6 < mean(delays) < 6.0 * 1.4
    assert len(set(delays)) > len(delays) // 2  # drawn, not one fixed delay
    again = _simulator(devices=400, faults=1.0, repair_hours=6.0)
    again.setup(NIGHT)
    assert [c.reset_at for c in again.fleet.cabinets.values()] == [c.reset_at for c in cabinets]


@DB
def test_a_reset_cabinet_reports_its_fault_cleared_and_its_lamps_light_again():
    simulator = _simulator(faults=1.0)
    simulator.setup(NIGHT)
    cabinet = next(iter(simulator.fleet.cabinets.values()))
    cabinet.reset_at = NIGHT + timedelta(hours=2)
    lamp, names = cabinet.lamps[0], {lp.id for lp in cabinet.lamps}
    command = {"id": "c1", "action": "dim", "level": 0.4}

    out = simulator.step(NIGHT + timedelta(minutes=90), True)
    [*_, meter] = _by(out, cabinet.id, "meter")
    assert meter["fault"] == "breaker-tripped" and meter["totalActivePower"] == 0
    assert not any(r.device in names for r in out)
    assert simulator.on_command(lamp.id, command, NIGHT + timedelta(minutes=90)) == []

    at = NIGHT + timedelta(hours=2, minutes=1)
    out = simulator.step(at, True)
    [meter] = _by(out, cabinet.id, "meter")  # at once, and once
    assert "fault" not in meter and meter["totalActivePower"] > 0
    states = [(i, r.content) for i, r in enumerate(out)
              if r.container == "state" and r.device in names]  # fmt: skip
    assert len(states) == len(cabinet.lamps)
    assert all(s["powerState"] == "on" and s["powerConsumption"] > 0 for _, s in states)
    meter_index = next(i for i, r in enumerate(out) if r.device == cabinet.id)
    assert meter_index < min(i for i, _ in states)  # the cabinet first, then its lamps
    assert not cabinet.tripped and cabinet.reset_at is None
    ack, state = simulator.on_command(lamp.id, command, at)
    assert ack.content["result"] == "ok" and state.content["powerState"] == "low"


@DB
def test_repair_hours_zero_leaves_the_breaker_tripped_all_run():
    simulator = _simulator(faults=1.0, repair_hours=0)
    simulator.setup(NIGHT)
    assert all(c.tripped and c.reset_at is None for c in simulator.fleet.cabinets.values())
    out = simulator.step(NIGHT + timedelta(days=3), True)
    assert all(c.tripped for c in simulator.fleet.cabinets.values())
    assert not [r for r in out if r.container == "state"]
    meters = [r.content for r in out if r.container == "meter"]
    assert meters and all(m["fault"] == "breaker-tripped" for m in meters)


def test_repair_hours_must_be_zero_or_more():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="repair-hours"):
        call_command("simulate", "lighting", "--repair-hours", "-2", "--steps", "1",
                     stdout=StringIO())  # fmt: skip


# --- Repairs closed in the platform ----------------------------------------------------------


def _closed_repair(asset: str, repaired_at: datetime | None, *, status: str = "repaired",
                   outcome: str = "lamp_replaced") -> None:  # fmt: skip
    from alzette.territory.lighting.repairs import services
    from alzette.territory.lighting.repairs.models import Repair

    Repair.objects.using(services.DB).create(
        asset_id=asset, commune_code="57038", source="device", fault="x", status=status,
        repaired_at=repaired_at, outcome=outcome if status == "repaired" else "",
    )  # fmt: skip


@DB
def test_a_cabinet_or_lamp_whose_repair_is_closed_in_the_platform_works_again(territory):
    _entities(
        _cabinet("cabinet-57038-1", 100.0), _lamp("streetlight-57038-001", 40.0, "cabinet-57038-1"),
        _cabinet("cabinet-57038-2", 100.0), _lamp("streetlight-57038-002", 60.0, "cabinet-57038-2"),
    )  # fmt: skip
    simulator = _simulator(devices=None, faults=1.0, repair_hours=0)  # no reset by itself
    simulator.setup(NIGHT)
    assert simulator.fleet.source == "context"
    tripped = simulator.fleet.cabinets["cabinet-57038-1"]
    healthy = simulator.fleet.cabinets["cabinet-57038-2"]
    healthy.tripped, healthy.tripped_at = False, None
    broken = simulator.lamps["streetlight-57038-002"]
    broken.failed_at, broken.failed_until = NIGHT, NIGHT + timedelta(days=5)
    cabinet_id = "urn:ngsi-ld:StreetlightControlCabinet:cabinet-57038-1"
    lamp_id = "urn:ngsi-ld:Streetlight:streetlight-57038-002"
    # Closed before they broke, or cancelled: not theirs.
    _closed_repair(cabinet_id, NIGHT - timedelta(days=1), outcome="cabinet_repaired")
    _closed_repair(lamp_id, NIGHT - timedelta(days=1))
    _closed_repair(cabinet_id, None, status="cancelled")
    # Closed later in the night: the clock must reach them first.
    _closed_repair(cabinet_id, NIGHT + timedelta(hours=1), outcome="cabinet_repaired")
    _closed_repair(lamp_id, NIGHT + timedelta(hours=2))

    out = simulator.step(NIGHT + timedelta(minutes=30), True)
    assert tripped.tripped and broken.failed
    assert _by(out, "cabinet-57038-1", "meter")[-1]["fault"] == "breaker-tripped"

    out = simulator.step(NIGHT + timedelta(minutes=65), True)
    assert not tripped.tripped and broken.failed
    [meter] = _by(out, "cabinet-57038-1", "meter")
    assert "fault" not in meter
    [state] = _by(out, "streetlight-57038-001", "state")
    assert state["powerState"] == "on" and state["powerConsumption"] == 40.5

    out = simulator.step(NIGHT + timedelta(minutes=125), True)
    assert not broken.failed
    [state] = _by(out, "streetlight-57038-002", "state")
    assert state["status"] == "ok" and state["powerConsumption"] == 60.5


# --- powerState low --------------------------------------------------------------------------


@DB
@pytest.mark.parametrize(("level", "power_state"), [
    (1.0, "on"), (0.8, "on"), (LOW_LEVEL + 0.01, "on"), (LOW_LEVEL, "low"), (0.2, "low"),
    (0.0, "off"),
])  # fmt: skip
def test_a_lamp_dimmed_to_half_power_or_less_reports_low(level, power_state):
    simulator = _simulator()
    simulator.setup(NIGHT)
    lamp = simulator.fleet.lamps[0]
    command = {"id": "c1", "action": "dim", "level": level}
    _, state = simulator.on_command(lamp.id, command, NIGHT)
    assert state.content["powerState"] == power_state
    # The periodic reports say the same while the level holds.
    out = simulator.step(NIGHT + timedelta(hours=1), True)
    assert _by(out, lamp.id, "state")[-1]["powerState"] == power_state


@DB
def test_the_platform_takes_the_reports_a_reset_and_a_low_lamp(m2m, territory):
    """Through the CSE in-process: the tripped cabinet's alert opens, closes when it
    reports its reset; the lamp's ``low`` report is kept by the command and energy
    receivers, nothing quarantined, no lamp alert."""
    from alzette.territory.lighting.commands.models import LampState
    from alzette.territory.lighting.energy.models import LampReading
    from alzette.territory.supervision.models import Alert, QuarantinedMessage

    _entities(_cabinet("cabinet-57038-1", 100.0),
              _lamp("streetlight-57038-001", 40.0, "cabinet-57038-1"))  # fmt: skip
    simulator = _simulator(devices=None, faults=1.0)
    aeis = {}
    for device in simulator.setup(PAST_NIGHT):
        aeis[device.name] = m2m.register(device.name)["aei"]
        for container in device.containers:
            m2m.container(f"alzette/{device.name}", container.name, aeis[device.name])
    cabinet = simulator.fleet.cabinets["cabinet-57038-1"]
    cabinet.reset_at = PAST_NIGHT + timedelta(hours=1)

    def publish(readings) -> None:
        for r in readings:
            response = m2m.instance(f"alzette/{r.device}/{r.container}", r.content,
                                    aeis[r.device])  # fmt: skip
            assert response.status_code == 201, response.content

    def open_alerts(name: str):
        return Alert.objects.filter(entity_id__endswith=f":{name}", state__in=Alert.OPEN)

    publish(simulator.step(PAST_NIGHT + timedelta(minutes=20), True))
    assert open_alerts("cabinet-57038-1").get().rule.detector == "lighting.cabinet-fault"
    publish(simulator.step(PAST_NIGHT + timedelta(minutes=61), True))
    assert not open_alerts("cabinet-57038-1").exists()
    at = PAST_NIGHT + timedelta(minutes=62)
    _, state = simulator.on_command("streetlight-57038-001",
                                    {"id": "c1", "action": "dim", "level": 0.5}, at)  # fmt: skip
    assert state.content["powerState"] == "low"
    publish([state])
    assert not QuarantinedMessage.objects.exists()
    lamp_state = LampState.objects.get(ae="streetlight-57038-001")
    assert (lamp_state.power_state, lamp_state.power_consumption) == ("low", 20.5)
    assert LampReading.objects.filter(power_state="low", power_w=20.5).count() == 1
    assert not open_alerts("streetlight-57038-001").exists()
