"""``alzette simulate lighting``: the territory's streetlights and their cabinets, alive.

Each lamp is a oneM2M AE that takes commands (docs/lighting-commands.md): it
registers request-reachable, grants the lighting application (``Clighting``)
create and retrieve on its ``cmd`` container and subscribes to it. A command
reaching it is applied at once: the lamp acknowledges in ``ack`` and reports its
new ``state``. Without commands a lamp follows its photocell (on at sunset, off
at sunrise, ``lighting.sun``); a command holds until the next sunset or sunrise.
A few lamps ignore commands or answer with a driver fault; lamps fail now and
then and are repaired days later; a cabinet's breaker may trip, its lamps then
going dark and silent until a technician resets it hours later. A lamp or cabinet
whose repair an agent closes in the platform (``lighting.repairs``) works again at
once. Cabinets report their meter (energy, active power).

A lamp reports the Smart Data Models ``powerState`` ``on`` at more than
``LOW_LEVEL`` of its full power, ``low`` when dimmed to that or less, ``off``
at 0.

LED power is taken as roughly linear in the dimming level: ``powerRating *
level`` plus 0.5 W for the driver when on (real drivers are a little less
efficient at low levels; the error is a few percent).

When the context holds Streetlight and StreetlightControlCabinet entities (the
demo's), the fleet is exactly those; otherwise one is generated over the
communes (docs/simulators.md, "Street lighting").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from alzette.core.simulators import (
    Container,
    Device,
    Message,
    Reading,
    Simulator,
    crossed,
    iso,
    spread,
)
from alzette.territory.geo.services import commune_codes

DEFAULT_LAMPS = 48
#: Lamps per cabinet in a generated fleet.
LAMPS_PER_CABINET = 12
#: Rated powers of a generated fleet (W): mostly LED, a few old sodium lamps.
RATINGS = (30.0, 40.0, 40.0, 50.0, 60.0, 60.0, 70.0, 90.0, 150.0)
#: The driver's own consumption when the lamp is on (W).
STANDBY_W = 0.5
#: The application allowed to command the lamps (its AE-ID).
COMMANDER = "Clighting"
#: Minutes between state reports, at night and by day; between meter reports.
NIGHT_REPORT, DAY_REPORT, METER_REPORT = 15, 60, 15
#: A failed lamp is repaired after this many days (uniformly drawn).
REPAIR_DAYS = (1.0, 5.0)
#: Mean hours before a technician resets a tripped cabinet (``--repair-hours``).
REPAIR_HOURS = 12.0
#: Shape of the gamma distribution of reset delays: skewed to the right (a
#: technician needs a few hours at least, sometimes until the next day), with
#: 90 % of the delays between 0.27 and 2.1 times the mean.
REPAIR_SHAPE = 3.0
#: Simulated minutes between two looks at the repairs closed in the platform.
REPAIR_POLL = 5
#: At or below this level (and above 0) a lamp reports ``powerState`` ``low``:
#: the model's reduced-power state, the usual night reduction to half power.
LOW_LEVEL = 0.5

LAMP_PREFIX = "urn:ngsi-ld:Streetlight:"
CABINET_PREFIX = "urn:ngsi-ld:StreetlightControlCabinet:"

CMD = Container("cmd", mni=100, mia=7 * 86400, labels=("cmd",))
ACK = Container("ack", mni=500, mia=30 * 86400, labels=("ack",))
STATE = Container("state", mni=2000, mia=30 * 86400, labels=("state",))
METER = Container("meter", mni=3000, mia=90 * 86400, labels=("meter",))

_LAMP = re.compile(r"^streetlight-(\d[0-9AB]\d{3})-(\d+)$")
_CABINET = re.compile(r"^cabinet-(\d[0-9AB]\d{3})-(\d+)$")


@dataclass
class Lamp:
    id: str  # streetlight-57038-001, the AE's name
    commune: str
    cabinet: str
    rating: float  # W at full power
    phase: int  # minute offset of its reports
    behaviour: str = "normal"  # normal | ignore | error
    level: float = 0.0
    hold_until: datetime | None = None  # a commanded level holds until then
    failed_until: datetime | None = None
    failed_at: datetime | None = None  # when it failed (None: before the run)
    energy: float = 0.0  # kWh since the run started

    @property
    def failed(self) -> bool:
        return self.failed_until is not None

    def power(self, powered: bool = True) -> float:
        if not powered or self.level <= 0:
            return 0.0
        return 0.0 if self.failed else self.rating * self.level + STANDBY_W

    @property
    def power_state(self) -> str:
        """The Smart Data Models ``powerState``: off, low (dimmed to ``LOW_LEVEL`` or
        less) or on. A failed lamp keeps the state it was set to (its 0 W and its
        ``status`` tell the fault)."""
        if self.level <= 0:
            return "off"
        return "low" if self.level <= LOW_LEVEL else "on"


@dataclass
class Cabinet:
    id: str  # cabinet-57038-1
    commune: str
    phase: int
    base: float  # kWh on the meter when the run started
    tripped: bool = False
    tripped_at: datetime | None = None  # None: before the run
    reset_at: datetime | None = None  # when a technician resets it; None: not by itself
    lamps: list[Lamp] = field(default_factory=list)


@dataclass
class Fleet:
    lamps: list[Lamp] = field(default_factory=list)
    cabinets: dict[str, Cabinet] = field(default_factory=dict)
    source: str = "generated"


def _rate(value: Any, default: float) -> float:
    if value is None:
        return default
    return min(1.0, max(0.0, float(value)))


def _hours(text: str) -> float:
    """``--repair-hours``: a number of hours, 0 or more."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more hours, not {text!r}")
    return value


class LightingSimulator(Simulator):
    name = "lighting"
    originators = ("Cstreetlight-*", "Ccabinet-*")
    help = (
        "streetlights taking commands through oneM2M (cmd, ack, state; photocell, "
        "failures) and their control cabinets (meter)"
    )

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument(
            "--ignore-rate", type=float, default=0.02,
            help="share of lamps that ignore commands (0.02)",
        )  # fmt: skip
        parser.add_argument(
            "--error-rate", type=float, default=0.01,
            help='share of lamps that answer commands "error" (driver fault) (0.01)',
        )  # fmt: skip
        parser.add_argument(
            "--failure-rate", type=float, default=0.002,
            help="chance a lamp fails on a given day (defectiveLamp, no light, repaired "
            "after 1-5 days) (0.002)",
        )  # fmt: skip
        parser.add_argument(
            "--faults", type=float, default=0.0,
            help="share of cabinets whose breaker has tripped when the run starts (their "
            "lamps dark and silent until it is reset) (0)",
        )  # fmt: skip
        parser.add_argument(
            "--repair-hours", type=_hours, default=REPAIR_HOURS,
            help="mean hours before a technician resets a tripped cabinet (gamma-"
            "distributed; 0: only when its repair is closed in the platform) (12)",
        )  # fmt: skip

    # --- Setup ----------------------------------------------------------------------

    def setup(self, start: datetime) -> list[Device]:
        from alzette.territory.lighting import sun

        self.sun = sun
        self.ignore_rate = _rate(self.options.get("ignore_rate"), 0.02)
        self.error_rate = _rate(self.options.get("error_rate"), 0.01)
        self.failure_rate = _rate(self.options.get("failure_rate"), 0.002)
        self.fault_rate = _rate(self.options.get("faults"), 0.0)
        hours = self.options.get("repair_hours")
        self.repair_hours = REPAIR_HOURS if hours is None else max(0.0, float(hours))
        self.fleet = self._fleet()
        self.lamps = {lamp.id: lamp for lamp in self.fleet.lamps}
        self.start = self.previous = start
        dark = sun.is_dark(start)
        for lamp in self.fleet.lamps:
            rng = self.random(f"lamp:{lamp.id}")
            draw = rng.random()
            if draw < self.ignore_rate:
                lamp.behaviour = "ignore"
            elif draw < self.ignore_rate + self.error_rate:
                lamp.behaviour = "error"
            lamp.level = 1.0 if dark else 0.0
        for cabinet in self.fleet.cabinets.values():
            rng = self.random(f"cabinet:{cabinet.id}")
            if rng.random() < self.fault_rate:
                cabinet.tripped, cabinet.tripped_at = True, start
                cabinet.reset_at = self._reset_time(rng, start)
        if self.fleet.source == "generated":
            self.env.notes.append(
                f"no Streetlight entities in the context: {len(self.fleet.lamps)} lamps generated"
            )
        devices = [
            Device(lamp.id, (CMD, ACK, STATE), "Nalzette-streetlight",
                   ("lighting", "streetlight", lamp.commune), commands=CMD.name,
                   commanders=(COMMANDER,))
            for lamp in self.fleet.lamps
        ]  # fmt: skip
        devices += [
            Device(c.id, (METER,), "Nalzette-cabinet", ("lighting", "cabinet", c.commune))
            for c in self.fleet.cabinets.values()
        ]
        return devices

    def _fleet(self) -> Fleet:
        fleet = _context_fleet(self)
        if not fleet.lamps:
            fleet = _generated_fleet(self, self.devices or DEFAULT_LAMPS)
        elif self.devices is not None:
            fleet.lamps = spread(
                fleet.lamps, self.devices, group=attrgetter("commune"), order=attrgetter("id")
            )
        for cabinet in fleet.cabinets.values():
            cabinet.lamps = [lamp for lamp in fleet.lamps if lamp.cabinet == cabinet.id]
        fleet.cabinets = {k: c for k, c in fleet.cabinets.items() if c.lamps}
        return fleet

    def _reset_time(self, rng: Any, tripped: datetime) -> datetime | None:
        """When a technician resets a cabinet tripped at ``tripped``: a gamma-distributed
        delay of mean ``--repair-hours``; None when 0 (only a repair closed in the
        platform resets it)."""
        if not self.repair_hours:
            return None
        delay = rng.gammavariate(REPAIR_SHAPE, self.repair_hours / REPAIR_SHAPE)
        return tripped + timedelta(hours=delay)

    def _powered(self, lamp: Lamp) -> bool:
        cabinet = self.fleet.cabinets.get(lamp.cabinet)
        return cabinet is None or not cabinet.tripped

    def _next_switch(self, moment: datetime) -> datetime:
        """The photocell's next switch after ``moment``: the next sunset or sunrise."""
        day = moment.astimezone(UTC).date()
        events = sorted(
            e
            for d in (day, day + timedelta(days=1))
            for e in (self.sun.sunrise(d), self.sun.sunset(d))
            if e > moment
        )
        return events[0]

    # --- Commands -------------------------------------------------------------------

    def on_command(self, device: str, content: Any, now: datetime) -> list[Message]:
        lamp = self.lamps.get(device)
        if lamp is None or lamp.behaviour == "ignore" or not self._powered(lamp):
            return []
        at = now  # when the command arrived (the runner's clock, never ahead of the real one)
        command_id = content.get("id") if isinstance(content, dict) else None
        if not isinstance(command_id, str) or not command_id:
            return []  # nothing to answer to: the platform retries, then fails it
        level = _command_level(content)
        answer: dict[str, Any] = {"id": command_id, "t": iso(at)}
        if level is None:
            answer.update(result="refused", level=lamp.level, reason="unreadable command")
            return [Reading(lamp.id, ACK.name, answer)]
        if lamp.behaviour == "error":
            answer.update(result="error", level=lamp.level, reason="driver fault")
            return [Reading(lamp.id, ACK.name, answer)]
        if lamp.failed:
            answer.update(result="error", level=lamp.level, reason="lamp failure")
            return [Reading(lamp.id, ACK.name, answer)]
        lamp.level = level
        lamp.hold_until = self._next_switch(at)
        answer.update(result="ok", level=level)
        return [Reading(lamp.id, ACK.name, answer), self._state(lamp, at)]

    # --- Steps ----------------------------------------------------------------------

    def step(self, now: datetime, live: bool) -> list[Message]:
        out: list[Message] = []
        hours = max(0.0, (now - self.previous).total_seconds() / 3600)
        dark = self.sun.is_dark(now)
        for lamp in self.fleet.lamps:  # what the lamps drew since the previous step
            lamp.energy += lamp.power(self._powered(lamp)) * hours / 1000
        fixed = self._closed_repairs(now)
        restored = self._reset_cabinets(now, fixed)
        # A reset cabinet reports at once, without its fault: the platform's alert closes.
        out += [self._meter(self.fleet.cabinets[name], now) for name in sorted(restored)]
        for lamp in self.fleet.lamps:
            if not self._powered(lamp):
                continue  # no power, no light, no report
            changed = lamp.cabinet in restored  # back on power: it reports at once
            changed = self._fail_or_repair(lamp, now, fixed) or changed
            if lamp.hold_until is not None and now >= lamp.hold_until:
                lamp.hold_until = None
            if lamp.hold_until is None:
                wanted = 1.0 if dark else 0.0
                if wanted != lamp.level:
                    lamp.level, changed = wanted, True
            period = NIGHT_REPORT if dark else DAY_REPORT
            if changed or crossed(self.previous, now, period, lamp.phase):
                out.append(self._state(lamp, now))
        for cabinet in self.fleet.cabinets.values():
            if cabinet.id not in restored and crossed(self.previous, now, METER_REPORT,
                                                      cabinet.phase):  # fmt: skip
                out.append(self._meter(cabinet, now))
        self.previous = now
        return out

    def _reset_cabinets(self, now: datetime, fixed: set[str]) -> set[str]:
        """Reset the tripped cabinets whose technician came (their delay is over, or
        their repair was closed in the platform); their names."""
        restored = set()
        for cabinet in self.fleet.cabinets.values():
            due = cabinet.reset_at is not None and now >= cabinet.reset_at
            if cabinet.tripped and (due or cabinet.id in fixed):
                cabinet.tripped, cabinet.tripped_at, cabinet.reset_at = False, None, None
                restored.add(cabinet.id)
        return restored

    def _fail_or_repair(self, lamp: Lamp, now: datetime, fixed: set[str]) -> bool:
        if lamp.failed_until is not None:
            if now >= lamp.failed_until or lamp.id in fixed:
                lamp.failed_until = lamp.failed_at = None
                return True
            return False
        if self.failure_rate and crossed(self.previous, now, 1440, lamp.phase * 17):
            rng = self.random(f"failure:{lamp.id}:{now.isoformat()}")
            if rng.random() < self.failure_rate:
                lamp.failed_until = now + timedelta(days=rng.uniform(*REPAIR_DAYS))
                lamp.failed_at = now
                return True
        return False

    def _closed_repairs(self, now: datetime) -> set[str]:
        """The failed lamps and tripped cabinets (device names) whose repair an agent
        closed in the platform (``lighting.repairs``, status repaired) since they
        broke, by ``now``. Looked at every ``REPAIR_POLL`` simulated minutes, and only
        for a fleet from the context: a generated one has no repairs there. Never
        ahead of the simulated clock: a repair closed later waits until it is reached."""
        if self.fleet.source != "context" or not crossed(self.previous, now, REPAIR_POLL, 0):
            return set()
        broken = {LAMP_PREFIX + lamp.id: lamp.failed_at or self.start
                  for lamp in self.fleet.lamps if lamp.failed}  # fmt: skip
        broken.update({CABINET_PREFIX + cabinet.id: cabinet.tripped_at or self.start
                       for cabinet in self.fleet.cabinets.values() if cabinet.tripped})  # fmt: skip
        if not broken:
            return set()
        try:
            from alzette.territory.lighting.repairs import services
            from alzette.territory.lighting.repairs.models import Repair

            rows = list(
                services.repairs(status=Repair.Status.REPAIRED)
                .filter(asset_id__in=list(broken), repaired_at__lte=now)
                .values_list("asset_id", "repaired_at")
            )
        except Exception:  # the platform's databases are not this process's
            return set()
        return {asset.rsplit(":", 1)[-1] for asset, at in rows if at >= broken[asset]}

    def _state(self, lamp: Lamp, at: datetime) -> Reading:
        return Reading(lamp.id, STATE.name, {
            "powerState": lamp.power_state,
            "illuminanceLevel": round(lamp.level, 3),
            "powerConsumption": round(lamp.power(), 1),
            "status": "defectiveLamp" if lamp.failed else "ok",
            "t": iso(at),
        })  # fmt: skip

    def _meter(self, cabinet: Cabinet, now: datetime) -> Reading:
        powered = not cabinet.tripped
        power = sum(lamp.power(powered) for lamp in cabinet.lamps)
        content: dict[str, Any] = {
            "energyConsumed": round(cabinet.base + sum(lamp.energy for lamp in cabinet.lamps), 3),
            "totalActivePower": round(power / 1000, 4),
            "t": iso(now),
        }
        if cabinet.tripped:
            content["fault"] = "breaker-tripped"
        return Reading(cabinet.id, METER.name, content)


def _command_level(content: Any) -> float | None:
    """The level a command asks for: ``on`` 1, ``off`` 0, ``dim`` its level; None if
    unreadable."""
    if not isinstance(content, dict):
        return None
    action, level = content.get("action"), content.get("level")
    if action == "on":
        return 1.0
    if action == "off":
        return 0.0
    if action != "dim" and action is not None:
        return None
    if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level):
        return None
    return float(level) if 0 <= level <= 1 else None


def _new_lamp(sim: Simulator, name: str, commune: str, cabinet: str,
              rating: float | None = None) -> Lamp:  # fmt: skip
    rng = sim.random(f"lamp:{name}:model")
    return Lamp(id=name, commune=commune, cabinet=cabinet,
                rating=rating or rng.choice(RATINGS), phase=rng.randrange(60))  # fmt: skip


def _new_cabinet(sim: Simulator, name: str, commune: str, base: float | None = None) -> Cabinet:
    rng = sim.random(f"cabinet:{name}:model")
    if base is None:
        base = round(rng.uniform(2000, 20000), 1)
    return Cabinet(id=name, commune=commune, phase=rng.randrange(15), base=base)


def _generated_fleet(sim: Simulator, lamps: int) -> Fleet:
    communes = commune_codes()
    fleet = Fleet()
    per_commune = math.ceil(lamps / len(communes))
    for commune in communes:
        for n in range(1, per_commune + 1):
            cabinet = f"cabinet-{commune}-{(n - 1) // LAMPS_PER_CABINET + 1}"
            if cabinet not in fleet.cabinets:
                fleet.cabinets[cabinet] = _new_cabinet(sim, cabinet, commune)
            fleet.lamps.append(_new_lamp(sim, f"streetlight-{commune}-{n:03d}", commune, cabinet))
    fleet.lamps = spread(fleet.lamps, lamps, group=attrgetter("commune"), order=attrgetter("id"))
    return fleet


def _context_fleet(sim: Simulator) -> Fleet:
    """The Streetlights and their cabinets of the context (the demo's), if any."""
    try:
        from alzette.territory.ngsild.models import Entity

        rows = list(
            Entity.objects.using("territory")
            .filter(tenant="", entity_id__startswith="urn:ngsi-ld:Streetlight")
            .order_by("entity_id")
        )
    except Exception:
        return Fleet()
    fleet = Fleet(source="context")
    for row in rows:
        name = row.entity_id.rsplit(":", 1)[-1]
        if row.entity_id.startswith(CABINET_PREFIX) and (found := _CABINET.match(name)):
            energy = _value(row.body, "energyConsumed")
            fleet.cabinets[name] = _new_cabinet(
                sim, name, found.group(1), float(energy) if _number(energy) else None
            )
    for row in rows:
        name = row.entity_id.rsplit(":", 1)[-1]
        if not (row.entity_id.startswith(LAMP_PREFIX) and (found := _LAMP.match(name))):
            continue
        commune = found.group(1)
        ref = _value(row.body, "refStreetlightControlCabinet")
        cabinet = ref.rsplit(":", 1)[-1] if isinstance(ref, str) else f"cabinet-{commune}-1"
        if cabinet not in fleet.cabinets:
            fleet.cabinets[cabinet] = _new_cabinet(sim, cabinet, commune)
        rating = _value(row.body, "powerRating")
        rated = float(rating) if _number(rating) and rating > 0 else None
        fleet.lamps.append(_new_lamp(sim, name, commune, cabinet, rated))
    return fleet


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value(body: dict[str, Any], term: str) -> Any:
    """An attribute's value (or object) in an entity's stored (expanded) body, found
    by the term's local name whatever the context's IRI."""
    for key, instances in body.items():
        if key.rsplit("/", 1)[-1].rsplit("#", 1)[-1] != term:
            continue
        items = instances if isinstance(instances, list) else [instances]
        instance = next((i for i in items if isinstance(i, dict) and "datasetId" not in i), None)
        if instance is None:
            return None
        for name in ("object", "https://uri.etsi.org/ngsi-ld/hasObject", "value",
                     "https://uri.etsi.org/ngsi-ld/hasValue"):  # fmt: skip
            if name in instance:
                return _plain(instance[name])
        return None
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else value
    if isinstance(value, dict):
        return value.get("@id", value.get("@value", value))
    return value
