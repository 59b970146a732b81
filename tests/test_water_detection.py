"""Leak detection: night minimum flow, continuous flow on a household meter, network
balance; alerts fired and cleared, signals sent to the personal side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alzette.territory.ngsild import store
from alzette.territory.supervision.models import Alert
from alzette.territory.water import demo, detection, services, signals
from alzette.territory.water.models import District, DistrictHour, Meter
from tests.conftest import ALL_DATABASES
from tests.test_water_ingest import device, iso, post

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
SLUG = "57038-1"


@pytest.fixture
def network(territory):
    return demo.ensure_demo_water()


@pytest.fixture
def leaks():
    got = {"suspected": [], "cleared": []}

    def suspected(sender, **kwargs):
        got["suspected"].append(kwargs)

    def cleared(sender, **kwargs):
        got["cleared"].append(kwargs)

    signals.leak_suspected.connect(suspected, dispatch_uid="test-water-suspected")
    signals.leak_cleared.connect(cleared, dispatch_uid="test-water-cleared")
    yield got
    signals.leak_suspected.disconnect(dispatch_uid="test-water-suspected")
    signals.leak_cleared.disconnect(dispatch_uid="test-water-cleared")


def local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    today = timezone.localdate()
    day = today + timedelta(days=day_offset)
    zone = timezone.get_default_timezone()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def open_alerts(key: str) -> list[Alert]:
    return list(Alert.objects.filter(rule__detector=key, state__in=Alert.OPEN))


def night(m2m, aei, day_offset: int, flows: list[float], index: float = 1000.0) -> None:
    """Flow readings every 15 minutes from 01:30 to 04:30 local of that day."""
    moment = local(day_offset, 1, 30)
    for n in range(13):
        flow = flows[n % len(flows)]
        post(m2m, aei, f"dmeter-{SLUG}", "flow",
             {"index": index + n, "flow": flow, "t": iso(moment)})  # fmt: skip
        moment += timedelta(minutes=15)


def test_night_minimum_flow_fires_and_clears(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = District.objects.get(slug=SLUG)
    night(m2m, aei, -2, [2600.0, 2200.0, 2400.0])  # threshold 1500 L/h
    detection.run_detect(now=local(-2, 6), district=SLUG)
    alerts = open_alerts(detection.NIGHT_FLOW)
    assert [a.entity_id for a in alerts] == [district.inflow_entity]
    assert "2200" in alerts[0].message
    body = store.get("", district.inflow_entity).body
    assert services.value(body, "minFlow") == 2200
    # The next night is quiet: the alert closes.
    night(m2m, aei, -1, [900.0, 600.0], index=2000.0)
    summary = detection.run_detect(now=local(-1, 6), district=SLUG)
    assert "0 night-flow" in summary
    assert open_alerts(detection.NIGHT_FLOW) == []
    assert services.night_minimum(SLUG, local(-1, 0).date()) == 600.0
    # Before 04:00 the detector still judges the previous night.
    assert detection.detect_night_flow(district, local(-1, 3)) == 1


def test_a_higher_threshold_keeps_quiet(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    District.objects.filter(slug=SLUG).update(night_flow_threshold=5000)
    night(m2m, aei, -1, [2600.0])
    detection.run_detect(now=local(-1, 6), district=SLUG)
    assert open_alerts(detection.NIGHT_FLOW) == []


def hourly(m2m, aei, serial, start: datetime, uses: list[int], index: int = 5000) -> int:
    for n, used in enumerate(uses):
        index += used
        post(m2m, aei, f"hmeter-{serial}", "index",
             {"index": index, "t": iso(start + timedelta(hours=n, minutes=2))})  # fmt: skip
    return index


def test_continuous_flow_fires_and_clears(network, m2m, leaks):
    serial = "W26-000011"
    aei = device(m2m, f"hmeter-{serial}", "index")
    now = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=20, second=0, microsecond=0)
    start = now.replace(minute=0) - timedelta(hours=25)
    index = hourly(m2m, aei, serial, start, [0] + [3] * 24 + [8])
    detection.run_detect(now=now)
    alerts = open_alerts(detection.CONTINUOUS_FLOW)
    assert [a.entity_id for a in alerts] == [services.meter_entity_id(serial)]
    assert serial in alerts[0].message
    assert [s["meter"] for s in leaks["suspected"]] == [serial]
    assert leaks["suspected"][0]["min_litres_per_hour"] == 3
    assert Meter.objects.get(serial=serial).leak_since == start + timedelta(hours=1)
    detection.run_detect(now=now)  # still leaking: no second signal
    assert len(leaks["suspected"]) == 1 and len(open_alerts(detection.CONTINUOUS_FLOW)) == 1
    # An hour without use closes it.
    later = now + timedelta(hours=1)
    post(m2m, aei, f"hmeter-{serial}", "index",
         {"index": index, "t": iso(later.replace(minute=1))})  # fmt: skip
    detection.run_detect(now=later + timedelta(hours=1))
    assert open_alerts(detection.CONTINUOUS_FLOW) == []
    assert [c["meter"] for c in leaks["cleared"]] == [serial]
    assert Meter.objects.get(serial=serial).leak_since is None


def test_an_hour_without_use_is_no_leak(network, m2m, leaks, settings):
    settings.ALZETTE_WATER_CONTINUOUS_HOURS = 6
    serial = "W26-000012"
    aei = device(m2m, f"hmeter-{serial}", "index")
    now = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=20, second=0, microsecond=0)
    start = now.replace(minute=0) - timedelta(hours=7)
    hourly(m2m, aei, serial, start, [0, 5, 5, 0, 5, 5, 5])
    detection.run_detect(now=now)
    assert open_alerts(detection.CONTINUOUS_FLOW) == [] and leaks["suspected"] == []


def day_of_balance(m2m, aei, inflow_m3: float, metered_litres: int, reporting: int) -> District:
    district = District.objects.get(slug=SLUG)
    day = local(-1, 0)
    post(m2m, aei, f"dmeter-{SLUG}", "flow",
         {"index": 5000.0, "flow": 800.0, "t": iso(day - timedelta(minutes=10))})  # fmt: skip
    post(m2m, aei, f"dmeter-{SLUG}", "flow", {"index": 5000.0 + inflow_m3 / 2, "flow": 800.0,
                                              "t": iso(day + timedelta(hours=12))})  # fmt: skip
    post(m2m, aei, f"dmeter-{SLUG}", "flow",
         {"index": 5000.0 + inflow_m3, "flow": 800.0,
          "t": iso(day + timedelta(hours=23, minutes=50))})  # fmt: skip
    for hour in range(24):
        DistrictHour.objects.create(district=district, litres=metered_litres // 24,
                                    meters=reporting,
                                    hour=(day + timedelta(hours=hour)).astimezone(UTC))  # fmt: skip
    return district


def test_network_balance_fires_and_clears(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = day_of_balance(m2m, aei, inflow_m3=40.0, metered_litres=24_000, reporting=2)
    fleet = services.active_meters(district, local(-1, 0).date())
    assert fleet == 4
    result = services.balance(district, local(-1, 0).date())
    # 24 m³ metered by half the meters: 48 m³ + 2 m³ unmetered = 50 m³ > 40 m³ inflow.
    assert (result.inflow_m3, result.metered_m3, result.reporting) == (40.0, 24.0, 0.5)
    assert result.estimated_m3 == 50.0 and result.loss_share == -0.25
    detection.run_detect(now=local(0, 6), district=SLUG)
    assert open_alerts(detection.BALANCE) == []
    # Twice the inflow: (80 - 50) / 80 = 37.5 % lost, above 25 %.
    DistrictHour.objects.all().delete()
    district2 = day_of_balance(m2m, aei, inflow_m3=80.0, metered_litres=24_000, reporting=2)
    result = services.balance(district2, local(-1, 0).date())
    assert result.loss_share == pytest.approx(0.375)
    detection.run_detect(now=local(0, 6), district=SLUG)
    alerts = open_alerts(detection.BALANCE)
    assert [a.entity_id for a in alerts] == [district.inflow_entity]
    District.objects.filter(slug=SLUG).update(balance_threshold=0.5)
    detection.run_detect(now=local(0, 6), district=SLUG)
    assert open_alerts(detection.BALANCE) == []


def test_a_day_without_readings_is_not_judged(network):
    district = District.objects.get(slug=SLUG)
    result = services.balance(district, local(-1, 0).date())
    assert result.inflow_m3 is None and result.loss_share is None
    assert detection.detect_balance(district, local(0, 6)) == 0


def test_the_command_runs(network):
    from django.core.management import call_command

    call_command("water", "detect", verbosity=0)
