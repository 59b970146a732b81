"""Issue #9, done when: a simulated bin posts through oneM2M, its entity updates, an
alert fires, the agent's map shows it, the next computed round includes it; then the
truck lifts it and the citizen sees the lift and the estimated bill.

Every step goes through the real parts: the simulator's oneM2M HTTP transport against
the live server, the NGSI-LD mapping, the supervision rules, the hypervision page in
Chromium, OR-Tools, the truck's RFID lift, the households' receiver and page."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from alzette.core import simulators
from alzette.core.simulators import Container, Device, HttpTransport, Reading
from alzette.personal.households import services as households
from alzette.personal.households.models import HouseholdLift
from alzette.territory.hypervision import layers
from alzette.territory.supervision import services as supervision
from alzette.territory.supervision.models import Alert
from alzette.territory.waste import services as waste
from alzette.territory.waste.demo import ensure_demo_waste, rfid_tag
from alzette.territory.waste.models import Lift
from alzette.territory.waste.rounds.demo import ensure_demo_fleet
from alzette.territory.waste.rounds.services import plan_round
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.test_browser_procedures import log_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]
#: Streams end quickly in these tests (the browser reconnects with its cursor).
STREAM_SECONDS = 3

NAME = "bin-57038-001"
BIN = f"urn:ngsi-ld:WasteContainer:{NAME}"


@pytest.fixture(autouse=True)
def _quick_streams(settings, monkeypatch):
    settings.ALZETTE_HYPERVISION_STREAM_SECONDS = STREAM_SECONDS
    settings.ALZETTE_HYPERVISION_POLL_SECONDS = 0.3
    layers.reload()
    # live_server shares one SQLite connection between its threads: one lane.
    monkeypatch.setattr(simulators.HttpTransport, "CONNECTIONS", 1)
    yield
    # The page is closed (it was set up after this fixture); a stream it opened lasts
    # until its end. Let it end here, so that it never queries the live server's
    # database while the next test flushes it (SQLite: "table is locked").
    time.sleep(STREAM_SECONDS + 1)


@pytest.fixture
def household(citizen, territory):
    """The citizen's household holds the bin since January, under this year's tariff."""
    today = timezone.localdate()
    home = households.create_household("57038", "E2E-0001", members=[citizen])
    households.allocate_bin(home, NAME, "system:test", starts_on=today.replace(month=1, day=1))
    households.set_tariff(
        "",
        today.year,
        fixed_eur=Decimal("90"),
        per_lift_eur=Decimal("2.5"),
        per_kg_eur=Decimal("0.15"),
        included_lifts=12,
    )
    return home


@pytest.fixture
def devices(live_server, territory):
    ensure_demo_waste()
    ensure_demo_fleet()
    transport = HttpTransport(live_server.url, cse_rn="alzette", cse_id="/id-alzette", key=None)
    transport.register(
        [Device(NAME, (Container("fill"),)), Device("truck-1", (Container("lifts"),))]
    )
    yield transport
    transport.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _fill(entity_id: str) -> float | None:
    [found] = [c for c in waste.containers(kind="bin", commune="57038") if c.id == entity_id]
    return found.filling_level


def test_a_simulated_bin_goes_from_its_sensor_to_the_round_and_the_bill(
    page, live_server, devices, household, agent_audun, citizen, axe
):
    rule = supervision.save_rule(
        supervision.actor_of(agent_audun),
        {
            "name": "Bac presque plein",
            "entity_type": "WasteContainer",
            "attribute": "fillingLevel",
            "entity_pattern": "urn:ngsi-ld:WasteContainer:bin-*",
            "kind": "threshold",
            "operator": "ge",
            "value": 0.9,
            "severity": "warning",
        },
    )

    # 1. The sensor posts through oneM2M; the entity follows; the rule fires.
    [(rsc, _)] = devices.publish([Reading(NAME, "fill", {"level": 0.96, "t": _now()})])
    assert rsc == 2001
    assert _fill(BIN) == 0.96
    alert = Alert.objects.get(rule=rule, entity_id=BIN)
    assert alert.state == "firing"

    # 2. The agent's live map shows the bin as full and the alert at its place.
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    log_in_agent(page, live_server, agent_audun, "/hypervision/")
    page.wait_for_selector("#hv-map[data-state=drawn]")
    page.wait_for_function(
        "id => { const m = window.hypervision.state.markers.get(id);"
        " return m && m.feature.properties.value === 0.96; }",
        arg=BIN,
    )
    assert page.evaluate("id => window.hypervision.state.markers.has(id)", f"alert:{alert.pk}")
    assert wcag_violations(axe, page) == []

    # 3. The next computed round goes by the bin.
    planned = plan_round(threshold=0.9, time_limit=1, actor="system:test")
    visited = {stop["id"] for route in planned.routes.all() for stop in route.sequence}
    assert BIN in visited

    # 4. The truck lifts it (RFID): the bin is empty, the lift counts for the household.
    [(rsc, _)] = devices.publish(
        [Reading("truck-1", "lifts", {"tag": rfid_tag(NAME), "weight": 14.5, "t": _now()})]
    )
    assert rsc == 2001
    assert Lift.objects.filter(bin_id=BIN).count() == 1
    assert _fill(BIN) == 0
    assert HouseholdLift.objects.get(household=household).weight_kg == Decimal("14.5")

    # 5. The citizen sees the lift and the estimated bill.
    page.context.clear_cookies()
    log_in(page, live_server, citizen, "/waste/")
    assert page.locator("#hh-lifts table tbody tr").count() >= 1
    bill = households.estimated_bill(citizen, timezone.localdate().year)
    assert bill is not None and bill.lifts == 1
    assert page.locator("#hh-bill").inner_text().strip() != ""
    assert page.locator("#hh-bins").inner_text().count(NAME) >= 1
    assert wcag_violations(axe, page) == []
