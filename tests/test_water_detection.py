"""Leak detection: night minimum flow, continuous flow on a household meter, network
balance; alerts fired and cleared, signals sent to the personal side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alzette.territory.ngsild import store
from alzette.territory.supervision.models import Alert
from alzette.territory.water import demo, detection, services, signals
from alzette.territory.water.models import BalanceDay, District, DistrictHour, Meter
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


def alarm(district: District):
    return services.value(store.get("", district.inflow_entity).body, "alarmInProgress")


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
    assert alarm(district) == 1  # the inflow meter's own alarm
    # The next night is quiet: the alert closes.
    night(m2m, aei, -1, [900.0, 600.0], index=2000.0)
    summary = detection.run_detect(now=local(-1, 6), district=SLUG)
    assert "0 night-flow" in summary
    assert open_alerts(detection.NIGHT_FLOW) == []
    assert alarm(district) == 0
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
    metered(district, -1, metered_litres, reporting)
    return district


def metered(district: District, day_offset: int, litres: int, reporting: int) -> None:
    """The day's hourly totals of the household meters: ``reporting`` meters each hour."""
    day = local(day_offset, 0)
    for hour in range(24):
        DistrictHour.objects.create(district=district, litres=litres // 24, meters=reporting,
                                    hour=(day + timedelta(hours=hour)).astimezone(UTC))  # fmt: skip


def days_of_balance(m2m, aei, inflows: dict[int, float]) -> District:
    """Inflow readings giving ``inflows[offset]`` m³ on each local day (offset from today)
    and 24,000 L metered by half the meters: 50 m³ estimated (a loss above 25 per cent
    from 66.7 m³ of inflow)."""
    district = District.objects.get(slug=SLUG)

    def reading(index: float, at: datetime) -> None:
        post(m2m, aei, f"dmeter-{SLUG}", "flow", {"index": index, "flow": 800.0, "t": iso(at)})

    index, previous = 5000.0, None
    for offset in sorted(inflows):
        day = local(offset, 0)
        if previous != offset - 1:
            reading(index, day - timedelta(minutes=10))
        reading(index + inflows[offset] / 2, day + timedelta(hours=12))
        index += inflows[offset]
        reading(index, day + timedelta(hours=23, minutes=50))
        metered(district, offset, 24_000, 2)
        previous = offset
    return district


def judged(district: District) -> dict[int, bool]:
    today = local(0, 0).date()
    return {(row.day - today).days: row.above
            for row in BalanceDay.objects.filter(district=district)}  # fmt: skip


def test_network_balance_fires_and_clears(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = day_of_balance(m2m, aei, inflow_m3=40.0, metered_litres=24_000, reporting=2)
    yesterday = local(-1, 0).date()
    fleet = services.active_meters(district, yesterday)
    assert fleet == 4
    result = services.balance(district, yesterday)
    # 24 m³ metered by half the meters: 48 m³ + 2 m³ unmetered = 50 m³ > 40 m³ inflow.
    assert (result.inflow_m3, result.metered_m3, result.reporting) == (40.0, 24.0, 0.5)
    assert result.estimated_m3 == 50.0 and result.loss_share == -0.25
    assert "0 balance" in detection.run_detect(now=local(0, 6), district=SLUG)
    assert open_alerts(detection.BALANCE) == []
    record = BalanceDay.objects.get(district=district)
    assert (record.day, record.loss_share, record.above) == (yesterday, -0.25, False)
    assert (record.inflow_m3, record.estimated_m3) == (40.0, 50.0)
    # Twice the inflow: (80 - 50) / 80 = 37.5 % lost, above 25 %.
    DistrictHour.objects.all().delete()
    district2 = day_of_balance(m2m, aei, inflow_m3=80.0, metered_litres=24_000, reporting=2)
    result = services.balance(district2, yesterday)
    assert result.loss_share == pytest.approx(0.375)
    # The day was judged: the job leaves it; judging it again on purpose sees the change.
    detection.run_detect(now=local(0, 7), district=SLUG)
    assert open_alerts(detection.BALANCE) == [] and alarm(district) == 0
    assert detection.detect_balance(district, local(0, 7), day=yesterday) == 1
    alerts = open_alerts(detection.BALANCE)
    assert [a.entity_id for a in alerts] == [district.inflow_entity]
    assert alarm(district) == 1
    assert judged(district) == {-1: True}
    assert "1 balance" in detection.run_detect(now=local(0, 8), district=SLUG)
    District.objects.filter(slug=SLUG).update(balance_threshold=0.5)
    district.refresh_from_db()
    assert detection.detect_balance(district, local(0, 8), day=yesterday) == 0
    assert open_alerts(detection.BALANCE) == [] and alarm(district) == 0
    assert judged(district) == {-1: False}


def test_missed_days_are_judged_once_each(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    # The worker judged day -6, then stopped; -3 had no readings at all.
    district = days_of_balance(m2m, aei, {-5: 40.0, -4: 80.0, -2: 40.0, -1: 80.0})
    BalanceDay.objects.create(district=district, day=local(-6, 0).date(), judged_at=local(-5, 6),
                              inflow_m3=40.0, estimated_m3=50.0, loss_share=-0.25)  # fmt: skip
    due = detection.balance_days_due(district, local(0, 6))
    assert [(d - local(0, 0).date()).days for d in due] == [-5, -4, -3, -2, -1]
    summary = detection.run_detect(now=local(0, 6), district=SLUG)
    assert "1 balance" in summary
    assert judged(district) == {-6: False, -5: False, -4: True, -2: False, -1: True}
    # In order: -4 raised an alert that -2 closed, -1 raised a new one.
    alerts = list(Alert.objects.filter(rule__detector=detection.BALANCE).order_by("pk"))
    assert [a.state for a in alerts] == [Alert.State.CLOSED, Alert.State.FIRING]
    assert local(-4, 0).date().isoformat() in alerts[0].message
    assert local(-1, 0).date().isoformat() in alerts[1].message
    assert alarm(district) == 1
    # Once each: the next runs judge nothing again.
    stamps = sorted(BalanceDay.objects.values_list("judged_at", flat=True))
    detection.run_detect(now=local(0, 6, 15), district=SLUG)
    detection.run_detect(now=local(0, 23), district=SLUG)
    assert sorted(BalanceDay.objects.values_list("judged_at", flat=True)) == stamps
    assert Alert.objects.filter(rule__detector=detection.BALANCE).count() == 2


def test_catching_up_goes_a_week_back_at_most(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = days_of_balance(m2m, aei, {-9: 80.0, -7: 80.0})
    BalanceDay.objects.create(district=district, day=local(-20, 0).date(),
                              judged_at=local(-19, 6), inflow_m3=40.0, estimated_m3=50.0,
                              loss_share=-0.25)  # fmt: skip
    detection.run_detect(now=local(0, 6), district=SLUG)
    assert judged(district) == {-20: False, -7: True}


def test_without_a_judged_day_only_yesterday_is_judged(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = days_of_balance(m2m, aei, {-3: 80.0, -1: 40.0})
    detection.run_detect(now=local(0, 6), district=SLUG)
    assert judged(district) == {-1: False}
    assert open_alerts(detection.BALANCE) == []


def test_a_day_is_judged_once_its_last_readings_had_time_to_arrive(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = days_of_balance(m2m, aei, {-1: 80.0})
    assert detection.balance_days_due(district, local(0, 1)) == []
    detection.run_detect(now=local(0, 1), district=SLUG)
    assert judged(district) == {} and open_alerts(detection.BALANCE) == []
    detection.run_detect(now=local(0, 3), district=SLUG)
    assert judged(district) == {-1: True}


def test_a_day_without_readings_is_not_judged_until_they_arrive(network, m2m):
    district = District.objects.get(slug=SLUG)
    result = services.balance(district, local(-1, 0).date())
    assert result.inflow_m3 is None and result.loss_share is None
    assert detection.detect_balance(district, local(0, 6)) == 0
    assert judged(district) == {}
    # The inflow meter's readings were buffered: they come in the morning.
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    days_of_balance(m2m, aei, {-1: 80.0})
    assert detection.detect_balance(district, local(0, 9)) == 1
    assert judged(district) == {-1: True}


def test_the_alarm_stays_while_one_district_alert_is_open(network, m2m):
    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = District.objects.get(slug=SLUG)
    assert alarm(district) == 0  # as the demo made it
    night(m2m, aei, -2, [2600.0])
    detection.detect_night_flow(district, local(-2, 6))
    assert alarm(district) == 1
    # A good balance clears its own alert, not the night's: the alarm stays.
    days_of_balance(m2m, aei, {-1: 40.0})
    assert detection.detect_balance(district, local(0, 6)) == 0
    assert alarm(district) == 1
    # An agent closes the night's alert: the next detector run lowers the alarm.
    Alert.objects.filter(state__in=Alert.OPEN).update(state=Alert.State.CLOSED)
    assert detection.sync_alarm(district) is True and alarm(district) == 0
    assert detection.sync_alarm(district) is False  # unchanged: nothing written
    from alzette.territory.ngsild.models import AttributeInstance

    values = AttributeInstance.objects.filter(entity_id=district.inflow_entity,
                                              attribute__endswith="/alarmInProgress")  # fmt: skip
    assert [v.instance["value"] for v in values.order_by("pk")] == [0, 1, 0]


def test_the_alarm_follows_only_an_enabled_rule_and_a_known_entity(network, m2m):
    from alzette.territory.supervision.models import AlertRule

    aei = device(m2m, f"dmeter-{SLUG}", "flow")
    district = District.objects.get(slug=SLUG)
    detection._rule(detection.NIGHT_FLOW)
    AlertRule.objects.filter(detector=detection.NIGHT_FLOW).update(enabled=False)
    night(m2m, aei, -2, [2600.0])
    detection.detect_night_flow(district, local(-2, 6))
    assert open_alerts(detection.NIGHT_FLOW) == [] and alarm(district) == 0
    # A district whose inflow entity is gone: nothing to write, no error.
    gone = District(slug="57038-9", name="?", commune="57038",
                    inflow_entity=services.inflow_id("57038-9"))  # fmt: skip
    assert detection.sync_alarm(gone) is False


def test_the_command_runs(network):
    from django.core.management import call_command

    call_command("water", "detect", verbosity=0)
