"""Household water: meters, readings from the territory's signal, daily use, leak and
abnormal-use warnings with their e-mail, the comparison with similar households."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.personal.homewater import services
from alzette.personal.homewater.models import (
    DailyUse,
    LedgerRecord,
    MeterAllocation,
    Reading,
    Warning,
)
from alzette.personal.households.services import create_household
from alzette.territory.water import signals
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

SERIAL = "W26-000001"
TZ = timezone.get_current_timezone()


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


@pytest.fixture
def household(citizen):
    return create_household("57038", "AUD-0001", members=[citizen])


@pytest.fixture
def metered(household):
    services.allocate_meter(household, SERIAL, "system:test", starts_on=date(2026, 1, 1), persons=2)
    return household


def _history(household, today: date, litres: int = 200, days: int = 30, serial: str = SERIAL):
    for n in range(1, days + 1):
        DailyUse.objects.create(household=household, day=today - timedelta(days=n), litres=litres)


def test_allocating_a_meter_is_recorded_and_ends_the_previous_one(household, citizen):
    first = services.allocate_meter(household, "w26-000001", "system:test",
                                    starts_on=date(2026, 1, 1))  # fmt: skip
    assert first.serial == SERIAL
    record = LedgerRecord.objects.get(kind="household.meter_allocated")
    entry = LedgerEntry.objects.using("ledger").get(index=record.leaf_index)
    assert entry.object == f"meter-allocation:{first.pk}"
    other = create_household("57038", "AUD-0002")
    services.allocate_meter(other, SERIAL, "system:test", starts_on=date(2026, 3, 1))
    first.refresh_from_db()
    assert first.ends_on == date(2026, 3, 1)
    assert services.holder_on(SERIAL, date(2026, 2, 1)).household == household
    assert services.holder_on(SERIAL, date(2026, 3, 1)).household == other
    with pytest.raises(ValidationError):
        services.allocate_meter(other, SERIAL, "system:test", starts_on=date(2026, 4, 1))
    with pytest.raises(ValidationError):
        services.allocate_meter(other, "not a serial", "system:test")


def test_readings_from_the_signal_are_stored_for_the_household_holding_the_meter(metered):
    day = date(2026, 11, 10)
    for hour, index in ((7, 1000), (8, 1090), (9, 1090), (10, 1100)):
        signals.meter_reading.send(None, meter=SERIAL, at=at(day, hour), index_litres=index,
                                   source_ri="cin123")  # fmt: skip
    readings = list(Reading.objects.order_by("at").values_list("litres", flat=True))
    assert readings == [0, 90, 0, 10]
    daily = DailyUse.objects.get(household=metered, day=day)
    assert (daily.litres, daily.hours_with_use) == (100, 2)
    # The same hour twice, a late reading and a meter that went backwards.
    signals.meter_reading.send(None, meter=SERIAL, at=at(day, 10), index_litres=1100, source_ri="")
    signals.meter_reading.send(None, meter=SERIAL, at=at(day, 8), index_litres=1095, source_ri="")
    signals.meter_reading.send(None, meter=SERIAL, at=at(day, 11), index_litres=50, source_ri="")
    assert Reading.objects.count() == 5
    assert Reading.objects.get(at=at(day, 11)).litres == 0


def test_a_reading_after_a_gap_shares_its_litres_over_the_days_it_spans(metered):
    day = date(2026, 11, 10)
    signals.meter_reading.send(None, meter=SERIAL, at=at(day, 20), index_litres=1000,
                               source_ri="")  # fmt: skip
    # The meter was silent from 20:00 to 08:00 the next day: 4 hours of the first day,
    # 8 of the second. Its 600 L are not all the second day's.
    signals.meter_reading.send(None, meter=SERIAL, at=at(day + timedelta(days=1), 8),
                               index_litres=1600, source_ri="")  # fmt: skip
    days = dict(DailyUse.objects.filter(household=metered).values_list("day", "litres"))
    assert days == {day: 200, day + timedelta(days=1): 400}
    hours = dict(DailyUse.objects.filter(household=metered).values_list("day", "hours_with_use"))
    assert hours == {day: 0, day + timedelta(days=1): 1}  # only the reading's own hour is known
    assert Reading.objects.get(at=at(day + timedelta(days=1), 8)).litres == 600


def test_a_reading_of_a_meter_nobody_holds_is_ignored_and_counted(household, caplog):
    before = services.unmatched["readings"]
    signals.meter_reading.send(None, meter="W26-000999", at=timezone.now(), index_litres=10,
                               source_ri="")  # fmt: skip
    assert Reading.objects.count() == 0
    assert services.unmatched["readings"] == before + 1
    assert "without a household" in caplog.text


def test_a_reading_before_the_allocation_is_not_the_households(metered):
    signals.meter_reading.send(None, meter=SERIAL, at=at(date(2025, 12, 31), 12),
                               index_litres=10, source_ri="")  # fmt: skip
    assert Reading.objects.count() == 0


def test_a_leak_warns_the_household_once_by_e_mail_and_ends(
    metered, citizen, django_capture_on_commit_callbacks
):
    since = timezone.now() - timedelta(hours=24)
    with django_capture_on_commit_callbacks(execute=True):
        signals.leak_suspected.send(None, meter=SERIAL, since=since, min_litres_per_hour=4.5)
        signals.leak_suspected.send(None, meter=SERIAL, since=since, min_litres_per_hour=4.5)
    warning = Warning.objects.get()
    assert warning.kind == "leak" and warning.open and warning.notified_at is not None
    assert warning.detail == {"min_litres_per_hour": 4.5}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [citizen.email]
    assert "/water/" in mail.outbox[0].body
    assert LedgerRecord.objects.filter(kind="household.water_warning").count() == 1
    signals.leak_cleared.send(None, meter=SERIAL, at=timezone.now())
    warning.refresh_from_db()
    assert not warning.open
    assert LedgerRecord.objects.filter(kind="household.water_warning").count() == 2
    # A leak on a meter nobody holds warns nobody.
    signals.leak_suspected.send(None, meter="W26-000777", since=since, min_litres_per_hour=2)
    assert Warning.objects.count() == 1


def test_a_day_far_above_the_usual_raises_one_abnormal_warning(
    metered, django_capture_on_commit_callbacks
):
    now = timezone.now()
    today = timezone.localdate(now)
    _history(metered, today, 200)
    DailyUse.objects.filter(household=metered, day=today - timedelta(days=1)).update(litres=900)
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 abnormal-use warnings raised" in services.run_check(now)
    warning = Warning.objects.get(kind="abnormal")
    assert warning.detail == {"litres": 900, "usual_litres": 200}
    assert len(mail.outbox) == 1
    assert "0 abnormal-use warnings raised" in services.run_check(now)  # once per episode
    # Two normal days later, the episode ends.
    later = now + timedelta(days=2)
    DailyUse.objects.create(household=metered, day=today + timedelta(days=1), litres=210)
    DailyUse.objects.create(household=metered, day=today + timedelta(days=2), litres=190)
    services.run_check(later)
    warning.refresh_from_db()
    assert not warning.open


def test_a_day_slightly_above_or_without_history_is_not_abnormal(metered):
    now = timezone.now()
    today = timezone.localdate(now)
    _history(metered, today, 100)
    # 2.6 times the usual but only 160 L more: not abnormal.
    DailyUse.objects.filter(household=metered, day=today - timedelta(days=1)).update(litres=260)
    services.run_check(now)
    assert not Warning.objects.exists()
    assert services.abnormal_day(create_household("57038", "X-1"), today) is None


def test_use_every_night_hour_is_abnormal(metered):
    today = date(2026, 11, 20)
    for hour in range(0, 7):
        signals.meter_reading.send(None, meter=SERIAL, at=at(today, hour),
                                   index_litres=1000 + 5 * hour, source_ri="")  # fmt: skip
    services.run_check(at(today, 7))
    warning = Warning.objects.get(kind="abnormal")
    assert warning.detail["night_hours"] == 4


def test_no_night_warning_while_a_leak_is_open(metered):
    today = date(2026, 11, 20)
    for hour in range(0, 7):
        signals.meter_reading.send(None, meter=SERIAL, at=at(today, hour),
                                   index_litres=1000 + 5 * hour, source_ri="")  # fmt: skip
    signals.leak_suspected.send(None, meter=SERIAL, since=at(today, 0), min_litres_per_hour=5)
    services.run_check(at(today, 7))
    assert not Warning.objects.filter(kind="abnormal").exists()


def _peer(n: int, commune: str, persons: int, litres: int, today: date):
    household = create_household(commune, f"P-{commune}-{n}")
    services.allocate_meter(household, f"W26-{500000 + n:06d}", "system:test",
                            starts_on=date(2026, 1, 1), persons=persons)  # fmt: skip
    _history(household, today, litres, days=10)
    return household


def test_the_comparison_uses_the_commune_with_k_households_else_the_territory(metered, settings):
    settings.ALZETTE_BRIDGE_K = 5
    today = timezone.localdate()
    _history(metered, today, 300, days=10)  # 2 persons: 150 L per person per day
    for n in range(3):
        _peer(n, "57038", 2, 200 + 40 * n, today)
    for n in range(3, 6):
        _peer(n, "54580", 2, 400, today)
    _peer(9, "57038", 1, 999, today)  # another size band: never in the group
    found = services.compare(metered, today)
    assert found.litres_per_person_day == 150
    assert found.band == "2"
    assert found.scope == "territory" and found.households == 7
    assert found.median == 150 and found.q1 is not None and found.q3 is not None
    for n in range(10, 12):
        _peer(n, "57038", 2, 300, today)
    found = services.compare(metered, today)
    assert found.scope == "commune" and found.households == 6


def test_a_group_below_k_is_never_shown(metered, settings):
    settings.ALZETTE_BRIDGE_K = 10
    today = timezone.localdate()
    _history(metered, today, 300, days=10)
    for n in range(5):
        _peer(n, "57038", 2, 200, today)
    found = services.compare(metered, today)
    assert found.scope == "" and found.median is None and found.households == 0


def test_this_month_is_compared_with_the_same_month_last_year(metered):
    today = date(2026, 11, 20)
    DailyUse.objects.create(household=metered, day=date(2025, 11, 3), litres=300)
    DailyUse.objects.create(household=metered, day=date(2025, 11, 4), litres=100)
    DailyUse.objects.create(household=metered, day=date(2026, 11, 3), litres=150)
    found = services.compare(metered, today)
    assert (found.this_month_per_day, found.last_year_per_day) == (150, 200)


def test_retention_deletes_old_readings(metered, settings):
    settings.ALZETTE_HOMEWATER_READING_DAYS = 10
    old = timezone.now() - timedelta(days=11)
    Reading.objects.create(household=metered, serial=SERIAL, at=old, index_litres=1, litres=0)
    Reading.objects.create(household=metered, serial=SERIAL, at=timezone.now(), index_litres=2,
                           litres=1)  # fmt: skip
    services.run_check()
    assert Reading.objects.count() == 1


def test_the_demo_allocates_meters_and_synthesises_readings(units):
    from alzette.personal.accounts.services import ensure_demo_accounts
    from alzette.personal.homewater.demo import ensure_demo_homewater
    from alzette.personal.households.demo import ensure_demo_households

    ensure_demo_accounts()
    ensure_demo_households()
    counts = ensure_demo_homewater()
    assert counts["meters"] == 41 and counts["leaks"] == 1
    assert counts["readings"] > 41 * 24 * 59
    citizen = UserFactory._meta.model.objects.get(email="citoyen@demo.alzette.eu")
    household = services.household_of(citizen)
    assert services.current_meter(household) is not None
    assert services.compare(household).scope == "commune"
    assert ensure_demo_homewater() == counts  # idempotent
    assert MeterAllocation.objects.filter(ends_on__isnull=True).count() == 41
