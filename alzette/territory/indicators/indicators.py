"""City indicators (ISO 37120, ISO 37122 and local ones) computed from the territory's data.

Each indicator says what it measures, how, from which data, and computes a year's
value, or says why it cannot: an indicator never invents a figure nor fills a gap
with an estimate. The list shown is the setting ``ALZETTE_INDICATORS`` (dotted
paths of ``Indicator`` subclasses), ``DEFAULT_INDICATORS`` when unset.

ISO references give the standard and its clause as far as we could check them;
where only the theme is certain, the reference names the theme's section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.utils.formats import number_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alzette.territory.indicators import data
from alzette.territory.indicators.population import SOURCE as POPULATION_SOURCE
from alzette.territory.indicators.population import population

DEFAULT_INDICATORS = [
    "alzette.territory.indicators.indicators.WastePerCapita",
    "alzette.territory.indicators.indicators.WasteRecycled",
    "alzette.territory.indicators.indicators.RenewableEnergyShare",
    "alzette.territory.indicators.indicators.StreetLightingEnergy",
    "alzette.territory.indicators.indicators.WaterPerCapita",
    "alzette.territory.indicators.indicators.DumpingReports",
]


@dataclass(frozen=True)
class Result:
    value: float | None
    #: The figures behind the value, in a sentence (empty when not computable).
    detail: str = ""
    #: Why there is no value (empty when there is one).
    missing: str = ""

    @property
    def computable(self) -> bool:
        return self.value is not None


def missing(reason: str) -> Result:
    return Result(None, "", reason)


def _n(value: float, decimals: int = 0) -> str:
    return number_format(round(value, decimals), decimals, force_grouping=True)


class Indicator:
    slug: ClassVar[str]
    #: "ISO 37120:2018 16.2", "ISO 37122:2019 …", or "" for a local indicator.
    reference: ClassVar[str] = ""
    title: ClassVar[Any]
    unit: ClassVar[Any]
    method: ClassVar[Any]
    #: What it reads: NGSI-LD types, territory tables, reference datasets.
    sources: ClassVar[tuple[str, ...]] = ()
    decimals: ClassVar[int] = 1

    def compute(self, year: int) -> Result:
        raise NotImplementedError

    @property
    def local(self) -> bool:
        return not self.reference


def registry() -> list[Indicator]:
    """The indicators of the setting ``ALZETTE_INDICATORS``, in its order."""
    paths = getattr(settings, "ALZETTE_INDICATORS", None) or DEFAULT_INDICATORS
    return [_load(path)() for path in paths]


@cache
def _load(path: str) -> type[Indicator]:
    found = import_string(path)
    if not (isinstance(found, type) and issubclass(found, Indicator)):
        raise TypeError(f"{path} is not an Indicator.")
    return found


def get(slug: str) -> Indicator | None:
    return next((item for item in registry() if item.slug == slug), None)


# --- Solid waste -----------------------------------------------------------------------------

RECYCLED_KINDS = frozenset({"glass", "paper", "plastic", "metal", "packaging", "cardboard"})
_WASTE_ID = re.compile(r"^(?P<commune>\d[\dAB]\d{3})-(?P<kind>[a-z0-9_-]+)-(?P<day>\d{8})$")


@dataclass(frozen=True)
class Weighed:
    commune: str
    kind: str
    day: date
    kg: float


def weighed(year: int) -> list[Weighed]:
    """WasteObserved weights of ``year``, from entities
    ``urn:ngsi-ld:WasteObserved:<commune>-<kind>-<yyyymmdd>`` (weight in kg)."""
    found = []
    for entity in data.entities("WasteObserved"):
        match = _WASTE_ID.match(entity.entity_id.rsplit(":", 1)[-1])
        weight = entity.values.get("weight")
        if not match or not isinstance(weight, int | float) or isinstance(weight, bool):
            continue
        day = _day(entity.values.get("dateObserved")) or _day(match["day"])
        kind = entity.values.get("wasteKind") or match["kind"]
        if day is not None and day.year == year:
            kg = float(weight) * (1000.0 if entity.units.get("weight") == "TNE" else 1.0)
            found.append(Weighed(match["commune"], str(kind), day, kg))
    return found


def _day(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    digits = text[:10].replace("-", "")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


class WastePerCapita(Indicator):
    slug = "waste-collected-per-capita"
    reference = "ISO 37120:2018 16.2"
    title = _("Municipal solid waste collected per inhabitant")
    unit = _("kg per inhabitant per year")
    method = _(
        "The net weights of every collection of the year (WasteObserved entities: one per "
        "commune, kind of waste and day, weight in kilograms), summed, divided by the legal "
        "population of the territory. ISO 37120 expresses it in tonnes; kilograms read better."
    )
    sources = (_("NGSI-LD WasteObserved (weight, dateObserved)"), POPULATION_SOURCE)
    decimals = 0

    def compute(self, year: int) -> Result:
        found = weighed(year)
        if not found:
            return missing(
                gettext("No waste weight was observed this year (no WasteObserved entity).")
            )
        total, people = sum(item.kg for item in found), population()
        return Result(
            total / people,
            gettext("%(kg)s kg from %(n)s weighings; %(people)s inhabitants.")
            % {"kg": _n(total), "n": _n(len(found)), "people": _n(people)},
        )


class WasteRecycled(Indicator):
    slug = "waste-recycled"
    reference = "ISO 37120:2018 16.3"
    title = _("Share of solid waste recycled")
    unit = _("percent of the weight collected")
    method = _(
        "The weight of the year's collections of sorted recyclables (glass, paper, "
        "cardboard, plastic, metal, packaging) divided by the weight of every collection of "
        "the year, from the WasteObserved entities. Waste sorted but then rejected at the "
        "sorting centre is not known here and counts as recycled."
    )
    sources = (_("NGSI-LD WasteObserved (weight, kind of waste)"),)

    def compute(self, year: int) -> Result:
        found = weighed(year)
        total = sum(item.kg for item in found)
        if total <= 0:
            return missing(
                gettext("No waste weight was observed this year (no WasteObserved entity).")
            )
        recycled = sum(item.kg for item in found if item.kind in RECYCLED_KINDS)
        return Result(
            100 * recycled / total,
            gettext("%(part)s kg recycled of %(kg)s kg collected.")
            % {"part": _n(recycled), "kg": _n(total)},
        )


# --- Energy ----------------------------------------------------------------------------------

GREEN_POWERS = (
    "solarPowerGenerated",
    "eolicPowerGenerated",
    "hydroPowerGenerated",
    "geothermalPowerGenerated",
    "biomassPowerGenerated",
)


def energy_use_kwh(year: int) -> float | None:
    """The territory's total final energy use of ``year`` (kWh), from the setting
    ``ALZETTE_INDICATORS_ENERGY_USE_KWH`` ({year: kWh}, the energy observatory's figure)."""
    figures = getattr(settings, "ALZETTE_INDICATORS_ENERGY_USE_KWH", {}) or {}
    value = figures.get(year, figures.get(str(year)))
    return float(value) if value else None


def _generated_kwh(year: int) -> tuple[float, int]:
    """Renewable energy generated in ``year`` (kWh) and the number of series read."""
    start, end = data.year_bounds(year)
    measured = list(data.entities("GreenEnergyMeasurement"))
    total, series = 0.0, 0
    for name in GREEN_POWERS:
        history = data.samples([item.entity_id for item in measured], name, start, end)
        for entity in measured:
            factor = data.POWER_UNITS.get(entity.units.get(name, "KWT"), 1.0)
            kwh = data.energy_kwh(history.get(entity.entity_id, []), factor)
            if kwh is not None:
                total += kwh
                series += 1
    return total, series


class RenewableEnergyShare(Indicator):
    slug = "renewable-energy-share"
    reference = "ISO 37120:2018, 7 (energy)"
    title = _("Share of energy from renewable sources")
    unit = _("percent of the territory's final energy use")
    method = _(
        "Energy generated by the renewable installations of the territory (GreenEnergyMeasurement "
        "entities: solar, wind, hydro, geothermal and biomass power, integrated over time; gaps "
        "over two hours are left out) divided by the territory's total final energy use of the "
        "year, a yearly figure the energy observatory provides (setting "
        "ALZETTE_INDICATORS_ENERGY_USE_KWH)."
    )
    sources = (
        _("NGSI-LD GreenEnergyMeasurement (power generated, history)"),
        _("NGSI-LD GreenEnergyGenerator"),
        _("Total final energy use of the territory (energy observatory, yearly)"),
    )

    def compute(self, year: int) -> Result:
        generated, series = _generated_kwh(year)
        if not series:
            return missing(
                gettext(
                    "No renewable generation was measured this year "
                    "(no GreenEnergyMeasurement history)."
                )
            )
        used = energy_use_kwh(year)
        if used is None:
            return missing(
                gettext(
                    "%(kwh)s kWh of renewable energy were measured, but the "
                    "territory's total energy use of the year is not known."
                )
                % {"kwh": _n(generated)}
            )
        return Result(
            100 * generated / used,
            gettext("%(part)s kWh renewable of %(total)s kWh used.")
            % {"part": _n(generated), "total": _n(used)},
        )


@dataclass(frozen=True)
class LightingYear:
    """Street lighting of a year as the energy page counts it (lighting.energy)."""

    kwh: float | None  # None: nothing measured
    source: str  # "lamps", "cabinets" or ""
    lamp_nights: int
    coverage: float | None
    metered_kwh: float | None
    cabinets: int
    unrated: int  # lamp-nights left out: no powerRating


def street_lighting(year: int, commune: str | None = None) -> LightingYear:
    """The year's street lighting electricity, read from the energy page's own figures
    (``lighting.energy.services.year_total``) so that the indicator and the page agree:
    the lamps' energy used when some lamp reported, else the cabinets' meters."""
    from alzette.territory.lighting.energy import services as energy

    found = energy.year_total(year, commune)
    unrated = energy.unrated_nights(year, commune)
    if found.nights:
        kwh, source = found.actual_kwh, "lamps"
    elif found.metered_kwh is not None:
        kwh, source = found.metered_kwh, "cabinets"
    else:
        kwh, source = None, ""
    return LightingYear(kwh, source, found.nights, found.coverage, found.metered_kwh,
                        found.cabinets, unrated)  # fmt: skip


class StreetLightingEnergy(Indicator):
    slug = "street-lighting-energy"
    reference = "ISO 37122:2019, 7 (energy)"
    title = _("Street lighting electricity per inhabitant")
    unit = _("kWh per inhabitant per year")
    method = _(
        "Electricity used by street lighting in the year divided by the legal population, "
        "exactly as the street lighting energy page counts it: the energy the streetlights "
        "report using, integrated per lamp and night (a report holds 30 minutes at most), "
        "summed over the nights of the year. Hours no report covers are not counted, so the "
        "share of the night covered by reports is given with the value. Lamps without a rated "
        "power are left out, as on the page. When no lamp reported in the year, the control "
        "cabinets' meters are used instead."
    )
    sources = (
        _("Street lighting energy: lamp-nights from the streetlights' own reports"),
        _("Street lighting energy: control cabinets' meters"),
        POPULATION_SOURCE,
    )

    def compute(self, year: int) -> Result:
        found = street_lighting(year)
        if found.kwh is None and found.unrated:
            return missing(
                gettext(
                    "%(n)s lamp-nights were reported, but none of their lamps has a rated "
                    "power: the energy page leaves them out, and so does this indicator."
                )
                % {"n": _n(found.unrated)}
            )
        if found.kwh is None:
            return missing(
                gettext(
                    "No street lighting consumption was measured this year "
                    "(no streetlight report nor cabinet meter reading)."
                )
            )
        people = population()
        return Result(found.kwh / people, _lighting_detail(found, people))


def _lighting_detail(found: LightingYear, people: int) -> str:
    if found.source == "cabinets":
        detail = gettext("%(kwh)s kWh metered by %(n)s cabinets; %(people)s inhabitants.") % {
            "kwh": _n(found.kwh or 0), "n": found.cabinets, "people": _n(people)}  # fmt: skip
    else:
        detail = gettext(
            "%(kwh)s kWh reported by the streetlights over %(nights)s lamp-nights, "
            "%(coverage)s %% of the night hours covered by reports; %(people)s inhabitants."
        ) % {"kwh": _n(found.kwh or 0), "nights": _n(found.lamp_nights),
             "coverage": _n(100 * (found.coverage or 0)), "people": _n(people)}  # fmt: skip
    if found.unrated:
        detail += " " + gettext(
            "%(n)s lamp-nights of lamps without a rated power are left out."
        ) % {"n": _n(found.unrated)}
    return detail


# --- Water -----------------------------------------------------------------------------------


class WaterPerCapita(Indicator):
    slug = "water-consumption-per-capita"
    reference = "ISO 37120:2018, 21 (water)"
    title = _("Water consumption per inhabitant")
    unit = _("litres per inhabitant per day")
    method = _(
        "The rise over the year of every water meter reading (WaterConsumptionObserved "
        "waterConsumption, a cumulative volume in m³), summed, in litres, divided by the "
        "legal population and by the days of the year. Meters that reported once or never in "
        "the year are not counted; the value is as complete as the meters are."
    )
    sources = (_("NGSI-LD WaterConsumptionObserved (waterConsumption, history)"), POPULATION_SOURCE)
    decimals = 0

    def compute(self, year: int) -> Result:
        start, end = data.year_bounds(year)
        meters = [item.entity_id for item in data.entities("WaterConsumptionObserved")]
        readings = data.samples(meters, "waterConsumption", start, end)
        counted = {key: points for key, points in readings.items() if len(points) > 1}
        if not counted:
            return missing(
                gettext(
                    "No water meter reported twice this year (no WaterConsumptionObserved history)."
                )
            )
        cubic = sum(data.increase(points) for points in counted.values())
        days, people = (end - start).days, population()
        return Result(
            cubic * 1000 / people / days,
            gettext("%(m3)s m³ read on %(n)s meters; %(people)s inhabitants.")
            % {"m3": _n(cubic), "n": len(counted), "people": _n(people)},
        )


# --- Local indicators ------------------------------------------------------------------------


class DumpingReports(Indicator):
    slug = "illegal-dumping-reports"
    reference = ""
    title = _("Illegal dumping reports per 1,000 inhabitants")
    unit = _("reports per 1,000 inhabitants per year")
    method = _(
        "A local indicator, not an ISO one: the illegal dumps reported in the year by "
        "citizens (online procedure) and by agents, per 1,000 inhabitants of the legal "
        "population. More reports may mean more dumping or more reporting."
    )
    sources = (
        _("Territory events illegal_dump (citizens' reports, anonymised by the bridge)"),
        _("Agents' dumping reports"),
        POPULATION_SOURCE,
    )

    def compute(self, year: int) -> Result:
        from alzette.territory.waste.dumping import services

        if year > date.today().year:
            return missing(gettext("This year has not begun."))
        start, end = data.year_bounds(year)
        found = [
            view for view in services.reports(since=start.date()) if view.observed_on < end.date()
        ]
        people = population()
        citizens = sum(1 for view in found if view.source == "citizen")
        return Result(
            1000 * len(found) / people,
            gettext("%(n)s reports (%(citizens)s by citizens); %(people)s inhabitants.")
            % {"n": len(found), "citizens": citizens, "people": _n(people)},
        )
