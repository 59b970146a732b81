"""Street lighting energy: the lamps' reports integrated per lamp and night (holds,
gaps, out-of-order and duplicate readings, quarantine), the full-power reference,
savings and cost, the cabinets' meters as a cross-check, and the refresh job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from alzette.territory.lighting import sun
from alzette.territory.lighting.energy import receivers, services
from alzette.territory.lighting.energy.models import CabinetNight, LampNight, LampReading
from alzette.territory.ngsild import entities
from alzette.territory.ngsild.entities import Op
from alzette.territory.supervision.models import QuarantinedMessage
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

LAMP = "urn:ngsi-ld:Streetlight:streetlight-57038-001"
POINT = (5.958, 49.474)
NIGHT = date(2026, 1, 14)  # a winter night, long past
T0 = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)


def make_lamp(short: str = "streetlight-57038-001", rating: float | None = 50.0) -> str:
    payload = {
        "id": services.lamp_id(short),
        "type": "Streetlight",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": POINT}},
        "status": {"type": "Property", "value": "ok"},
        "powerState": {"type": "Property", "value": "on"},
    }
    if rating is not None:
        payload["powerRating"] = {"type": "Property", "value": rating, "unitCode": "WTT"}
    return entities.create(Op(tenant="", ctx=services.context()), payload)


def set_rating(rating: float) -> None:
    attribute = {"type": "Property", "value": rating, "unitCode": "WTT"}
    entities.append(Op(tenant="", ctx=services.context()), LAMP, {"powerRating": attribute})


_ri = iter(range(10**6))


def state(at: datetime, watts, device: str = "streetlight-57038-001", ri: str | None = None,
          **extra):  # fmt: skip
    content = {"powerState": "on" if watts else "off", "illuminanceLevel": 1.0,
               "powerConsumption": watts, "status": "ok",
               "t": at.isoformat().replace("+00:00", "Z"), **extra}  # fmt: skip
    message = receivers.Message(ri=ri or f"cin{next(_ri)}", device=device,
                                path=f"alzette/{device}/state", content=content,
                                created=at)  # fmt: skip
    try:
        return receivers.record_state(message)
    except receivers.Refused as exc:
        from alzette.territory.supervision.quarantine import quarantine

        quarantine(device=device, path=message.path, content=content, reason=exc.reason,
                   received_at=at, kind=exc.kind)  # fmt: skip
        return exc


def night_row(night: date = NIGHT) -> LampNight:
    return LampNight.objects.get(lamp_id=LAMP, night=night)


@pytest.fixture
def lamp():
    return make_lamp()


# --- Integration (pure) ----------------------------------------------------------------------


def test_a_power_holds_until_the_next_report():
    readings = [(T0, 40.0), (T0 + timedelta(minutes=15), 20.0), (T0 + timedelta(minutes=30), 0.0)]
    done = services.integrate(readings, T0 - timedelta(hours=6), T0 + timedelta(hours=6),
                              now=T0 + timedelta(days=1))  # fmt: skip
    assert done.energy_wh == pytest.approx(40 * 0.25 + 20 * 0.25)
    assert done.hours_on == pytest.approx(0.5)
    assert done.reports == 3


def test_a_gap_is_capped_so_a_silent_lamp_is_not_billed_forever():
    readings = [(T0, 60.0), (T0 + timedelta(hours=5), 60.0)]
    done = services.integrate(readings, T0, T0 + timedelta(hours=12), now=T0 + timedelta(days=1))
    # 30 min after the first report, 30 min after the second: 1 h at 60 W.
    assert done.energy_wh == pytest.approx(60.0)
    assert timedelta(minutes=30) == services.HOLD_CAP


def test_a_hold_never_runs_past_now_nor_the_window():
    done = services.integrate([(T0, 60.0)], T0, T0 + timedelta(hours=12),
                              now=T0 + timedelta(minutes=10))  # fmt: skip
    assert done.energy_wh == pytest.approx(10.0)
    done = services.integrate([(T0, 60.0)], T0 - timedelta(hours=1), T0 + timedelta(minutes=6),
                              now=T0 + timedelta(days=1))  # fmt: skip
    assert done.energy_wh == pytest.approx(6.0)


def test_the_order_of_readings_does_not_matter():
    readings = [(T0 + timedelta(minutes=15 * n), 10.0 * n) for n in range(6)]
    shuffled = [readings[n] for n in (3, 0, 5, 1, 4, 2)]
    bounds = (T0, T0 + timedelta(hours=6))
    later = T0 + timedelta(days=1)
    assert services.integrate(readings, *bounds, now=later) == services.integrate(
        shuffled, *bounds, now=later
    )


def test_a_night_runs_from_local_noon_to_the_next_local_noon():
    assert services.night_of(datetime(2026, 1, 14, 22, 0, tzinfo=UTC)) == date(2026, 1, 14)
    assert services.night_of(datetime(2026, 1, 15, 5, 0, tzinfo=UTC)) == date(2026, 1, 14)
    assert services.night_of(datetime(2026, 1, 15, 11, 30, tzinfo=UTC)) == date(2026, 1, 15)
    start, end = services.window(date(2026, 1, 14))
    assert start == datetime(2026, 1, 14, 11, 0, tzinfo=UTC) and end - start == timedelta(days=1)


# --- Through oneM2M --------------------------------------------------------------------------


def test_lamp_reports_through_onem2m_make_a_lamp_night(m2m, lamp):
    ae = m2m.register("streetlight-57038-001")
    m2m.container("alzette/streetlight-57038-001", "state", ae["aei"])
    for n, watts in enumerate((50.0, 50.0, 25.0, 25.0)):
        at = (T0 + timedelta(minutes=15 * n)).isoformat().replace("+00:00", "Z")
        response = m2m.instance("alzette/streetlight-57038-001/state",
                                {"powerState": "on", "illuminanceLevel": watts / 50,
                                 "powerConsumption": watts, "status": "ok", "t": at},
                                ae["aei"])  # fmt: skip
        assert response.status_code == 201, response.content
    row = night_row()
    # 50 W for 30 min, 25 W for 15 min, then 25 W held 30 min (the cap).
    assert row.energy_wh == pytest.approx(25 + 6.25 + 12.5)
    assert (row.reports, row.commune) == (4, "57038")
    assert row.hours_on == pytest.approx(1.25)
    assert row.rating_w == 50.0
    hours = sun.night_hours(NIGHT, *POINT)
    assert row.night_hours == pytest.approx(hours, abs=1e-3)
    assert 14 < hours < 17  # a January night
    assert row.covered_hours == pytest.approx(1.25)
    # Full power over the 1 h 15 the reports cover, not over the whole night.
    assert row.reference_wh == pytest.approx(50.0 * 1.25)
    assert not QuarantinedMessage.objects.exists()


def test_a_message_is_applied_once(lamp):
    assert isinstance(state(T0, 50.0, ri="cinA"), LampReading)
    assert state(T0, 50.0, ri="cinA") is None  # the same contentInstance
    assert state(T0, 50.0, ri="cinB") is None  # the same report under another id
    assert LampReading.objects.count() == 1
    assert night_row().reports == 1
    assert not QuarantinedMessage.objects.exists()


def test_a_conflicting_report_for_the_same_instant_is_quarantined(lamp):
    state(T0, 50.0)
    refused = state(T0, 20.0)
    assert isinstance(refused, receivers.Refused)
    assert QuarantinedMessage.objects.get().reason.startswith("a different report")


def test_readings_out_of_order_give_the_same_night(lamp):
    moments = [T0 + timedelta(minutes=15 * n) for n in range(8)]
    powers = [50, 50, 40, 25, 25, 0, 25, 50]
    for n in (4, 0, 7, 2, 6, 1, 5, 3):
        state(moments[n], float(powers[n]))
    mixed = night_row().energy_wh
    expected = services.integrate(list(zip(moments, map(float, powers), strict=True)),
                                  *services.window(NIGHT)).energy_wh  # fmt: skip
    assert mixed == pytest.approx(expected, abs=1e-3)
    assert night_row().reports == 8


def test_a_reading_just_after_noon_closes_the_previous_nights_hold(lamp):
    noon = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)  # local noon
    state(noon - timedelta(minutes=10), 40.0)  # holds 30 min, 20 of them in the next night
    assert night_row().energy_wh == pytest.approx(40 * 10 / 60, abs=1e-3)
    # A night is counted only when the lamp reported in it.
    assert not LampNight.objects.filter(night=date(2026, 1, 15)).exists()
    state(noon + timedelta(minutes=5), 0.0)
    assert LampNight.objects.get(night=date(2026, 1, 15)).energy_wh == pytest.approx(
        40 * 5 / 60, abs=1e-3
    )


@pytest.mark.parametrize(
    ("content", "kind", "reason"),
    [
        ({"powerConsumption": -3.0}, "out_of_range", "negative"),
        ({"powerConsumption": 151.0}, "out_of_range", "above 150 W"),
        ({"powerConsumption": "lots"}, "unreadable", "not a number"),
        (
            {"powerConsumption": 20.0, "t": "2099-01-01T00:00:00Z"},
            "future_time",
            "is in the future",
        ),
        (
            {"powerConsumption": 20.0, "t": "yesterday"},
            "invalid_time",
            "unreadable observation time",
        ),
        (
            {"powerConsumption": 20.0, "t": "2026-01-14T18:00:00"},
            "invalid_time",
            "has no time zone",
        ),
        ({"powerConsumption": 20.0, "illuminanceLevel": 3}, "out_of_range", "(0 to 1)"),
        (
            {"powerConsumption": 20.0, "powerState": "blinking"},
            "model",
            "is not one of on, off, low, bootingUp",
        ),
    ],
)
def test_impossible_reports_are_quarantined(m2m, lamp, content, kind, reason):
    ae = m2m.register("streetlight-57038-001")
    m2m.container("alzette/streetlight-57038-001", "state", ae["aei"])
    body = {"t": "2026-01-14T18:00:00Z", **content}
    response = m2m.instance("alzette/streetlight-57038-001/state", body, ae["aei"])
    assert response.status_code == 201
    # The NGSI-LD mapping may refuse it too: this app's own entry says why it did.
    mine = QuarantinedMessage.objects.filter(reason__contains=reason, kind=kind)
    assert mine.filter(device="streetlight-57038-001").exists()
    assert not LampReading.objects.exists() and not LampNight.objects.exists()


def test_an_unknown_lamp_and_unreadable_content_are_quarantined(m2m):
    ae = m2m.register("streetlight-57038-099")
    m2m.container("alzette/streetlight-57038-099", "state", ae["aei"])
    m2m.instance("alzette/streetlight-57038-099/state", {"powerConsumption": 20.0}, ae["aei"])
    m2m.instance("alzette/streetlight-57038-099/state", "not json", ae["aei"])
    assert QuarantinedMessage.objects.filter(
        kind="unknown_device", reason__startswith="no Streetlight"
    ).exists()
    assert QuarantinedMessage.objects.filter(
        reason__contains="a lamp state is a JSON object"
    ).exists()
    assert not LampReading.objects.exists()


def test_a_report_without_power_is_no_energy_reading_and_no_error(lamp):
    # powerConsumption is optional in the Smart Data Model: a level-only report is valid.
    message = receivers.Message(ri="level1", device="streetlight-57038-001",
                                path="alzette/streetlight-57038-001/state",
                                content={"powerState": "on", "illuminanceLevel": 0.5,
                                         "t": "2026-01-14T18:00:00Z"},
                                created=T0)  # fmt: skip
    assert receivers.record_state(message) is None
    assert not LampReading.objects.exists() and not QuarantinedMessage.objects.exists()


def test_a_lamp_switched_off_may_omit_its_power(lamp):
    state(T0, 50.0)
    message = receivers.Message(ri="off1", device="streetlight-57038-001",
                                path="alzette/streetlight-57038-001/state",
                                content={"powerState": "off", "t": "2026-01-14T18:15:00Z"},
                                created=T0 + timedelta(minutes=15))  # fmt: skip
    assert receivers.record_state(message).power_w == 0.0
    assert night_row().energy_wh == pytest.approx(50 * 0.25)


def test_without_a_rating_the_night_has_no_reference_and_no_saving():
    make_lamp(rating=None)
    state(T0, 300.0)
    assert night_row().reference_wh is None
    rows = services.savings("57038", 1, date(2026, 1, 20))
    assert rows[0].nights == 0 and rows[0].full_kwh == 0


# --- Savings ---------------------------------------------------------------------------------


def _full_night(day: date, watts: float, device: str = "streetlight-57038-001") -> None:
    """Reports every 15 minutes from sunset to sunrise at ``watts``."""
    start, end = sun.night(day, *POINT)
    at = start
    while at < end:
        state(at, watts, device=device)
        at += timedelta(minutes=15)


def test_savings_per_month_against_full_power(lamp, settings):
    settings.ALZETTE_LIGHTING_EUR_PER_KWH = 0.25
    _full_night(NIGHT, 25.0)  # dimmed to half all night
    _full_night(date(2025, 12, 20), 50.0)  # full power
    rows = services.savings("57038", 3, date(2026, 1, 31))
    assert [r.key for r in rows] == ["2025-11", "2025-12", "2026-01"]
    november, december, january = rows
    assert (november.nights, november.full_kwh, november.saved_share) == (0, 0, None)
    # The last report holds a little past sunrise: about nothing saved.
    assert december.saved_kwh == pytest.approx(0, abs=0.03)
    full = 50 * sun.night_hours(NIGHT, *POINT) / 1000
    assert january.full_kwh == pytest.approx(full, abs=0.002)
    assert january.actual_kwh == pytest.approx(full / 2, rel=0.03)
    assert january.saved_kwh == pytest.approx(january.full_kwh - january.actual_kwh, abs=0.002)
    assert january.saved_share == pytest.approx(0.5, abs=0.03)
    assert january.saved_eur == pytest.approx(january.saved_kwh * 0.25, abs=0.01)
    assert january.co2_kg == pytest.approx(january.saved_kwh * 0.052, abs=0.01)
    assert (january.lamps, january.nights, january.commune) == (1, 1, "57038")
    assert january.coverage == pytest.approx(1.0, abs=0.03)
    assert january.metered_kwh is None


def test_territory_savings_sum_the_communes(lamp):
    make_lamp("streetlight-54580-001", rating=100.0)
    state(T0, 50.0)
    state(T0, 60.0, device="streetlight-54580-001")
    per_commune = services.savings(None, 1, date(2026, 1, 20))
    assert [r.commune for r in per_commune] == ["54580", "57038"]
    territory = services.territory_savings(None, 1, date(2026, 1, 20))[0]
    assert territory.commune == ""
    assert territory.actual_kwh == pytest.approx(sum(r.actual_kwh for r in per_commune))
    assert territory.full_kwh == pytest.approx(sum(r.full_kwh for r in per_commune))
    assert territory.lamps == 2
    total = services.total(per_commune)
    assert total.saved_kwh == pytest.approx(territory.saved_kwh, abs=0.01)


def test_the_default_tariff_and_carbon_factor(settings):
    for name in ("ALZETTE_LIGHTING_EUR_PER_KWH", "ALZETTE_LIGHTING_KG_CO2_PER_KWH"):
        if hasattr(settings, name):
            delattr(settings, name)
    assert (services.eur_per_kwh(), services.kg_co2_per_kwh()) == (0.20, 0.052)


@pytest.mark.parametrize(("commune", "months"), [("5703", 12), ("57038", 0), (None, 37)])
def test_bad_parameters_are_refused(commune, months):
    with pytest.raises(ValueError):
        services.savings(commune, months)


# --- Partial nights: the reference covers what the reports cover -----------------------------


Gap = tuple[datetime, datetime]


def _reports(start: datetime, end: datetime, watts: float,
             skip: Gap | None = None) -> list[tuple[datetime, float]]:  # fmt: skip
    """Every 15 min from ``start`` while before ``end`` (none inside ``skip``), then 0 W
    at ``end``: the lamp switched off, so no hold runs past it."""
    found, at = [], start
    while at < end:
        if skip is None or not skip[0] <= at < skip[1]:
            found.append((at, watts))
        at += timedelta(minutes=15)
    return [*found, (end, 0.0)]


def _send(reports: list[tuple[datetime, float]], device: str) -> None:
    for at, watts in reports:
        assert isinstance(state(at, watts, device=device), LampReading)


def _saved_wh(device: str, night: date = NIGHT) -> float:
    row = LampNight.objects.get(lamp_id=services.lamp_id(device), night=night)
    return row.reference_wh - row.energy_wh


def test_half_a_night_dimmed_saves_half_what_a_whole_night_saves():
    make_lamp("streetlight-57038-001")
    make_lamp("streetlight-57038-002")
    sunset, sunrise = sun.night(NIGHT, *POINT)
    middle = sunset + (sunrise - sunset) / 2
    _send(_reports(sunset, sunrise, 25.0), "streetlight-57038-001")
    # The second lamp came online in the middle of the night: the same dimming, half the hours.
    _send(_reports(middle, sunrise, 25.0), "streetlight-57038-002")
    hours = sun.night_hours(NIGHT, *POINT)
    whole = night_row()
    assert whole.covered_hours == pytest.approx(hours, abs=1e-3)
    assert _saved_wh("streetlight-57038-001") == pytest.approx(25.0 * hours, abs=0.1)
    half = LampNight.objects.get(lamp_id=services.lamp_id("streetlight-57038-002"))
    assert half.covered_hours == pytest.approx(hours / 2, abs=1e-3)
    assert half.reference_wh == pytest.approx(50.0 * hours / 2, abs=0.1)
    assert half.night_hours == pytest.approx(hours, abs=1e-3)  # the night itself is whole
    # Before, the unreported first half counted as saved: 1.5 times the whole night's saving.
    assert _saved_wh("streetlight-57038-002") == pytest.approx(
        _saved_wh("streetlight-57038-001") / 2, rel=0.01
    )
    [month] = services.savings("57038", 1, date(2026, 1, 20))
    assert month.full_kwh == pytest.approx(50.0 * hours * 1.5 / 1000, abs=0.002)
    assert month.saved_kwh == pytest.approx(25.0 * hours * 1.5 / 1000, abs=0.002)
    assert month.saved_share == pytest.approx(0.5, abs=0.001)
    assert month.saved_eur == pytest.approx(month.saved_kwh * services.eur_per_kwh(), abs=0.01)
    assert month.coverage == pytest.approx(0.75, abs=0.001)
    assert month.covered_hours == pytest.approx(hours * 1.5, abs=0.01)
    assert month.night_hours == pytest.approx(hours * 2, abs=0.01)
    assert (month.nights, month.lamps, month.low_coverage) == (2, 2, False)


def test_a_three_hour_gap_mid_night_is_neither_used_nor_saved(lamp):
    sunset, sunrise = sun.night(NIGHT, *POINT)
    silent = sunset + timedelta(hours=6)  # the last report before the gap is 15 min earlier
    gap = (silent, silent + timedelta(hours=2, minutes=45))
    _send(_reports(sunset, sunrise, 25.0, skip=gap), "streetlight-57038-001")
    hours = sun.night_hours(NIGHT, *POINT)
    row = night_row()
    # 3 h between two reports; the first holds 30 min: 2 h 30 not covered.
    assert row.covered_hours == pytest.approx(hours - 2.5, abs=1e-3)
    assert row.reference_wh == pytest.approx(50.0 * (hours - 2.5), abs=0.1)
    assert row.energy_wh == pytest.approx(25.0 * (hours - 2.5), abs=0.1)
    assert _saved_wh("streetlight-57038-001") == pytest.approx(25.0 * (hours - 2.5), abs=0.1)
    [month] = services.savings("57038", 1, date(2026, 1, 20))
    assert month.coverage == pytest.approx((hours - 2.5) / hours, abs=1e-3)
    assert month.saved_share == pytest.approx(0.5, abs=0.001)


def test_a_few_reports_make_a_night_of_low_coverage_still_counted(lamp):
    state(T0, 20.0)
    state(T0 + timedelta(minutes=15), 0.0)
    row = night_row()
    assert row.covered_hours == pytest.approx(0.75)
    assert row.reference_wh == pytest.approx(50.0 * 0.75)
    [month] = services.savings("57038", 1, date(2026, 1, 20))
    assert month.nights == 1 and month.low_coverage
    assert month.saved_kwh == pytest.approx((50.0 * 0.75 - 20.0 * 0.25) / 1000, abs=0.001)
    assert month.coverage == pytest.approx(0.75 / sun.night_hours(NIGHT, *POINT), abs=1e-4)


def test_partial_nights_reported_out_of_order_give_the_same_figures():
    import random

    make_lamp("streetlight-57038-001")
    make_lamp("streetlight-57038-002")
    sunset, sunrise = sun.night(NIGHT, *POINT)
    late = sunset + timedelta(hours=2, minutes=10)  # came online late
    gap = (late + timedelta(hours=4), late + timedelta(hours=7))
    reports = _reports(late, sunrise - timedelta(hours=1), 30.0, skip=gap)
    reports[5:9] = [(at, 15.0) for at, _ in reports[5:9]]  # dimmed for an hour
    _send(reports, "streetlight-57038-001")
    shuffled = reports[:]
    random.Random(10).shuffle(shuffled)
    _send(shuffled, "streetlight-57038-002")
    fields = ("energy_wh", "hours_on", "covered_hours", "reports", "night_hours", "reference_wh")
    first, second = (
        LampNight.objects.filter(lamp_id=services.lamp_id(f"streetlight-57038-00{n}"))
        .values(*fields).get()
        for n in (1, 2)
    )  # fmt: skip
    assert second == pytest.approx(first)
    assert first["covered_hours"] < first["night_hours"] - 3


def test_the_migration_rebases_existing_rows_on_their_covered_hours():
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps

    migration = import_module(
        "alzette.territory.lighting.energy.migrations.0002_reference_over_covered_hours"
    )
    rows = LampNight.objects.using("territory")
    common = {"commune": "57038", "night": NIGHT, "energy_wh": 100.0, "night_hours": 15.0}
    rated = rows.create(lamp_id=LAMP, covered_hours=5.0, rating_w=50.0, reference_wh=750.0,
                        **common)  # fmt: skip
    unrated = rows.create(lamp_id=LAMP + "2", covered_hours=5.0, **common)
    editor = SimpleNamespace(connection=SimpleNamespace(alias="territory"))
    migration.rebase(apps, editor)
    rated.refresh_from_db()
    unrated.refresh_from_db()
    assert rated.reference_wh == pytest.approx(250.0) and unrated.reference_wh is None
    migration.whole_night(apps, editor)  # backwards
    rated.refresh_from_db()
    assert rated.reference_wh == pytest.approx(750.0)


# --- Cabinets --------------------------------------------------------------------------------


def meter(at: datetime, kwh, device: str = "cabinet-57038-1"):
    message = receivers.Message(ri=f"m{next(_ri)}", device=device, path=f"alzette/{device}/meter",
                                content={"energyConsumed": kwh, "totalActivePower": 1.0,
                                         "t": at.isoformat()}, created=at)  # fmt: skip
    return receivers.record_meter(message)


def test_cabinet_meters_are_a_cross_check_never_added(lamp):
    state(T0, 50.0)
    meter(T0 - timedelta(hours=1), 1000.0)
    meter(T0 + timedelta(hours=3), 1004.0)
    meter(T0 + timedelta(hours=1), 1001.5)  # out of order
    meter(T0 + timedelta(hours=5), 3.0)  # the meter was replaced: no negative step
    meter(T0 + timedelta(hours=6), 4.0)
    assert CabinetNight.objects.get().energy_kwh == pytest.approx(4.0 + 1.0)
    row = services.savings("57038", 1, date(2026, 1, 20))[0]
    assert row.metered_kwh == pytest.approx(5.0)
    assert row.cabinets == 1
    assert row.actual_kwh == pytest.approx(50 * 0.5 / 1000)


def test_impossible_meter_readings_are_quarantined(m2m):
    ae = m2m.register("cabinet-57038-1")
    m2m.container("alzette/cabinet-57038-1", "meter", ae["aei"])
    m2m.instance("alzette/cabinet-57038-1/meter", {"energyConsumed": -1}, ae["aei"])
    m2m.instance("alzette/cabinet-57038-1/meter", {"totalActivePower": 1}, ae["aei"])
    # No cabinet entity here: each message's entry says so too (unknown_device comes first).
    negative = QuarantinedMessage.objects.get(reason__contains="kWh is negative")
    assert negative.kind == "unknown_device" and "no StreetlightControlCabinet" in negative.reason
    # A report without an index (a fault, a power reading) is not an energy error.
    assert not QuarantinedMessage.objects.filter(reason__contains="energyConsumed (kWh)").exists()
    assert not CabinetNight.objects.exists()


# --- The refresh job -------------------------------------------------------------------------


def test_the_refresh_follows_a_new_rating_and_drops_old_readings(lamp):
    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    state(recent, 40.0)
    state(T0, 40.0)  # long ago: dropped, its night kept
    night = services.night_of(recent)
    before = LampNight.objects.get(night=night).reference_wh
    set_rating(100.0)
    summary = services.run_refresh()
    assert "lamp nights" in summary
    after = LampNight.objects.get(night=night)
    assert after.rating_w == 100.0 and after.reference_wh == pytest.approx(before * 2)
    assert LampReading.objects.count() == 1
    assert night_row().energy_wh == pytest.approx(20.0)
    # Older than the two months recomputed, the old night keeps its row: the reference
    # over its covered half hour at the rating of the time.
    assert night_row().reference_wh == pytest.approx(50.0 * 0.5)


def test_the_command_runs_the_refresh(lamp, capsys):
    call_command("lighting", "energy")
    assert "lighting energy:" in capsys.readouterr().out
