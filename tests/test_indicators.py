"""City indicators computed from entities written in the NGSI-LD store: values with their
figures, "not computable" with its reason, the registry setting and the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from alzette.territory.events import services as events
from alzette.territory.indicators import indicators
from alzette.territory.indicators.indicators import Indicator, Result
from alzette.territory.indicators.population import POPULATIONS, population
from alzette.territory.ngsild import batch, jsonld
from alzette.territory.ngsild.entities import Op
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
SDM = "https://smartdatamodels.org/context.jsonld"
PEOPLE = 28_875
YEAR = 2025


def _write(items, mode="upsert", at=None):
    op = Op(tenant="", ctx=jsonld.resolve(SDM), actor="system:test",
            now=at or datetime.now(UTC))  # fmt: skip
    result = batch.write(op, items, mode)
    assert not result.errors, result.errors


def _weighing(commune, kind, day, kg, **extra):
    return {
        "id": f"urn:ngsi-ld:WasteObserved:{commune}-{kind}-{day}",
        "type": "WasteObserved",
        "weight": {"type": "Property", "value": kg, "unitCode": "KGM"},
        "dateObserved": {"type": "Property", "value": f"{day[:4]}-{day[4:6]}-{day[6:]}T08:00:00Z"},
        **extra,
    }


def _series(entity_id, kind, attribute, points, unit=None):
    """An entity whose ``attribute`` takes the values ``points`` [(time, value)], one
    write per point so that the store keeps its history."""
    for n, (moment, value) in enumerate(points):
        prop = {"type": "Property", "value": value, "observedAt": moment.isoformat()}
        if unit:
            prop["unitCode"] = unit
        _write([{"id": entity_id, "type": kind, attribute: prop}],
               "create" if n == 0 else "update", at=moment)  # fmt: skip


def _hours(start, n, values):
    return [(start + timedelta(hours=i), value) for i, value in zip(range(n), values, strict=True)]


def test_the_population_is_the_eight_communes():
    assert len(POPULATIONS) == 8 and population() == PEOPLE
    assert population("57038") == 6_976


def test_every_indicator_says_what_how_and_from_what():
    found = indicators.registry()
    assert [item.slug for item in found] == [
        "waste-collected-per-capita",
        "waste-recycled",
        "renewable-energy-share",
        "street-lighting-energy",
        "water-consumption-per-capita",
        "illegal-dumping-reports",
    ]
    for item in found:
        assert item.title and item.unit and item.method and item.sources
    assert [item.slug for item in found if item.local] == ["illegal-dumping-reports"]
    assert found[0].reference == "ISO 37120:2018 16.2"


def test_nothing_is_computed_without_data():
    for item in indicators.registry():
        result = item.compute(YEAR)
        if item.slug == "illegal-dumping-reports":
            assert result.value == 0
        else:
            assert result.value is None and result.missing, item.slug


def test_waste_per_capita_and_share_recycled_from_weighings():
    _write([
        _weighing("57038", "household", "20250303", 9_000.0),
        _weighing("57038", "glass", "20250304", 1_500.0),
        _weighing("54580", "paper", "20250305", 1_000.0),
        _weighing("54580", "plastic", "20250306", 500.0),
        _weighing("54580", "household", "20240306", 99_999.0),  # another year
        {"id": "urn:ngsi-ld:WasteObserved:nonsense", "type": "WasteObserved",
         "weight": {"type": "Property", "value": 5_000.0}},  # not of the agreed form: skipped
    ])  # fmt: skip
    per_capita = indicators.WastePerCapita().compute(YEAR)
    assert per_capita.value == pytest.approx(12_000 / PEOPLE)
    recycled = indicators.WasteRecycled().compute(YEAR)
    assert recycled.value == pytest.approx(100 * 3_000 / 12_000)
    assert indicators.WasteRecycled().compute(2023).value is None
    with translation.override("en"):
        assert "4 weighings" in indicators.WastePerCapita().compute(YEAR).detail


def test_renewable_share_needs_the_territory_energy_use(settings):
    start = datetime(YEAR, 6, 1, 10, tzinfo=UTC)
    _series(
        "urn:ngsi-ld:GreenEnergyMeasurement:solar-1",
        "GreenEnergyMeasurement",
        "solarPowerGenerated",
        _hours(start, 3, [100.0, 100.0, 100.0]),
        unit="KWT",
    )
    result = indicators.RenewableEnergyShare().compute(YEAR)
    assert result.value is None and "200" in result.missing  # measured, but no denominator
    settings.ALZETTE_INDICATORS_ENERGY_USE_KWH = {YEAR: 1_000}
    assert indicators.RenewableEnergyShare().compute(YEAR).value == pytest.approx(20.0)
    assert indicators.RenewableEnergyShare().compute(YEAR - 1).value is None


# --- Street lighting: the energy page's own figures ------------------------------------------


def _lamp_night(night, commune="57038", lamp="001", wh=400.0, rating=50.0, covered=14.0):
    from alzette.territory.lighting.energy.models import LampNight

    LampNight.objects.using("territory").create(
        lamp_id=f"urn:ngsi-ld:Streetlight:streetlight-{commune}-{lamp}", commune=commune,
        night=night, energy_wh=wh, hours_on=covered, covered_hours=covered, reports=56,
        rating_w=rating, night_hours=14.0,
        reference_wh=None if rating is None else rating * covered,
    )  # fmt: skip


def _cabinet_night(night, kwh, commune="57038"):
    from alzette.territory.lighting.energy.models import CabinetNight

    CabinetNight.objects.using("territory").create(
        cabinet_id=f"urn:ngsi-ld:StreetlightControlCabinet:cabinet-{commune}-1",
        commune=commune, night=night, energy_kwh=kwh, readings=60,
    )  # fmt: skip


def test_street_lighting_is_the_energy_pages_lamp_energy():
    from alzette.territory.lighting.energy import services as energy

    _lamp_night(date(YEAR, 1, 10), wh=4_000.0)
    _lamp_night(date(YEAR, 7, 3), lamp="002", wh=1_500.0, covered=7.0)  # half a night reported
    _lamp_night(date(YEAR, 12, 31), commune="54580", wh=2_500.0, rating=100.0)
    _lamp_night(date(YEAR - 1, 12, 31), wh=99_000.0)  # the evening of another year
    _lamp_night(date(YEAR + 1, 1, 1), wh=99_000.0)
    _lamp_night(date(YEAR, 3, 1), lamp="009", wh=700.0, rating=None)  # no rating: left out
    _cabinet_night(date(YEAR, 1, 10), 12.5)  # a cross-check, never the value beside lamps
    result = indicators.StreetLightingEnergy().compute(YEAR)
    assert result.value == pytest.approx(8.0 / PEOPLE)
    months = energy.territory_savings(None, 12, date(YEAR, 12, 1))
    assert result.value * PEOPLE == pytest.approx(sum(m.actual_kwh for m in months))
    assert result.value * PEOPLE == pytest.approx(energy.year_total(YEAR).actual_kwh)
    found = indicators.street_lighting(YEAR)
    assert (found.source, found.lamp_nights, found.unrated) == ("lamps", 3, 1)
    assert found.metered_kwh == 12.5
    assert found.coverage == pytest.approx(35 / 42, abs=1e-4)
    # Per commune, the same figures as the page's per-commune table.
    for commune in ("57038", "54580"):
        per_month = energy.savings(commune, 12, date(YEAR, 12, 1))
        assert indicators.street_lighting(YEAR, commune).kwh == pytest.approx(
            sum(m.actual_kwh for m in per_month)
        )
    assert indicators.street_lighting(YEAR, "54580").kwh == pytest.approx(2.5)
    with translation.override("en"):
        detail = indicators.StreetLightingEnergy().compute(YEAR).detail
    assert "3 lamp-nights" in detail and "83 %" in detail and "1 lamp-nights" in detail


def test_street_lighting_agrees_with_the_energy_page_and_api(agent_audun, territory):
    """This year's nights: the indicator, the page (last 12 months) and the API (the months
    of this year) give the same kWh, for the territory and for a commune."""
    today = timezone.localdate()
    _lamp_night(date(today.year, 1, 1), wh=1_234.0)
    _lamp_night(today, lamp="002", wh=2_345.0, covered=5.0)
    _lamp_night(today, commune="54580", wh=3_456.0, rating=100.0)
    client = _client(agent_audun)
    found = indicators.street_lighting(today.year)
    page = client.get("/hypervision/lighting/energy/", {"months": "12"})
    assert page.status_code == 200
    assert found.kwh == pytest.approx(7.035)
    assert found.kwh == pytest.approx(page.context["totals"].actual_kwh)
    assert found.coverage == page.context["totals"].coverage
    for commune in ("", "57038", "54580"):
        api = client.get("/api/v1/lighting/energy", {"months": today.month, "commune": commune})
        assert api.status_code == 200, api.content
        kwh = sum(month["actual_kwh"] for month in api.json()["months"])
        assert indicators.street_lighting(today.year, commune or None).kwh == pytest.approx(kwh)
    value = indicators.StreetLightingEnergy().compute(today.year).value
    assert value == pytest.approx(7.035 / PEOPLE)


def test_street_lighting_from_the_cabinets_when_no_lamp_reported():
    _cabinet_night(date(YEAR, 2, 1), 300.0)
    _cabinet_night(date(YEAR, 2, 2), 200.0, commune="54580")
    result = indicators.StreetLightingEnergy().compute(YEAR)
    assert result.value == pytest.approx(500.0 / PEOPLE)
    assert indicators.street_lighting(YEAR).source == "cabinets"


def test_street_lighting_of_unrated_lamps_only_is_not_computable():
    _lamp_night(date(YEAR, 2, 1), wh=300.0, rating=None)
    result = indicators.StreetLightingEnergy().compute(YEAR)
    assert result.value is None and "1" in result.missing


def test_a_gap_in_power_samples_is_not_guessed():
    start = datetime(YEAR, 2, 1, 10, tzinfo=UTC)
    _series(
        "urn:ngsi-ld:GreenEnergyMeasurement:solar-2",
        "GreenEnergyMeasurement",
        "solarPowerGenerated",
        [(start, 1_000.0), (start + timedelta(hours=10), 1_000.0)],
        unit="KWT",
    )
    result = indicators.RenewableEnergyShare().compute(YEAR)
    assert result.value is None and result.missing


def test_water_per_capita_from_meter_readings():
    start = datetime(YEAR, 1, 1, 0, tzinfo=UTC)
    _series(
        "urn:ngsi-ld:WaterConsumptionObserved:m1",
        "WaterConsumptionObserved",
        "waterConsumption",
        [(start, 100), (start + timedelta(days=364), 105_500)],
    )
    _series(
        "urn:ngsi-ld:WaterConsumptionObserved:m2",
        "WaterConsumptionObserved",
        "waterConsumption",
        [(start + timedelta(days=3), 7)],
    )  # once: not counted
    result = indicators.WaterPerCapita().compute(YEAR)
    assert result.value == pytest.approx(105_400 * 1000 / PEOPLE / 365)


def test_dumping_reports_per_thousand(territory):
    from alzette.territory.waste.dumping import services

    for n in range(3):
        events.record_event(f"e{n}", "illegal_dump", 5.9583, 49.4742,
                            datetime(YEAR, 5, 1 + n).date(), "57038", ["bulky"])  # fmt: skip
    events.record_event("other", "illegal_dump", 5.9583, 49.4742, datetime(YEAR - 1, 5, 1).date(),
                        "57038", ["bulky"])  # fmt: skip
    services.report(lon=5.9583, lat=49.4742, categories=["green"],
                    observed_on=datetime(YEAR, 7, 1).date(), volume="small",
                    actor=services.Actor(agent=True, ref="b" * 32))  # fmt: skip
    result = indicators.DumpingReports().compute(YEAR)
    assert result.value == pytest.approx(4000 / PEOPLE)
    assert indicators.DumpingReports().compute(2999).value is None


class Constant(Indicator):
    slug = "constant"
    title = unit = method = "x"
    sources = ("none",)

    def compute(self, year: int) -> Result:
        return Result(float(year), "a detail")


def test_the_registry_setting(settings):
    settings.ALZETTE_INDICATORS = ["tests.test_indicators.Constant"]
    assert [item.slug for item in indicators.registry()] == ["constant"]
    settings.ALZETTE_INDICATORS = ["django.utils.timezone.now"]
    with pytest.raises(TypeError):
        indicators.registry()


# --- The page --------------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_agents_see_the_indicators_page(agent_audun):
    _write([_weighing("57038", "glass", "20250304", 1_500.0)])
    response = _client(agent_audun).get(f"/hypervision/indicators/?year={YEAR}")
    assert response.status_code == 200 and response.context["year"] == YEAR
    page = response.content.decode()
    assert 'id="indicator-waste-recycled" data-computable="true"' in page
    assert 'id="indicator-renewable-energy-share" data-computable="false"' in page
    assert "ISO 37120:2018 16.3" in page


def test_a_bad_year_is_refused_and_the_latest_shown(agent_audun):
    client = _client(agent_audun)
    for bad in ("1999", "next", "3000"):
        response = client.get(f"/hypervision/indicators/?year={bad}")
        assert response.status_code == 400
        assert response.context["year"] == datetime.now(UTC).year


def test_citizens_are_refused_and_visitors_sent_to_log_in(citizen, partner):
    assert _client(citizen).get("/hypervision/indicators/").status_code == 403
    assert _client(partner).get("/hypervision/indicators/").status_code == 403
    response = Client().get("/hypervision/indicators/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_public_copy_is_read_only_for_everyone():
    response = Client().get(f"/hypervision/indicators/public/?year={YEAR}")
    assert response.status_code == 200 and response.context["public"] is True
    assert Client().post("/hypervision/indicators/public/").status_code == 405
