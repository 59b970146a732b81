"""Street lighting energy and what dimming saves (docs/lighting-energy.md).

Energy is integrated from the lamps' own ``state`` reports: a reported power holds
until the lamp's next report, at most ``HOLD_CAP`` (a lamp that falls silent is not
billed forever). The result is kept per lamp and night (``LampNight``); a night runs
from local noon to the next local noon and is named by the local date of its evening.
The reference is full-power operation over the same covered time: the lamp's
``powerRating`` over the hours between sunset and sunrise that its held reports cover,
so that hours no report describes count neither as used nor as saved. Cabinets' meters
(cumulative ``energyConsumed``) are kept beside as a cross-check, never added.

No HTTP framework here: the receivers, the page, the API and the widget call these.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alzette.territory.lighting import sun
from alzette.territory.lighting.energy.models import (
    CabinetNight,
    CabinetReading,
    LampNight,
    LampReading,
)
from alzette.territory.ngsild import jsonld, store
from alzette.territory.ngsild import representation as rep

DB = "territory"
TENANT = ""
STREETLIGHTING_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/"
    "master/context.jsonld"
)
LAMP_PREFIX = "urn:ngsi-ld:Streetlight:"
CABINET_PREFIX = "urn:ngsi-ld:StreetlightControlCabinet:"
LAMP_NAME = re.compile(r"^streetlight-(\d[0-9AB]\d{3})-[A-Za-z0-9]{1,10}$")
CABINET_NAME = re.compile(r"^cabinet-(\d[0-9AB]\d{3})-[A-Za-z0-9]{1,10}$")
COMMUNE = re.compile(r"^\d[0-9AB]\d{3}$")

#: How long a reported power holds without a newer report: two report periods (15 min).
HOLD_CAP = timedelta(minutes=30)
#: A reading above this many times the lamp's rated power is a fault, not a lamp.
MAX_RATING_FACTOR = 3.0
#: Without a rated power, no street lamp draws more than this (W).
MAX_POWER_W = 2000.0
#: Readings are kept this many days (the refresh recomputes two months at most).
READINGS_DAYS = 70
DEFAULT_EUR_PER_KWH = 0.20
#: France's mean grid mix, ADEME Base Carbone ("Electricité - 2022 - mix moyen", 0.052 kg CO2e/kWh).
DEFAULT_KG_CO2_PER_KWH = 0.052
MAX_MONTHS = 36
#: Below this share of the night hours covered by reports, the page flags the figures.
LOW_COVERAGE = 0.5


def eur_per_kwh() -> float:
    return float(getattr(settings, "ALZETTE_LIGHTING_EUR_PER_KWH", DEFAULT_EUR_PER_KWH))


def kg_co2_per_kwh() -> float:
    return float(getattr(settings, "ALZETTE_LIGHTING_KG_CO2_PER_KWH", DEFAULT_KG_CO2_PER_KWH))


# --- The lamps' entities --------------------------------------------------------------------


@cache
def context() -> jsonld.Context:
    return jsonld.resolve(STREETLIGHTING_CONTEXT)


@dataclass(frozen=True)
class Lamp:
    id: str
    rating_w: float | None
    lon: float | None
    lat: float | None


def lamp_id(device: str) -> str:
    return device if device.startswith("urn:") else LAMP_PREFIX + device


def cabinet_id(device: str) -> str:
    return device if device.startswith("urn:") else CABINET_PREFIX + device


def commune_of(entity_or_device: str) -> str:
    """The INSEE code in ``streetlight-<INSEE>-<nnn>`` or ``cabinet-<INSEE>-<n>``, or ""."""
    short = entity_or_device.rsplit(":", 1)[-1]
    found = LAMP_NAME.match(short) or CABINET_NAME.match(short)
    return found.group(1) if found else ""


def lamp(entity_id: str) -> Lamp | None:
    """The Streetlight's rated power (W) and point, None when there is no such entity."""
    row = store.get(TENANT, lamp_id(entity_id))
    if row is None:
        return None
    instance = rep.default_instance(row.body, "powerRating", ctx=context())
    rating = rep.instance_value(instance)
    if isinstance(rating, bool) or not isinstance(rating, int | float) or rating <= 0:
        rating = None
    elif instance and instance.get("unitCode") == "KWT":
        rating = rating * 1000
    point = rep.attribute_value(row.body, "location", ctx=context())
    try:
        lon, lat = (float(c) for c in point["coordinates"][:2])
    except (TypeError, KeyError, ValueError):
        lon = lat = None
    return Lamp(id=row.entity_id, rating_w=None if rating is None else float(rating),
                lon=lon, lat=lat)  # fmt: skip


# --- Nights ----------------------------------------------------------------------------------


def night_of(moment: datetime) -> date:
    """The night ``moment`` belongs to: the local date, the day before before local noon."""
    local = timezone.localtime(moment)
    return local.date() if local.hour >= 12 else local.date() - timedelta(days=1)


def window(night: date) -> tuple[datetime, datetime]:
    """Local noon of ``night`` to local noon of the next day, as UTC datetimes."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(night, time(12), tzinfo=zone)
    end = datetime.combine(night + timedelta(days=1), time(12), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass
class Integrated:
    energy_wh: float = 0.0
    hours_on: float = 0.0
    covered_hours: float = 0.0
    reports: int = 0


def integrate(
    readings: list[tuple[datetime, float]],
    start: datetime,
    end: datetime,
    *,
    dark: tuple[datetime, datetime] | None = None,
    now: datetime | None = None,
    cap: timedelta = HOLD_CAP,
) -> Integrated:
    """Energy over [start, end) from (moment, watts) readings (any order): each power
    holds until the next reading, at most ``cap``, never past ``now``. ``dark`` (sunset,
    sunrise) gives the hours of the night the readings cover."""
    now = now or datetime.now(UTC)
    points = sorted(readings)
    out = Integrated(reports=sum(1 for at, _ in points if start <= at < end))
    for n, (at, watts) in enumerate(points):
        until = min(at + cap, now, end)
        if n + 1 < len(points):
            until = min(until, points[n + 1][0])
        begin = max(at, start)
        if until <= begin:
            continue
        hours = (until - begin).total_seconds() / 3600
        out.energy_wh += watts * hours
        if watts > 0:
            out.hours_on += hours
        if dark is not None:
            lit = (min(until, dark[1]) - max(begin, dark[0])).total_seconds() / 3600
            out.covered_hours += max(lit, 0.0)
    return out


def reference(
    found: Lamp | None, night: date, covered_hours: float
) -> tuple[float | None, float, float | None]:
    """(rating W, night hours, full-power Wh) of a lamp on ``night``. Full power counts
    only the ``covered_hours`` (the dark hours the lamp's held reports cover), the same
    intervals its energy is integrated over: an hour no report describes is neither used
    nor saved, so a lamp reporting half a night is compared with half a night."""
    lon, lat = (found.lon, found.lat) if found else (None, None)
    hours = sun.night_hours(night, lon, lat)
    rating = found.rating_w if found else None
    return rating, hours, None if rating is None else rating * covered_hours


def recompute_lamp_night(entity_id: str, night: date, *, now: datetime | None = None,
                         found: Lamp | None = None) -> LampNight | None:  # fmt: skip
    """Integrate one lamp's readings over one night into its ``LampNight`` (created,
    updated, or deleted when no reading is left)."""
    start, end = window(night)
    rows = LampReading.objects.using(DB).filter(lamp_id=entity_id)
    inside = list(rows.filter(at__gte=start, at__lt=end).values_list("at", "power_w"))
    before = rows.filter(at__lt=start, at__gte=start - HOLD_CAP).order_by("-at")
    before = list(before.values_list("at", "power_w")[:1])
    nights = LampNight.objects.using(DB)
    found = found or lamp(entity_id)
    if not inside:  # readings dropped (older than READINGS_DAYS): only the reference changes
        row = nights.filter(lamp_id=entity_id, night=night).first()
        if row is not None:
            rating, hours, full = reference(found, night, row.covered_hours)
            row.rating_w, row.night_hours = rating, hours
            row.reference_wh = None if full is None else round(full, 3)
            row.save(using=DB, update_fields=["rating_w", "night_hours", "reference_wh",
                                              "updated_at"])  # fmt: skip
        return row
    lon, lat = (found.lon, found.lat) if found else (None, None)
    done = integrate(before + inside, start, end, dark=sun.night(night, lon, lat), now=now)
    covered = round(done.covered_hours, 4)
    rating, hours, full = reference(found, night, covered)
    row, _ = nights.update_or_create(
        lamp_id=entity_id, night=night,
        defaults={
            "commune": commune_of(entity_id), "energy_wh": round(done.energy_wh, 3),
            "hours_on": round(done.hours_on, 4), "covered_hours": covered,
            "reports": done.reports, "rating_w": rating, "night_hours": round(hours, 4),
            "reference_wh": None if full is None else round(full, 3),
        },
    )  # fmt: skip
    return row


def nights_touched(at: datetime) -> set[date]:
    """Nights a reading at ``at`` changes: its own, the one its predecessor's hold may
    have run into, and the one its own hold may run into (near local noon)."""
    return {night_of(at - HOLD_CAP), night_of(at), night_of(at + HOLD_CAP)}


def recompute_cabinet_night(entity_id: str, night: date) -> CabinetNight | None:
    """The meter's rise over the night: every step between consecutive readings that ends
    in the night; a step backwards (a meter reset or replacement) counts as nothing."""
    start, end = window(night)
    rows = CabinetReading.objects.using(DB).filter(cabinet_id=entity_id)
    inside = list(rows.filter(at__gte=start, at__lt=end).order_by("at")
                  .values_list("energy_kwh", flat=True))  # fmt: skip
    nights = CabinetNight.objects.using(DB)
    if not inside:
        nights.filter(cabinet_id=entity_id, night=night).delete()
        return None
    previous = rows.filter(at__lt=start).order_by("-at").values_list("energy_kwh", flat=True)
    series = list(previous[:1]) + inside
    rise = sum(max(b - a, 0.0) for a, b in itertools.pairwise(series))
    row, _ = nights.update_or_create(
        cabinet_id=entity_id, night=night,
        defaults={"commune": commune_of(entity_id), "energy_kwh": round(rise, 4),
                  "readings": len(inside)},
    )  # fmt: skip
    return row


# --- Savings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthSaving:
    """One commune's (or the territory's, commune "") street lighting in one month."""

    commune: str
    month: date  # the first day of the month
    actual_kwh: float
    full_kwh: float
    saved_kwh: float
    saved_eur: float
    saved_share: float | None  # saved / full, None without a reference
    co2_kg: float  # CO2 avoided
    lamps: int
    nights: int  # lamp-nights counted
    coverage: float | None  # covered hours / night hours of the lamp-nights counted
    metered_kwh: float | None  # the cabinets' meters, when some report
    cabinets: int
    covered_hours: float = 0.0  # dark hours covered by held reports, summed over lamp-nights
    night_hours: float = 0.0  # sunset-to-sunrise hours, summed over the same lamp-nights

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"

    @property
    def low_coverage(self) -> bool:
        """The reports cover less than ``LOW_COVERAGE`` of the nights: the figures hold
        for the hours reported only, a small part of what the lamps did."""
        return self.coverage is not None and self.coverage < LOW_COVERAGE


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def months_list(months: int, today: date | None = None) -> list[date]:
    """The first days of the last ``months`` months, the current one last."""
    today = today or timezone.localdate()
    return [month_start(today, back) for back in range(months - 1, -1, -1)]


def _month_of(night: date) -> date:
    return night.replace(day=1)


def _build(commune: str, month: date, lamp: dict[str, Any] | None,
           cab: dict[str, Any] | None) -> MonthSaving:  # fmt: skip
    lamp = lamp or {}
    actual = (lamp.get("energy") or 0.0) / 1000
    full = (lamp.get("full") or 0.0) / 1000
    saved = full - actual
    dark = lamp.get("dark") or 0.0
    covered = lamp.get("covered") or 0.0
    return MonthSaving(
        commune=commune, month=month, actual_kwh=round(actual, 3), full_kwh=round(full, 3),
        saved_kwh=round(saved, 3), saved_eur=round(saved * eur_per_kwh(), 2),
        saved_share=round(saved / full, 4) if full > 0 else None,
        co2_kg=round(saved * kg_co2_per_kwh(), 2), lamps=lamp.get("lamps") or 0,
        nights=lamp.get("nights") or 0,
        coverage=round(covered / dark, 4) if dark > 0 else None,
        metered_kwh=round(cab["energy"], 3) if cab else None,
        cabinets=cab["cabinets"] if cab else 0,
        covered_hours=round(covered, 2), night_hours=round(dark, 2),
    )  # fmt: skip


def _figures(commune: str | None, first: date, last: date, *, by_commune: bool) -> tuple:
    """Sums per (commune, month) of the lamp nights (with a reference) and cabinet nights."""
    nights = LampNight.objects.using(DB).filter(night__gte=first, night__lte=last,
                                                reference_wh__isnull=False)  # fmt: skip
    cabinets = CabinetNight.objects.using(DB).filter(night__gte=first, night__lte=last)
    if commune:
        nights = nights.filter(commune=commune)
        cabinets = cabinets.filter(commune=commune)
    lamps: dict[tuple[str, date], dict[str, Any]] = {}
    keys: dict[tuple[str, date], set[str]] = {}
    for row in nights.values("commune", "night", "lamp_id", "energy_wh", "reference_wh",
                             "covered_hours", "night_hours").iterator(chunk_size=5000):  # fmt: skip
        key = (row["commune"] if by_commune else "", _month_of(row["night"]))
        entry = lamps.setdefault(key, {"energy": 0.0, "full": 0.0, "covered": 0.0, "dark": 0.0,
                                       "nights": 0})  # fmt: skip
        entry["energy"] += row["energy_wh"]
        entry["full"] += row["reference_wh"]
        entry["covered"] += row["covered_hours"]
        entry["dark"] += row["night_hours"]
        entry["nights"] += 1
        keys.setdefault(key, set()).add(row["lamp_id"])
    for key, ids in keys.items():
        lamps[key]["lamps"] = len(ids)
    cabs: dict[tuple[str, date], dict[str, Any]] = {}
    seen: dict[tuple[str, date], set[str]] = {}
    for row in cabinets.values("commune", "night", "cabinet_id", "energy_kwh"):
        key = (row["commune"] if by_commune else "", _month_of(row["night"]))
        entry = cabs.setdefault(key, {"energy": 0.0, "cabinets": 0})
        entry["energy"] += row["energy_kwh"]
        seen.setdefault(key, set()).add(row["cabinet_id"])
    for key, ids in seen.items():
        cabs[key]["cabinets"] = len(ids)
    return lamps, cabs


def _check(commune: str | None, months: int) -> None:
    if commune is not None and commune != "" and not COMMUNE.fullmatch(commune):
        raise ValueError("commune is an INSEE code (5 characters)")
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months is between 1 and {MAX_MONTHS}")


def savings(commune: str | None = None, months: int = 12,
            today: date | None = None) -> list[MonthSaving]:  # fmt: skip
    """Per commune and month (the last ``months``, oldest first): the lamps' energy, the
    full-power reference, what was saved (kWh, €, share, CO2) and the cabinets' meters.
    Every month is listed for ``commune``; without one, every commune with data."""
    _check(commune, months)
    firsts = months_list(months, today)
    last = month_start(firsts[-1], -1) - timedelta(days=1)
    lamps, cabs = _figures(commune or None, firsts[0], last, by_commune=True)
    communes = {commune} if commune else {c for c, _ in lamps} | {c for c, _ in cabs}
    return [_build(c, m, lamps.get((c, m)), cabs.get((c, m)))
            for c in sorted(communes) for m in firsts]  # fmt: skip


def territory_savings(commune: str | None = None, months: int = 12,
                      today: date | None = None) -> list[MonthSaving]:  # fmt: skip
    """The same, summed over the communes (or of one commune): one row per month."""
    _check(commune, months)
    firsts = months_list(months, today)
    last = month_start(firsts[-1], -1) - timedelta(days=1)
    lamps, cabs = _figures(commune or None, firsts[0], last, by_commune=False)
    return [_build(commune or "", m, lamps.get(("", m)), cabs.get(("", m))) for m in firsts]


def total(rows: list[MonthSaving]) -> MonthSaving | None:
    """The sum of ``rows`` (months of one series), None when empty."""
    if not rows:
        return None
    actual = sum(r.actual_kwh for r in rows)
    full = sum(r.full_kwh for r in rows)
    saved = full - actual
    metered = [r.metered_kwh for r in rows if r.metered_kwh is not None]
    covered = sum(r.covered_hours for r in rows)
    dark = sum(r.night_hours for r in rows)
    return MonthSaving(
        commune=rows[0].commune, month=rows[0].month, actual_kwh=round(actual, 3),
        full_kwh=round(full, 3), saved_kwh=round(saved, 3),
        saved_eur=round(saved * eur_per_kwh(), 2),
        saved_share=round(saved / full, 4) if full > 0 else None,
        co2_kg=round(saved * kg_co2_per_kwh(), 2), lamps=max(r.lamps for r in rows),
        nights=sum(r.nights for r in rows),
        coverage=round(covered / dark, 4) if dark > 0 else None,
        metered_kwh=round(sum(metered), 3) if metered else None,
        cabinets=max(r.cabinets for r in rows),
        covered_hours=round(covered, 2), night_hours=round(dark, 2),
    )  # fmt: skip


def year_total(year: int, commune: str | None = None) -> MonthSaving:
    """The nights whose evening falls in ``year``, January to December, summed as the
    page and the API sum their months: the figure the city indicator reads."""
    found = total(territory_savings(commune, 12, date(year, 12, 1)))
    assert found is not None  # twelve months, never empty
    return found


def unrated_nights(year: int, commune: str | None = None) -> int:
    """Lamp-nights of ``year`` left out of every figure: their lamp has no powerRating."""
    nights = LampNight.objects.using(DB).filter(
        night__gte=date(year, 1, 1), night__lte=date(year, 12, 31), reference_wh__isnull=True
    )
    return (nights.filter(commune=commune) if commune else nights).count()


# --- The job ---------------------------------------------------------------------------------


def run_refresh(today: date | None = None, now: datetime | None = None) -> str:
    """``alzette lighting energy``: recompute the lamp nights of the current and previous
    month from their readings (energy, covered hours and the reference over them; the
    lamps' powerRating may have changed; a lamp that fell silent gets its last hold
    closed), the cabinets' nights, then drop readings older than ``READINGS_DAYS``. Older
    nights keep their rows; migration 0002 rebased their reference on their covered hours."""
    today = today or timezone.localdate()
    now = now or datetime.now(UTC)
    first = month_start(today, 1)
    lamps = cabinets = 0
    pairs = set(LampNight.objects.using(DB).filter(night__gte=first)
                .values_list("lamp_id", "night"))  # fmt: skip
    pairs |= set(LampReading.objects.using(DB).filter(night__gte=first)
                 .values_list("lamp_id", "night").distinct())  # fmt: skip
    found: dict[str, Lamp | None] = {}
    for entity_id, night in sorted(pairs):
        if entity_id not in found:
            found[entity_id] = lamp(entity_id)
        with transaction.atomic(using=DB):
            recompute_lamp_night(entity_id, night, now=now, found=found[entity_id])
        lamps += 1
    boxes = set(CabinetReading.objects.using(DB).filter(night__gte=first)
                .values_list("cabinet_id", "night").distinct())  # fmt: skip
    for entity_id, night in sorted(boxes):
        with transaction.atomic(using=DB):
            recompute_cabinet_night(entity_id, night)
        cabinets += 1
    cutoff = now - timedelta(days=int(getattr(settings, "ALZETTE_LIGHTING_READINGS_DAYS",
                                              READINGS_DAYS)))  # fmt: skip
    dropped, _ = LampReading.objects.using(DB).filter(at__lt=cutoff).delete()
    dropped_cab, _ = CabinetReading.objects.using(DB).filter(at__lt=cutoff).delete()
    return (f"lighting energy: {lamps} lamp nights and {cabinets} cabinet nights recomputed "
            f"since {first}; {dropped + dropped_cab} old readings dropped")  # fmt: skip


# --- Who may see -----------------------------------------------------------------------------


def abilities(actor: Any) -> dict[str, bool]:
    """Energy figures are the EPCI's operations: every agent sees every commune's."""
    return {"view": bool(getattr(actor, "agent", False))}
