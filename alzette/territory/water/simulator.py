"""``alzette simulate water``: the water network of the territory, alive.

Household meters (``hmeter-<serial>``) count what their household draws, hour by
hour: a daily profile with morning and evening peaks (later on weekends), 120 to
150 litres a person a day, households of one to five, garden watering on summer
evenings, holidays without any use, and now and then a leak that runs every hour
until it is fixed. District inflow meters (``dmeter-<slug>``) see what their
households draw, plus the district's meters that are not simulated, the uses
without a household meter and the network's own leakage, highest at night when
the pressure rises; a burst main raises the night minimum and the balance.
Pressure and quality sensors report what a French drinking-water network shows.
Devices follow the water conventions (docs/water.md, docs/simulators.md) and,
when the context holds the demo's districts and meters, are exactly those;
otherwise a consistent fleet is generated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import CommandError

from alzette.core.simulators import (
    Container,
    Device,
    Message,
    Reading,
    Simulator,
    crossed,
    iso,
    poisson,
    spread,
)
from alzette.territory.geo.services import commune_codes

#: Communes served by two districts in a generated fleet (the demo's rule).
TWO_DISTRICTS = ("57038", "54580")
DEFAULT_METERS = 60
SERIAL_PREFIX = "W26-"
INFLOW_PREFIX = "urn:ngsi-ld:WaterConsumptionObserved:district-"
PRESSURE_PREFIX = "urn:ngsi-ld:DeviceMeasurement:pressure-"
QUALITY_PREFIX = "urn:ngsi-ld:WaterQualityObserved:quality-"

#: When water is drawn, by local hour (weights): weekdays peak 6-9 h and 18-22 h.
WEEKDAY_HOURS = (0.3, 0.2, 0.15, 0.15, 0.2, 0.6, 2.2, 3.0, 2.2, 1.2, 0.9, 0.9,
                 1.1, 1.0, 0.7, 0.7, 0.8, 1.1, 1.8, 2.3, 2.2, 1.6, 0.9, 0.5)  # fmt: skip
#: Weekends: the morning peak two hours later, more at midday.
WEEKEND_HOURS = (0.4, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 1.0, 2.2, 2.8, 2.4, 1.6,
                 1.4, 1.1, 0.8, 0.8, 0.9, 1.1, 1.7, 2.1, 2.0, 1.6, 1.0, 0.6)  # fmt: skip
#: A little more at home on weekends (the week's mean stays 1).
DAY_FACTOR = {False: 0.98, True: 1.05}
#: Uses without a household meter (hydrants, flushing, fountains): daytime.
UNMETERED_HOURS = (0, 0, 0, 0, 0, 0, 0.3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.6, 0.3, 0.2, 0, 0)
#: Draws: (share, litres from, litres to): a tap, a flush, a shower or bath, a machine.
DRAWS = ((0.50, 1.0, 5.0), (0.30, 6.0, 9.0), (0.12, 35.0, 80.0), (0.08, 12.0, 60.0))
MEAN_DRAW = sum(share * (low + high) / 2 for share, low, high in DRAWS)
#: Persons per household (French shares of 1 to 5 persons).
PERSONS = ((1, 0.35), (2, 0.33), (3, 0.14), (4, 0.12), (5, 0.06))
#: A household that is not simulated (the district's other meters), litres a day.
MEAN_HOUSEHOLD_LITRES = 2.2 * 135.0
#: Household leaks: litres an hour (a dripping tap to a running toilet).
LEAK_RATE = (5.0, 40.0)
#: Burst mains: litres an hour.
BURST_RATE = (1000.0, 6000.0)
FORCED_BURST_RATE = (2500.0, 5000.0)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

#: An index is near-personal: kept a day in the CSE (the water app keeps its own).
INDEX = Container("index", mni=100, mia=86400, labels=("water", "index"))
FLOW = Container("flow", mni=10000, mia=90 * 86400, labels=("water", "flow"))
PRESSURE = Container("pressure", mni=10000, mia=90 * 86400, labels=("water", "pressure"))
QUALITY = Container("quality", mni=5000, mia=180 * 86400, labels=("water", "quality"))

_SLUG = re.compile(r"^(\d[0-9AB]\d{3})-(\d{1,2})$")


@dataclass
class Leak:
    start: datetime
    end: datetime | None  # None: still running
    rate: float  # litres an hour

    def litres(self, a: datetime, b: datetime) -> float:
        """Litres it lets through in (a, b]."""
        low = max(a, self.start)
        high = b if self.end is None else min(b, self.end)
        return self.rate * max(0.0, (high - low).total_seconds() / 3600)

    def running(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass
class Household:
    serial: str  # W26-000001; the AE is hmeter-<serial>
    commune: str
    district: str | None
    persons: int
    litres_pp: float  # litres a person a day
    garden: bool
    phase: int  # minute of the hour it reports at
    volume: float  # litres through the meter (the index is its integer part)
    known_at: datetime | None = None  # the platform's last reading: report after it
    leak: Leak | None = None
    hours: dict[datetime, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def device(self) -> str:
        return f"hmeter-{self.serial}"


@dataclass
class District:
    slug: str  # 57038-1
    commune: str
    households: list[Household] = field(default_factory=list)
    others: int = 0  # the district's meters that are not simulated
    inflow: bool = True  # which devices it has
    pressure: bool = True
    quality: bool = True
    phase: int = 0  # minute of the quarter-hour its devices report at
    volume: float = 0.0  # litres through the inflow meter
    known_at: datetime | None = None
    background: float = 0.0  # the network's own leakage at base pressure, L/h
    base_bar: float = 4.0
    bursts: list[Leak] = field(default_factory=list)
    last_at: datetime | None = None  # the inflow meter's previous report
    last_volume: float = 0.0
    ph: float = 7.6
    conductivity: float = 550.0
    turbidity: float = 0.25
    chlorine: float = 0.25
    warmer: float = 0.0


@dataclass
class Fleet:
    districts: dict[str, District] = field(default_factory=dict)
    households: list[Household] = field(default_factory=list)
    source: str = "generated"


class WaterSimulator(Simulator):
    name = "water"
    originators = ("Cdmeter-*", "Cpressure-*", "Cquality-*", "Chmeter-*")
    help = (
        "household meters (hourly index, daily profiles, leaks), district inflow meters "
        "(flow, burst mains), pressure and quality sensors"
    )

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument(
            "--leaks", type=float, default=0.03,
            help="share of household meters that develop a continuous leak (0.03)",
        )  # fmt: skip
        parser.add_argument(
            "--leak-meter", "--leak", dest="leak", action="append", default=[],
            metavar="SERIAL",
            help="this household meter leaks from the start (repeatable)",
        )  # fmt: skip
        parser.add_argument(
            "--network-leaks", type=float, default=0.02,
            help="probability, per district and day, that a main bursts (0.02)",
        )  # fmt: skip
        parser.add_argument(
            "--network-leak", action="append", default=[], metavar="DISTRICT",
            help="a main of this district (57038-1) is burst from the start (repeatable)",
        )  # fmt: skip
        parser.add_argument(
            "--faults", type=float, default=0.0,
            help="share of impossible messages (negative flow, pH 15, an index going "
            "backwards) to exercise quarantine, e.g. 0.002 (default 0)",
        )  # fmt: skip

    # --- Setup ----------------------------------------------------------------------

    def setup(self, start: datetime) -> list[Device]:
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.leaks = _share(self.options.get("leaks"), "--leaks", 0.03)
        self.network_leaks = _share(self.options.get("network_leaks"), "--network-leaks", 0.02)
        self.faults = _share(self.options.get("faults"), "--faults", 0.0)
        self.unmetered = float(getattr(settings, "ALZETTE_WATER_UNMETERED_M3_PER_DAY", 2.0)) * 1000
        self.fleet = self._fleet()
        self.previous = start
        self.day: date = start.astimezone(self.tz).date()
        self.holidays: dict[tuple[str, int], list[tuple[date, date]]] = {}
        self._leaks(start)
        for d in self.fleet.districts.values():
            self._background(d)
            d.last_at, d.last_volume = start, d.volume
            for day in range(6, -1, -1):  # bursts that may still run at the start
                self._plan_bursts(d, self.day - timedelta(days=day))
        for slug in self.options.get("network_leak") or []:
            d = self.fleet.districts.get(slug)
            if d is None:
                known = ", ".join(sorted(self.fleet.districts)) or "none"
                raise CommandError(f"--network-leak: no district {slug!r} (known: {known})")
            rng = self.random(f"forced-burst:{slug}")
            d.bursts.append(Leak(start - HOUR, None, rng.uniform(*FORCED_BURST_RATE)))
        devices = [Device(h.device, (INDEX,), "Nalzette-hmeter", ("water", "hmeter"))
                   for h in self.fleet.households]  # fmt: skip
        for d in self.fleet.districts.values():
            labels = ("water", d.slug)
            if d.inflow:
                devices.append(Device(f"dmeter-{d.slug}", (FLOW,), "Nalzette-dmeter",
                                      (*labels, "dmeter")))  # fmt: skip
            if d.pressure:
                devices.append(Device(f"pressure-{d.slug}", (PRESSURE,), "Nalzette-pressure",
                                      (*labels, "pressure")))  # fmt: skip
            if d.quality:
                devices.append(Device(f"quality-{d.slug}", (QUALITY,), "Nalzette-quality",
                                      (*labels, "quality")))  # fmt: skip
        return devices

    def _fleet(self) -> Fleet:
        fleet = _context_fleet(self)
        if not fleet.districts:
            fleet = _generated_fleet(self, self.devices or DEFAULT_METERS)
        elif self.devices is not None:
            chosen = {
                h.serial
                for h in spread(
                    fleet.households,
                    self.devices,
                    group=lambda h: h.district or "",
                    order=attrgetter("serial"),
                )
            }
            for d in fleet.districts.values():
                kept = [h for h in d.households if h.serial in chosen]
                d.others += len(d.households) - len(kept)
                d.households = kept
            fleet.households = [h for h in fleet.households if h.serial in chosen]
        return fleet

    def _leaks(self, start: datetime) -> None:
        """Which meters leak, from when, until when: some already at the start, some
        fixed after days; ``--leak`` meters from the start, for good."""
        forced = set(self.options.get("leak") or [])
        known = {h.serial for h in self.fleet.households}
        if unknown := sorted(forced - known):
            raise CommandError(f"--leak-meter: no simulated household meter {', '.join(unknown)}")
        for h in self.fleet.households:
            rng = self.random(f"leak:{h.serial}")
            chance, rate = rng.random(), rng.uniform(*LEAK_RATE)
            if h.serial in forced:
                h.leak = Leak(start - 2 * DAY, None, rate)
            elif chance < self.leaks:
                begins = start + timedelta(hours=rng.uniform(-72, 96))
                fixed = rng.random() < 0.5
                ends = begins + timedelta(hours=rng.uniform(24, 192)) if fixed else None
                h.leak = Leak(begins, ends, rate)

    def _background(self, d: District) -> None:
        """The network's own leakage: 6 to 14 per cent of the district's mean demand."""
        rng = self.random(f"network:{d.slug}")
        litres = sum(h.persons * h.litres_pp for h in d.households)
        litres += d.others * MEAN_HOUSEHOLD_LITRES + self.unmetered
        d.background = max(5.0, litres / 24 * rng.uniform(0.06, 0.14))

    def _plan_bursts(self, d: District, day: date) -> None:
        rng = self.random(f"burst:{d.slug}:{day.isoformat()}")
        if not self.network_leaks or rng.random() >= self.network_leaks:
            return
        begins = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(
            seconds=rng.uniform(0, 86400)
        )
        ends = begins + timedelta(hours=rng.uniform(24, 144))
        d.bursts.append(Leak(begins.astimezone(UTC), ends.astimezone(UTC),
                             rng.uniform(*BURST_RATE)))  # fmt: skip

    # --- Households -------------------------------------------------------------------

    def away(self, h: Household, day: date) -> bool:
        """The household is away that day (summer or winter holidays, a weekend away)."""
        for year in (day.year, day.year - 1):
            key = (h.serial, year)
            if key not in self.holidays:
                rng = self.random(f"holidays:{h.serial}:{year}")
                periods = []
                if rng.random() < 0.6:
                    first = date(year, 7, 1) + timedelta(days=rng.randrange(50))
                    periods.append((first, first + timedelta(days=rng.randint(7, 21))))
                if rng.random() < 0.25:
                    first = date(year, 12, 19) + timedelta(days=rng.randrange(7))
                    periods.append((first, first + timedelta(days=rng.randint(5, 10))))
                self.holidays[key] = periods
            if any(first <= day < last for first, last in self.holidays[key]):
                return True
        if day.weekday() >= 5:
            saturday = day - timedelta(days=day.weekday() - 5)
            rng = self.random(f"weekend:{h.serial}:{saturday.isoformat()}")
            return rng.random() < 0.06
        return False

    def day_litres(self, h: Household, day: date) -> float:
        """What the household draws that day (indoors), litres; 0 when away."""
        if self.away(h, day):
            return 0.0
        rng = self.random(f"day:{h.serial}:{day.isoformat()}")
        spread = 0.12
        variation = math.exp(rng.gauss(-spread * spread / 2, spread))
        return h.persons * h.litres_pp * variation * DAY_FACTOR[day.weekday() >= 5]

    def _hour(self, h: Household, hour: datetime) -> list[tuple[float, float]]:
        """The draws of one (UTC) hour: (seconds into the hour, litres)."""
        found = h.hours.get(hour)
        if found is not None:
            return found
        if len(h.hours) > 6:
            for old in sorted(h.hours)[:-3]:
                del h.hours[old]
        local = hour.astimezone(self.tz)
        day = local.date()
        weights = WEEKEND_HOURS if day.weekday() >= 5 else WEEKDAY_HOURS
        expected = self.day_litres(h, day) * weights[local.hour] / sum(weights)
        rng = self.random(f"use:{h.serial}:{iso(hour)}")
        draws = []
        for _ in range(poisson(rng, expected / MEAN_DRAW)):
            draws.append((rng.uniform(0, 3600), _draw(rng)))
        if h.garden and 5 <= day.month <= 9 and not self.away(h, day):
            garden = self.random(f"garden:{h.serial}:{day.isoformat()}")
            chance = 0.35 if 6 <= day.month <= 8 else 0.15
            if garden.random() < chance and local.hour == garden.choice((7, 20, 20, 21)):
                draws.append((garden.uniform(0, 1800), garden.uniform(150, 500)))
        h.hours[hour] = draws
        return draws

    def household_use(self, h: Household, a: datetime, b: datetime) -> float:
        """Litres through the meter in (a, b]: the draws and the leak."""
        litres = h.leak.litres(a, b) if h.leak else 0.0
        hour = a.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        while hour < b:
            for offset, amount in self._hour(h, hour):
                if a < hour + timedelta(seconds=offset) <= b:
                    litres += amount
            hour += HOUR
        return litres

    # --- Steps --------------------------------------------------------------------

    def step(self, now: datetime, live: bool) -> list[Message]:
        out: list[Message] = []
        local = now.astimezone(self.tz)
        if local.date() != self.day:
            self.day = local.date()
            for d in self.fleet.districts.values():
                self._plan_bursts(d, self.day)
        hours = (now - self.previous).total_seconds() / 3600
        drawn: dict[str | None, float] = {}
        for h in self.fleet.households:
            litres = self.household_use(h, self.previous, now)
            drawn[h.district] = drawn.get(h.district, 0.0) + litres
            if h.known_at is None or now > h.known_at:
                h.volume += litres
                if crossed(self.previous, now, 60, h.phase):
                    out.append(Reading(h.device, "index", self._index(h, now)))
        for d in self.fleet.districts.values():
            if d.known_at is None or now > d.known_at:
                d.volume += drawn.get(d.slug, 0.0) + self._district_litres(d, local, hours)
                d.volume += sum(b.litres(self.previous, now) for b in d.bursts)
            out += self._district(d, now, local)
        self.previous = now
        return out

    def _district_litres(self, d: District, local: datetime, hours: float) -> float:
        """What enters besides the simulated households: the district's other meters
        (a mean household), uses without a meter, the network's leakage."""
        weekend = local.weekday() >= 5
        weights = WEEKEND_HOURS if weekend else WEEKDAY_HOURS
        summer = 1.1 if 6 <= local.month <= 8 else 1.0
        per_hour = d.others * MEAN_HOUSEHOLD_LITRES * DAY_FACTOR[weekend] * summer
        per_hour *= weights[local.hour] / sum(weights)
        per_hour += self.unmetered * UNMETERED_HOURS[local.hour] / sum(UNMETERED_HOURS)
        per_hour += d.background * self._bar(d, local) / d.base_bar
        return per_hour * hours

    def _bar(self, d: District, local: datetime) -> float:
        """Pressure without noise: higher at night when demand drops, lower at the peaks."""
        weights = WEEKEND_HOURS if local.weekday() >= 5 else WEEKDAY_HOURS
        demand = weights[local.hour] / (sum(weights) / 24)
        return d.base_bar + 0.4 * (1 - min(demand, 2.5))

    def _district(self, d: District, now: datetime, local: datetime) -> list[Message]:
        out: list[Message] = []
        t = iso(now)
        if crossed(self.previous, now, 15, d.phase):
            rng = self.random(f"flow:{d.slug}:{t}")
            span = max((now - (d.last_at or self.previous)).total_seconds() / 3600, 1 / 60)
            flow = max(0.0, (d.volume - d.last_volume) / span * rng.gauss(1, 0.015))
            d.last_at, d.last_volume = now, d.volume
            reading = {"index": round(d.volume / 1000, 3), "flow": round(flow, 1), "t": t}
            if self._fault(rng):
                reading["flow"] = -round(flow + rng.uniform(50, 500), 1)
            if d.inflow and (d.known_at is None or now > d.known_at):
                out.append(Reading(f"dmeter-{d.slug}", "flow", reading))
        if d.pressure and crossed(self.previous, now, 15, (d.phase + 5) % 15):
            rng = self.random(f"pressure:{d.slug}:{t}")
            burst = sum(0.3 + b.rate / 10000 for b in d.bursts if b.running(now))
            bar = max(0.5, self._bar(d, local) - burst + rng.gauss(0, 0.03))
            if self._fault(rng):
                bar = rng.choice((-1.0, rng.uniform(17, 40)))
            out.append(Reading(f"pressure-{d.slug}", "pressure", {"bar": round(bar, 2), "t": t}))
        if d.quality and crossed(self.previous, now, 60, d.phase * 3 + 7):
            out.append(Reading(f"quality-{d.slug}", "quality", self._quality(d, now, local)))
        return out

    def _index(self, h: Household, now: datetime) -> dict[str, Any]:
        rng = self.random(f"index:{h.serial}:{iso(now)}")
        index = int(h.volume)
        if self._fault(rng):
            index -= rng.randint(5000, 50000)  # backwards (or negative): quarantined
        return {"index": index, "t": iso(now)}

    def _quality(self, d: District, now: datetime, local: datetime) -> dict[str, Any]:
        rng = self.random(f"quality:{d.slug}:{iso(now)}")
        season = math.sin(2 * math.pi * (local.timetuple().tm_yday - 110) / 365.25)
        turbidity = d.turbidity + abs(rng.gauss(0, 0.04))
        hour = now.replace(minute=0, second=0, microsecond=0)
        for back in range(4):  # a spike (works, a flush, a storm) lasts up to four hours
            spike = self.random(f"turbidity:{d.slug}:{iso(hour - HOUR * back)}")
            if spike.random() < 0.003 and back < spike.randint(1, 4):
                turbidity += spike.uniform(1.0, 4.5) * (0.6**back)
        chlorine = d.chlorine + 0.03 * math.cos(2 * math.pi * (local.hour - 14) / 24)
        content = {
            "temperature": round(12.0 + 5.5 * season + d.warmer + rng.gauss(0, 0.1), 1),
            "pH": round(d.ph + rng.gauss(0, 0.03), 2),
            "conductivity": round(d.conductivity + rng.gauss(0, 8)),
            "turbidity": round(turbidity, 2),
            "freeChlorine": round(max(0.05, chlorine + rng.gauss(0, 0.01)), 2),
            "t": iso(now),
        }
        if self._fault(rng):
            content["pH"] = round(rng.uniform(14.5, 16.0), 1)
        return content

    def _fault(self, rng: Any) -> bool:
        return bool(self.faults) and rng.random() < self.faults


# --- Fleets -------------------------------------------------------------------------


def _new_household(sim: Simulator, serial: str, commune: str, district: str | None,
                   **known: Any) -> Household:  # fmt: skip
    rng = sim.random(f"household:{serial}")
    pick, share, persons = rng.random(), 0.0, 1
    for persons, part in PERSONS:  # noqa: B007 - the last one when the shares round short
        share += part
        if pick < share:
            break
    index = known.get("index")
    return Household(
        serial=serial, commune=commune, district=district, persons=persons,
        litres_pp=rng.uniform(120, 150), garden=rng.random() < 0.4, phase=rng.randrange(60),
        volume=float(index) if isinstance(index, int | float) and index >= 0
        else float(rng.randint(20_000, 400_000)),
        known_at=known.get("at"),
    )  # fmt: skip


def _new_district(sim: Simulator, slug: str, **known: Any) -> District:
    rng = sim.random(f"district:{slug}")
    volume = known.get("index_m3")
    bar = known.get("bar")
    return District(
        slug=slug, commune=slug.split("-", 1)[0], phase=rng.randrange(15),
        volume=(float(volume) if isinstance(volume, int | float) and volume >= 0
                else float(rng.randint(20_000, 90_000))) * 1000,
        known_at=known.get("at"),
        base_bar=float(bar) if isinstance(bar, int | float) and 2 <= bar <= 7
        else rng.uniform(3.2, 4.6),
        ph=_within(known.get("pH"), 6.8, 8.4) or rng.uniform(7.2, 7.9),
        conductivity=_within(known.get("conductivity"), 200, 1000) or rng.uniform(450, 650),
        turbidity=rng.uniform(0.1, 0.35), chlorine=rng.uniform(0.15, 0.35),
        warmer=rng.uniform(-0.8, 0.8),
    )  # fmt: skip


def _context_fleet(sim: Simulator) -> Fleet:
    """The districts' devices and the household meters of the context (the demo's)."""
    try:
        from django.db.models import Q

        from alzette.territory.ngsild.models import Entity
        from alzette.territory.water import services
        from alzette.territory.water.models import Meter

        rows = list(
            Entity.objects.using(services.DB)
            .filter(tenant=services.TENANT)
            .filter(
                Q(entity_id__startswith=INFLOW_PREFIX)
                | Q(entity_id__startswith=PRESSURE_PREFIX)
                | Q(entity_id__startswith=QUALITY_PREFIX)
            )
            .order_by("entity_id")
        )
        meters = list(
            Meter.objects.using(services.DB)
            .filter(removed_on=None)
            .select_related("district")
            .order_by("serial")
        )
    except Exception:
        return Fleet()
    fleet = Fleet(source="context")
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        prefix, slug = next((p, row.entity_id[len(p):]) for p in
                            (INFLOW_PREFIX, PRESSURE_PREFIX, QUALITY_PREFIX)
                            if row.entity_id.startswith(p))  # fmt: skip
        if not _SLUG.match(slug):
            continue
        known = found.setdefault(slug, {"kinds": set()})
        known["kinds"].add(prefix)
        try:
            if prefix == INFLOW_PREFIX:
                known["index_m3"] = services.value(row.body, "inflowIndex")
                known["at"] = services.observed(row.body, "inflowIndex")
                if not isinstance(known["index_m3"], int | float):
                    known["index_m3"] = services.value(row.body, "waterConsumption")
            elif prefix == PRESSURE_PREFIX:
                known["bar"] = services.value(row.body, "numValue")
            else:
                known["pH"] = services.value(row.body, "pH")
                known["conductivity"] = services.value(row.body, "conductivity")
        except Exception:  # noqa: S112 - an entity we cannot read keeps random values
            continue
    for slug, known in sorted(found.items()):
        kinds = known.pop("kinds")
        d = _new_district(sim, slug, **known)
        d.inflow = INFLOW_PREFIX in kinds
        d.pressure = PRESSURE_PREFIX in kinds
        d.quality = QUALITY_PREFIX in kinds
        fleet.districts[slug] = d
    for meter in meters:
        slug = meter.district.slug if meter.district is not None else None
        h = _new_household(sim, meter.serial, meter.commune,
                           slug if slug in fleet.districts else None,
                           index=meter.last_index, at=meter.last_at)  # fmt: skip
        fleet.households.append(h)
        if h.district is not None:
            fleet.districts[h.district].households.append(h)
    return fleet


def _generated_fleet(sim: Simulator, meters: int) -> Fleet:
    """Eight communes, one or two districts each, ``meters`` household meters with the
    demo's serials (``W26-000001``...), spread over the communes in turn."""
    communes = commune_codes()
    fleet = Fleet()
    by_commune: dict[str, list[str]] = {}
    for code in communes:
        for n in range(1, (2 if code in TWO_DISTRICTS else 1) + 1):
            slug = f"{code}-{n}"
            fleet.districts[slug] = _new_district(sim, slug)
            by_commune.setdefault(code, []).append(slug)
    counts: dict[str, int] = {}
    for n in range(1, meters + 1):
        code = communes[(n - 1) % len(communes)]
        k = counts[code] = counts.get(code, -1) + 1
        slugs = by_commune[code]
        h = _new_household(sim, f"{SERIAL_PREFIX}{n:06d}", code, slugs[k % len(slugs)])
        fleet.households.append(h)
        fleet.districts[h.district or ""].households.append(h)
    return fleet


# --- Helpers -----------------------------------------------------------------------


def _share(value: Any, option: str, default: float) -> float:
    number = default if value is None else value
    if not isinstance(number, int | float) or not 0 <= number <= 1:
        raise CommandError(f"{option} must be a share between 0 and 1, not {value!r}")
    return float(number)


def _within(value: Any, low: float, high: float) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    return float(value) if ok else None


def _draw(rng: Any) -> float:
    """Litres of one draw: a tap, a flush, a shower or bath, a machine."""
    pick, share = rng.random(), 0.0
    low, high = DRAWS[-1][1:]
    for part, first, last in DRAWS:
        share += part
        if pick < share:
            low, high = first, last
            break
    return rng.uniform(low, high)
