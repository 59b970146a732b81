"""City indicators computed from entities written in the NGSI-LD store: values with their
figures, "not computable" with its reason, the registry setting and the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import translation

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


def test_street_lighting_from_cabinet_meters_or_from_lamp_power():
    start = datetime(YEAR, 1, 10, 18, tzinfo=UTC)
    _series(
        "urn:ngsi-ld:Streetlight:lamp-1",
        "Streetlight",
        "powerConsumption",
        _hours(start, 3, [50.0, 50.0, 50.0]),
    )  # watts, two hours: 0.1 kWh
    lamps = indicators.StreetLightingEnergy().compute(YEAR)
    assert lamps.value == pytest.approx(0.1 / PEOPLE)
    _series("urn:ngsi-ld:StreetlightControlCabinet:c1", "StreetlightControlCabinet",
            "energyConsumed", [(start, 1_000.0), (start + timedelta(days=30), 4_000.0),
                               (start + timedelta(days=60), 100.0),  # meter replaced
                               (start + timedelta(days=90), 2_100.0)])  # fmt: skip
    cabinets = indicators.StreetLightingEnergy().compute(YEAR)
    assert cabinets.value == pytest.approx(5_000 / PEOPLE)


def test_a_gap_in_power_samples_is_not_guessed():
    start = datetime(YEAR, 2, 1, tzinfo=UTC)
    _series(
        "urn:ngsi-ld:Streetlight:lamp-2",
        "Streetlight",
        "powerConsumption",
        [(start, 1_000.0), (start + timedelta(hours=10), 1_000.0)],
    )
    assert indicators.StreetLightingEnergy().compute(YEAR).value is None


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
