"""Issue #10, done when: a schedule sends a dimming command, the simulated lamp
acknowledges, its state and consumption change and the saving appears; a simulated
leak raises an alert seen by the agent and by the household.

Every step goes through the real parts: the simulators' oneM2M HTTP transport
against the live server, the CSE's notification to the lamp's point of access, the
lighting schedule and commands, the NGSI-LD mappings, the energy receiver, the
water receivers and leak detector, the supervision alert, the personal side's
warning, and the agent's and the citizen's pages in Chromium."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from alzette.core import simulators
from alzette.core.simulators import Clock, Environment, HttpTransport, Reading
from alzette.personal.homewater import services as homewater
from alzette.personal.homewater.models import Warning
from alzette.personal.households.services import create_household
from alzette.territory.lighting import authz, policies, schedule, sun
from alzette.territory.lighting.commands.models import Command
from alzette.territory.lighting.demo import ensure_mappings
from alzette.territory.lighting.energy import services as energy
from alzette.territory.lighting.simulator import LightingSimulator
from alzette.territory.ngsild import store
from alzette.territory.supervision.models import Alert
from alzette.territory.water import detection
from alzette.territory.water.demo import ensure_demo_water
from alzette.territory.water.simulator import WaterSimulator
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent
from tests.test_simulate_lighting import _cabinet, _entities, _lamp, _value

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


@pytest.fixture(autouse=True)
def _one_lane(monkeypatch):
    # live_server shares one SQLite connection between its threads: one lane.
    monkeypatch.setattr(simulators.HttpTransport, "CONNECTIONS", 1)


def _wait(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


# --- Street lighting ------------------------------------------------------------------------

NAME = "streetlight-57038-001"
LAMP = f"urn:ngsi-ld:Streetlight:{NAME}"
RATING = 60.0


def test_a_schedule_dims_a_simulated_lamp_which_acknowledges_and_the_saving_appears(
    page, live_server, territory, agent_audun, axe, settings
):
    settings.ALZETTE_ONEM2M_DELIVERY = "sync"  # the CSE notifies the lamp within the request
    _entities(_cabinet("cabinet-57038-1", 100.0), _lamp(NAME, RATING, "cabinet-57038-1"))
    ensure_mappings()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    policies.save_override(authz.actor_of(agent_audun), {
        "commune": "57038", "groups": [], "level": 0.5, "reason": "Essai de gradation",
        "start": now - timedelta(minutes=5), "end": now + timedelta(hours=2),
    })  # fmt: skip
    assert schedule.level_at(LAMP).level == 0.5

    # 1. The simulated lamp registers (request-reachable, its ACP and subscription).
    quiet = {"ignore_rate": 0.0, "error_rate": 0.0, "failure_rate": 0.0, "faults": 0.0}
    simulator = LightingSimulator(quiet, seed=4, devices=None, env=Environment())
    simulator.step = lambda now, live: []  # only what the command makes it say
    transport = HttpTransport(live_server.url, cse_rn="alzette", cse_id="/id-alzette", key=None)
    registered, scheduled = threading.Event(), threading.Event()
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

    def commanded(device, content, now):
        # SQLite's live server shares one connection: answer once the schedule is done.
        scheduled.wait(10)
        # Savings count only the dark hours a lamp's reports cover: the lamp dates its
        # answer in darkness, whatever the hour the test runs (docs/lighting-energy.md).
        return on_command(device, content, _in_darkness(now))

    transport.register, transport.publish = registering, publishing
    simulator.on_command = commanded
    clock = Clock(start=datetime.now(UTC).replace(microsecond=0), speed=1,
                  tick=timedelta(seconds=1))  # fmt: skip
    stop = threading.Event()
    runner = threading.Thread(target=simulators.run, args=(simulator, transport, clock),
                              kwargs={"stop": stop}, daemon=True)  # fmt: skip
    runner.start()
    try:
        assert registered.wait(30)
        # 2. The schedule sends the dimming command through oneM2M.
        summary = schedule.run_schedule()
        assert "1 command" in summary or "commands sent" in summary, summary
        command = Command.objects.get(lamp_id=LAMP)
        assert (command.state, command.level) == ("sent", 0.5)
        scheduled.set()
        # 3. The lamp acknowledges, then reports its new state.
        assert _wait(lambda: len(published) >= 2)
        time.sleep(0.5)
    finally:
        stop.set()
        runner.join(10)
        transport.close()
    assert [(r.container, rsc) for r, rsc in published[:2]] == [("ack", 2001), ("state", 2001)]
    assert published[0][0].content["id"] == command.id
    command.refresh_from_db()
    assert command.state == "acknowledged"
    body = store.get("", LAMP).body
    assert _value(body, "illuminanceLevel") == 0.5
    assert _value(body, "powerConsumption") == RATING * 0.5 + 0.5

    # 4. The saving appears: against full power over the hours the reports cover, on the
    #    agents' energy page (two months: the report may be last month's on the 1st).
    months = energy.savings(commune="57038", months=2)
    assert sum(m.saved_kwh for m in months) > 0
    assert sum(m.full_kwh for m in months) > sum(m.actual_kwh for m in months)
    log_in_agent(page, live_server, agent_audun, "/hypervision/lighting/energy/?commune=57038")
    row = page.locator('tr[data-commune="57038"]')
    assert float(row.get_attribute("data-saved-kwh")) > 0  # the page rounds to whole kWh
    assert wcag_violations(axe, page) == []


def _in_darkness(now: datetime) -> datetime:
    """A moment at least 30 min ago (a report holds 30 min, never past now) and in darkness
    for those 30 min: now - 31 min at night, else an hour after the last sunset."""
    moment = now - timedelta(minutes=31)
    if sun.is_dark(moment) and sun.is_dark(now):
        return moment
    evening = sun.sunset(now.date()) + timedelta(hours=1)
    if evening > moment:
        evening = sun.sunset(now.date() - timedelta(days=1)) + timedelta(hours=1)
    return evening


# --- Water ------------------------------------------------------------------------------


def _leaking_meter_readings(serial: str, start: datetime, hours: int) -> list[Reading]:
    """What the water simulator's household meter ``serial`` reports, leaking, over
    ``hours`` from ``start`` (its other devices are left out: they are not the point)."""
    options = {"leaks": 0.0, "network_leaks": 0.0, "faults": 0.0, "leak": [serial]}
    simulator = WaterSimulator(options, seed=10, devices=None, env=Environment())
    simulator.setup(start)
    readings: list[Reading] = []
    for step in range(1, hours * 6 + 1):
        moment = start + timedelta(minutes=10 * step)
        readings += [r for r in simulator.step(moment, False) if r.device == f"hmeter-{serial}"]
    return readings


def test_a_simulated_leak_alerts_the_agent_and_the_household(
    page, live_server, territory, citizen, agent_audun, axe
):
    ensure_demo_water()
    serial = "W26-000001"
    household = create_household("57038", "E2E-WATER", members=[citizen])
    homewater.allocate_meter(household, serial, "system:test",
                             starts_on=date(2026, 1, 1), persons=2)  # fmt: skip

    # 1. The simulated meter leaks: 27 hours of hourly indexes through oneM2M over HTTP.
    start = (datetime.now(UTC) - timedelta(hours=27)).replace(minute=0, second=0, microsecond=0)
    readings = _leaking_meter_readings(serial, start, 27)
    assert len(readings) >= 26
    transport = HttpTransport(live_server.url, cse_rn="alzette", cse_id="/id-alzette", key=None)
    try:
        transport.register([simulators.Device(f"hmeter-{serial}", (simulators.Container(
            "index", mni=100, mia=86400),))])  # fmt: skip
        answers = transport.publish(readings)
    finally:
        transport.close()
    assert {rsc for rsc, _ in answers} == {2001}

    # 2. The detector finds water running every hour: an alert for the agents naming the
    # meter, and a warning for the household (the personal side, through the signal).
    detection.run_detect()
    [alert] = Alert.objects.filter(rule__detector="water.continuous-flow", state="firing")
    assert serial in alert.entity_id
    warning = Warning.objects.get(household=household, kind="leak")
    assert warning.ended_at is None

    # 3. The agent sees the alert.
    log_in_agent(page, live_server, agent_audun, "/hypervision/supervision/alerts/")
    shown = page.locator(f"#alert-{alert.pk}")
    assert shown.get_attribute("data-state") == "firing"
    assert serial in shown.inner_text()
    assert wcag_violations(axe, page) == []

    # 4. The household sees the warning on its water page.
    page.context.clear_cookies()
    log_in(page, live_server, citizen, "/water/")
    warned = page.locator(f'#hw-open [data-warning="{warning.pk}"]')
    assert warned.get_attribute("data-kind") == "leak"
    assert warned.get_attribute("data-open") == "1"
    assert wcag_violations(axe, page) == []
    assert timezone.now() - warning.started_at > timedelta(hours=20)
