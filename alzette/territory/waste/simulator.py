"""``alzette simulate waste``: the waste devices of the territory, alive.

Household bins fill with the week's rhythm and report their level and battery;
collection trucks lift them on their commune's collection day and report each
RFID tag read; drop-point columns are opened by badges and fill; the recycling
centre's skips fill with visits, whose vehicles pass the gate through the
personal API; agents now and then report an illegal dump. Devices follow the
platform's conventions (docs/waste.md, docs/simulators.md) and, when the
context holds the demo's WasteContainers, are exactly those (ids, RFID tags,
capacities, kinds, fill levels); otherwise a consistent fleet is generated.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from alzette.core.simulators import (
    Action,
    ApiCall,
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

DEFAULT_BINS = 48
DEFAULT_CENTRE = "audun"

#: Residual waste a person throws away, litres a day (about 0.5 kg).
LITRES_PER_PERSON_DAY = {"organic": 1.2, "default": 4.5}
#: Bulk density of what is in a bin, kg per litre.
DENSITY = {"organic": 0.35, "default": 0.11}
#: More after the weekend and on it (Monday = 0).
WEEKDAY_FACTOR = (1.3, 0.95, 0.9, 0.9, 1.0, 1.2, 1.3)
#: When rubbish is thrown away, by local hour (the mean is 1).
HOUR_WEIGHT = (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.9, 1.6, 1.4, 1.0, 0.9, 1.1,
               1.4, 1.2, 0.9, 0.8, 0.9, 1.2, 1.8, 2.2, 1.9, 1.4, 0.8, 0.4)  # fmt: skip
_HOUR_MEAN = sum(HOUR_WEIGHT) / 24
COLLECTION_START, COLLECTION_END = 6, 12  # local hours
#: Drop points: litres per deposit and column capacity (litres).
DEPOSIT_LITRES = {"glass": 4.0, "paper": 6.0, "plastic": 8.0}
COLUMN_LITRES = 4000.0
#: Centre opening hours, local: (weekday set, [(from, to), ...]).
CENTRE_DAYS = {0, 1, 2, 3, 4, 5}
CENTRE_HOURS = ((9, 12), (14, 18))
SKIP_LITRES = 30000.0
#: The personal API the centre's gate calls (docs/households.md).
GATE_API = "/api/v1/waste/centres"

FILL = Container("fill", mni=2500, mia=90 * 86400, labels=("fill",))
BATTERY = Container("battery", mni=400, mia=365 * 86400, labels=("battery",))
LIFTS = Container("lifts", mni=5000, mia=7 * 86400, labels=("lifts",))
#: Badges are near-personal: an opening is kept a day (the waste app keeps its own
#: anonymous ``Opening`` row, the households app the badge's count).
OPENINGS = Container("openings", mni=1000, mia=86400, labels=("openings",))

_BIN = re.compile(r"^bin-(\d[0-9AB]\d{3})-(\d+)$")
_PAV = re.compile(r"^pav-(\d[0-9AB]\d{3})-(\d+)-(glass|paper|plastic)$")
_SKIP = re.compile(r"^skip-([a-z0-9-]+)-(\d+)$")


def collection_weekday(commune: str) -> int:
    """The weekday (Monday = 0) household bins of ``commune`` are collected: its INSEE
    code modulo 5, so Monday to Friday; every run agrees on it."""
    digits = re.sub(r"\D", "", commune) or "0"
    return int(digits) % 5


def generated_rfid(bin_id: str) -> str:
    """The tag of a bin the context does not describe: the demo's (``waste.demo.rfid_tag``),
    so that a fleet generated here matches a demo elsewhere."""
    try:
        from alzette.territory.waste.demo import rfid_tag
    except ImportError:
        return f"E280{zlib.crc32(bin_id.encode()):08X}{zlib.crc32(bin_id[::-1].encode()):08X}00"
    return rfid_tag(bin_id)


@dataclass
class Bin:
    id: str  # bin-57038-001, the AE's name
    commune: str
    rfid: str
    capacity: float  # litres
    kind: str  # storedWasteKind
    level: float
    battery: float
    persons: float
    phase: int  # minute of the hour it reports at
    daily: float = 1.0  # today's variation


@dataclass
class Column:
    id: str  # pav-57038-01-glass
    kind: str
    level: float
    phase: int
    popularity: float
    capacity: float = COLUMN_LITRES


@dataclass
class Skip:
    id: str  # skip-audun-1
    centre: str
    level: float
    phase: int
    capacity: float = SKIP_LITRES


@dataclass
class Lift:
    at: datetime
    truck: str
    bin: Bin


@dataclass
class Fleet:
    bins: list[Bin] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    source: str = "generated"


class WasteSimulator(Simulator):
    name = "waste"
    originators = ("Cbin-*", "Cpav-*", "Cskip-*", "Ctruck-*")
    help = (
        "household bins (fill, battery), collection trucks (RFID lifts), drop points "
        "(fill, badge openings), the recycling centre (skips, gate), dumping reports"
    )

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--trucks", type=int, default=2, help="collection trucks (2)")
        parser.add_argument(
            "--centre", default="", help="recycling centre's slug (the context's, else audun)"
        )
        parser.add_argument(
            "--faults",
            type=float,
            default=0.0,
            help="share of impossible messages (fill > 1, unknown tag) to exercise "
            "quarantine, e.g. 0.002 (default 0)",
        )
        parser.add_argument(
            "--no-centre", action="store_true", help="no centre visits through the gate API"
        )
        parser.add_argument("--no-dumping", action="store_true", help="no agents' dumping reports")

    # --- Setup ----------------------------------------------------------------------

    def setup(self, start: datetime) -> list[Device]:
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.fleet = self._fleet()
        self.trucks = [f"truck-{n}" for n in range(1, max(1, self.options.get("trucks") or 2) + 1)]
        self.centre = self.options.get("centre") or _centre_slug() or DEFAULT_CENTRE
        self.faults = max(0.0, float(self.options.get("faults") or 0.0))
        self.badges = self._badges()
        self.known_badges = list(self.env.badges(self.centre))
        self.previous = start
        self.day: date | None = None
        self.lifts: list[Lift] = []
        self.inside: list[datetime] = []  # exits due of vehicles let in
        self.gate_key = None
        if not self.options.get("no_centre"):
            self.gate_key = self.env.gate_key(self.centre)
            if self.gate_key is None:
                self.env.notes.append(
                    f"no gate key for centre {self.centre}: visits are not sent to its gate "
                    "(pass --gate-key)"
                )
        self._points: dict[str, tuple[float, float]] | None = None
        self.dumping = None if self.options.get("no_dumping") else _dumping_services()
        if self.dumping is None and not self.options.get("no_dumping"):
            self.env.notes.append("dumping reports skipped: the dumping app is not available")
        devices = [Device(b.id, (FILL, BATTERY), "Nalzette-bin", ("waste", "bin", b.commune))
                   for b in self.fleet.bins]  # fmt: skip
        devices += [Device(c.id, (FILL, OPENINGS), "Nalzette-pav", ("waste", "droppoint"))
                    for c in self.fleet.columns]  # fmt: skip
        devices += [Device(s.id, (FILL,), "Nalzette-skip", ("waste", "skip", s.centre))
                    for s in self.fleet.skips]  # fmt: skip
        devices += [Device(t, (LIFTS,), "Nalzette-truck", ("waste", "truck"))
                    for t in self.trucks]  # fmt: skip
        return devices

    def _fleet(self) -> Fleet:
        fleet = _context_fleet(self)
        if not fleet.bins:
            fleet = _generated_fleet(self, self.devices or DEFAULT_BINS)
        if self.devices is not None:
            fleet.bins = spread(
                fleet.bins, self.devices, group=attrgetter("commune"), order=attrgetter("id")
            )
            fleet.columns = fleet.columns[: max(3, self.devices // 8)]
        return fleet

    def _badges(self) -> list[str]:
        rng = self.random("badges")
        return [f"B{rng.getrandbits(32):08X}" for _ in range(200)]

    def _badge(self, rng: Any) -> str:
        """Half the time a badge the households app knows (when it names some)."""
        if self.known_badges and rng.random() < 0.5:
            return rng.choice(self.known_badges)
        return rng.choice(self.badges)

    # --- Steps --------------------------------------------------------------------

    def step(self, now: datetime, live: bool) -> list[Message]:
        out: list[Message] = []
        local = now.astimezone(self.tz)
        if local.date() != self.day:
            self.day = local.date()
            self._plan_day(local.date())
        hours = (now - self.previous).total_seconds() / 3600
        out += self._bins(now, local, hours)
        out += self._trucks(now)
        out += self._columns(now, local, hours)
        out += self._centre(now, local, hours, live)
        out += self._dumping(now, local, hours, live)
        self.previous = now
        return out

    def _plan_day(self, day: date) -> None:
        rng = self.random(f"day:{day.isoformat()}")
        for b in self.fleet.bins:
            b.daily = math.exp(rng.gauss(0, 0.3))
        self.lifts = [lift for lift in self.lifts if lift.at.date() >= day]
        communes = sorted({b.commune for b in self.fleet.bins
                           if collection_weekday(b.commune) == day.weekday()})  # fmt: skip
        start = datetime(day.year, day.month, day.day, COLLECTION_START, tzinfo=self.tz)
        span = (COLLECTION_END - COLLECTION_START) * 3600
        for n, commune in enumerate(communes):
            truck = self.trucks[n % len(self.trucks)]
            shared = [
                c for i, c in enumerate(communes) if i % len(self.trucks) == n % len(self.trucks)
            ]
            offset = shared.index(commune) / len(shared)
            bins = [b for b in self.fleet.bins if b.commune == commune]
            for i, b in enumerate(bins):
                position = offset + (i + rng.random() * 0.5) / len(bins) / len(shared)
                self.lifts.append(Lift(start + timedelta(seconds=span * position), truck, b))
        self.lifts.sort(key=lambda lift: lift.at)

    def _rate(self, b: Bin, local: datetime) -> float:
        """Fill per hour now (fraction of the bin)."""
        kind = "organic" if b.kind == "organic" else "default"
        litres_day = b.persons * LITRES_PER_PERSON_DAY[kind] * b.daily
        litres_day *= WEEKDAY_FACTOR[local.weekday()]
        return litres_day * HOUR_WEIGHT[local.hour] / _HOUR_MEAN / 24 / b.capacity

    def _bins(self, now: datetime, local: datetime, hours: float) -> list[Message]:
        out: list[Message] = []
        for b in self.fleet.bins:
            b.level += self._rate(b, local) * hours
            b.battery = max(0.0, b.battery - 0.0008 * hours / 24)
            if crossed(self.previous, now, 60, b.phase):
                out.append(Reading(b.id, "fill", {"level": self._measure(b.id, b.level),
                                                  "t": iso(now)}))  # fmt: skip
            if crossed(self.previous, now, 1440, b.phase * 23):
                out.append(Reading(b.id, "battery", {"level": round(b.battery, 3), "t": iso(now)}))
        return out

    def _measure(self, key: str, level: float) -> float:
        rng = self.random(f"noise:{key}:{self.previous.isoformat()}")
        if self.faults and rng.random() < self.faults:
            return round(1.2 + rng.random(), 3)  # a sensor gone mad: quarantined
        return round(min(1.0, max(0.0, level + rng.gauss(0, 0.015))), 3)

    def _trucks(self, now: datetime) -> list[Message]:
        out: list[Message] = []
        rng = self.random(f"lifts:{now.isoformat()}")
        while self.lifts and self.lifts[0].at <= now:
            lift = self.lifts.pop(0)
            b = lift.bin
            if lift.at <= self.previous - timedelta(hours=1):
                continue  # planned before the run started
            out_today = (
                b.level > 0.6 or (b.level > 0.25 and rng.random() < 0.9) or (rng.random() < 0.2)
            )
            if not out_today:
                continue
            kind = "organic" if b.kind == "organic" else "default"
            weight = min(b.level, 1.05) * b.capacity * DENSITY[kind] * rng.uniform(0.85, 1.15)
            tag = b.rfid
            if self.faults and rng.random() < self.faults:
                tag = f"E2FF{rng.getrandbits(64):016X}0000"  # a tag nobody knows: quarantined
            lifted = {"tag": tag, "weight": round(max(weight, 0.3), 1), "t": iso(lift.at)}
            out.append(Reading(lift.truck, "lifts", lifted))
            b.level = rng.uniform(0.0, 0.02)
            out.append(Reading(b.id, "fill", {"level": round(b.level, 3), "t": iso(now)}))
        return out

    def _columns(self, now: datetime, local: datetime, hours: float) -> list[Message]:
        out: list[Message] = []
        rng = self.random(f"columns:{now.isoformat()}")
        daytime = 8 <= local.hour < 20
        per_hour = (1.2 if daytime else 0.05) * (1.6 if local.weekday() == 5 else 1.0)
        per_hour *= 0.5 if local.weekday() == 6 else 1.0
        for c in self.fleet.columns:
            for _ in range(poisson(rng, per_hour * c.popularity * hours)):
                at = self.previous + (now - self.previous) * rng.random()
                c.level += DEPOSIT_LITRES[c.kind] * rng.uniform(0.3, 1.5) / c.capacity
                out.append(Reading(c.id, "openings", {"badge": self._badge(rng),
                                                      "t": iso(at)}))  # fmt: skip
            emptied = (
                local.weekday() < 5 and c.level >= 0.75 and crossed(self.previous, now, 1440, 600)
            )
            if emptied:
                c.level = rng.uniform(0.0, 0.04)
            if emptied or crossed(self.previous, now, 120, c.phase):
                out.append(Reading(c.id, "fill", {"level": self._measure(c.id, c.level),
                                                  "t": iso(now)}))  # fmt: skip
        return out

    def _open(self, local: datetime) -> bool:
        return local.weekday() in CENTRE_DAYS and any(
            start <= local.hour < end for start, end in CENTRE_HOURS
        )

    def _centre(self, now: datetime, local: datetime, hours: float, live: bool) -> list[Message]:
        out: list[Message] = []
        rng = self.random(f"centre:{now.isoformat()}")
        visits = 0
        if self._open(local):
            visits = poisson(rng, (14.0 if local.weekday() == 5 else 6.0) * hours)
        for _ in range(visits):
            if self.fleet.skips:
                skip = rng.choice(self.fleet.skips)
                skip.level += rng.uniform(150, 600) / skip.capacity
            if live and self.gate_key:
                out.append(self._access(rng, now))
        if live and self.gate_key:
            while self.inside and self.inside[0] <= now:
                self.inside.pop(0)
                headers = {"X-Gate-Key": self.gate_key}
                path = f"{GATE_API}/{self.centre}/exit"
                out.append(ApiCall("POST", path, headers=headers, label="centre exit"))
        for s in self.fleet.skips:
            swapped = s.level >= 0.9 and self._open(local) and rng.random() < hours
            if swapped:
                s.level = 0.0
            if swapped or crossed(self.previous, now, 60, s.phase):
                out.append(Reading(s.id, "fill", {"level": self._measure(s.id, s.level),
                                                  "t": iso(now)}))  # fmt: skip
        return out

    def _access(self, rng: Any, now: datetime) -> ApiCall:
        if rng.random() < 0.3:
            card = {"plate": f"{rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}-"
                             f"{rng.randrange(100, 999)}-{rng.choice('JKLMNPQR')}"
                             f"{rng.choice('STUVWXYZ')}"}  # fmt: skip
        else:
            card = {"badge": self._badge(rng)}
        stay = timedelta(minutes=rng.uniform(8, 25))

        def answered(status: int, body: Any) -> None:
            if status == 200 and isinstance(body, dict) and body.get("allowed"):
                self.inside.append(now + stay)
                self.inside.sort()

        return ApiCall("POST", f"{GATE_API}/{self.centre}/access", body=card,
                       headers={"X-Gate-Key": self.gate_key or ""}, label="centre access",
                       on_response=answered)  # fmt: skip

    def _dumping(self, now: datetime, local: datetime, hours: float, live: bool) -> list[Message]:
        if self.dumping is None or not self.fleet.bins:
            return []
        rng = self.random(f"dumping:{now.isoformat()}")
        # About one agent's report every two days, in working hours.
        if not (8 <= local.hour < 18 and local.weekday() < 5):
            return []
        if rng.random() >= hours / 20:
            return []
        near = rng.choice(self.fleet.bins)
        if self._points is None:
            self._points = _bin_points()
        point = self._points.get(near.id)
        if point is None:
            return []
        lon, lat = point[0] + rng.uniform(-0.003, 0.003), point[1] + rng.uniform(-0.002, 0.002)
        categories = rng.sample(
            ["bulky", "rubble", "green", "household", "other"], rng.randint(1, 2)
        )
        volume = rng.choice(["small", "small", "medium", "large"])
        services = self.dumping
        observed_on = local.date()

        def report() -> None:
            agent = services.Actor(agent=True, ref="system:simulator")
            services.report(lon=lon, lat=lat, categories=categories, observed_on=observed_on,
                            volume=volume, actor=agent)  # fmt: skip

        return [Action("dumping report", report)]


# --- Helpers -----------------------------------------------------------------------


def _new_bin(sim: Simulator, bin_id: str, commune: str, **known: Any) -> Bin:
    rng = sim.random(f"bin:{bin_id}")
    capacity = known.get("capacity") or rng.choice([120.0, 120.0, 180.0, 240.0, 240.0, 360.0])
    persons = max(1.0, capacity / 60 * rng.uniform(0.6, 1.3))
    battery = rng.uniform(0.08, 0.2) if rng.random() < 0.05 else rng.uniform(0.55, 1.0)
    level = known.get("level")
    return Bin(
        id=bin_id, commune=commune, rfid=known.get("rfid") or generated_rfid(bin_id),
        capacity=float(capacity), kind=known.get("kind") or "inorganic",
        level=float(level) if isinstance(level, int | float) else rng.uniform(0.05, 0.7),
        battery=battery, persons=persons, phase=rng.randrange(60),
    )  # fmt: skip


def _context_fleet(sim: Simulator) -> Fleet:
    """The WasteContainers of the context (the demo's), when there are any."""
    try:
        from alzette.territory.ngsild.models import Entity
        from alzette.territory.waste import services

        rows = list(
            Entity.objects.using(services.DB)
            .filter(tenant=services.TENANT, entity_id__startswith=services.ENTITY_PREFIX)
            .order_by("entity_id")
        )
    except Exception:
        return Fleet()
    fleet = Fleet(source="context")
    for row in rows:
        name = row.entity_id.rsplit(":", 1)[-1]
        body = row.body
        level = services.attribute_value(body, "fillingLevel")
        if found := _BIN.match(name):
            kind = services.attribute_value(body, "storedWasteKind")
            fleet.bins.append(_new_bin(
                sim, name, found.group(1), rfid=_text(services.attribute_value(body, "RFID")),
                capacity=_positive(services.attribute_value(body, "binCapacity")),
                kind=kind[0] if isinstance(kind, list) and kind else kind, level=level,
            ))  # fmt: skip
        elif found := _PAV.match(name):
            rng = sim.random(f"pav:{name}")
            known = level if isinstance(level, int | float) else rng.uniform(0, 0.6)
            capacity = _positive(services.attribute_value(body, "binCapacity"))
            fleet.columns.append(Column(
                name, found.group(3), known, rng.randrange(120),
                rng.uniform(0.5, 1.5), capacity or COLUMN_LITRES,
            ))  # fmt: skip
        elif found := _SKIP.match(name):
            rng = sim.random(f"skip:{name}")
            known = level if isinstance(level, int | float) else rng.uniform(0, 0.6)
            capacity = _positive(services.attribute_value(body, "binCapacity"))
            fleet.skips.append(Skip(name, found.group(1), known, rng.randrange(60),
                                    capacity or SKIP_LITRES))  # fmt: skip
    return fleet


def _generated_fleet(sim: Simulator, bins: int) -> Fleet:
    communes = commune_codes()
    fleet = Fleet()
    per_commune = math.ceil(bins / len(communes))
    for commune in communes:
        for n in range(1, per_commune + 1):
            fleet.bins.append(_new_bin(sim, f"bin-{commune}-{n:03d}", commune))
    for commune in communes:
        rng = sim.random(f"pav:{commune}")
        for kind in ("glass", "paper", "plastic"):
            fleet.columns.append(Column(f"pav-{commune}-01-{kind}", kind, rng.uniform(0, 0.6),
                                        rng.randrange(120), rng.uniform(0.5, 1.5)))  # fmt: skip
    rng = sim.random("skips")
    fleet.skips = [Skip(f"skip-{DEFAULT_CENTRE}-{n}", DEFAULT_CENTRE, rng.uniform(0, 0.6),
                        rng.randrange(60)) for n in range(1, 5)]  # fmt: skip
    fleet.bins = spread(fleet.bins, bins, group=attrgetter("commune"), order=attrgetter("id"))
    return fleet


def _bin_points() -> dict[str, tuple[float, float]]:
    try:
        from alzette.territory.waste import services

        return {v.short_id: (v.lon, v.lat) for v in services.containers("bin")}
    except Exception:
        return {}


def _centre_slug() -> str:
    try:
        from alzette.territory.waste.models import Centre

        return (
            Centre.objects.using("territory")
            .order_by("slug")
            .values_list("slug", flat=True)
            .first()
            or ""
        )
    except Exception:
        return ""


def _dumping_services() -> Any:
    try:
        from alzette.territory.waste.dumping import services
    except ImportError:
        return None
    return services if hasattr(services, "report") and hasattr(services, "Actor") else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _positive(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None
