"""Issue #10, done when: a schedule sends a dimming command, the simulated lamp
acknowledges, its state and consumption change and the saving appears; a simulated
leak raises an alert seen by the agent and by the household.

Every step goes through the real parts: the simulators' oneM2M HTTP transport
against the live server, the CSE's notification to the lamp's point of access, the
lighting schedule and commands, the NGSI-LD mappings, the energy receiver, the
water receivers and leak detector, the supervision alert, the personal side's
warning, and the agent's and the citizen's pages in Chromium."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from alzette.core import simulators
from alzette.core.simulators import Environment, HttpTransport, Reading
from alzette.personal.homewater import services as homewater
from alzette.personal.homewater.models import Warning
from alzette.personal.households.services import create_household
from alzette.territory.supervision.models import Alert
from alzette.territory.water import detection
from alzette.territory.water.demo import ensure_demo_water
from alzette.territory.water.simulator import WaterSimulator
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

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
