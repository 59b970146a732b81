"""The water network as agents and the other modules see it (docs/water.md).

Entity ids follow the water conventions: a district ``57038-1`` has its inflow
meter ``urn:ngsi-ld:WaterConsumptionObserved:district-57038-1`` (device
``dmeter-57038-1``), its pressure sensor ``urn:ngsi-ld:DeviceMeasurement:pressure-57038-1``
and its quality sensor ``urn:ngsi-ld:WaterQualityObserved:quality-57038-1``.
No HTTP here: views and the API call these functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.territory.ngsild import jsonld, store, temporal
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.water.models import District, DistrictHour, LedgerRecord, Meter

DB = "territory"
TENANT = ""
EPCI = "CCPHVA"
WATER_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WaterConsumption/"
    "master/context.jsonld"
)
INFLOW_PREFIX = "urn:ngsi-ld:WaterConsumptionObserved:district-"
PRESSURE_PREFIX = "urn:ngsi-ld:DeviceMeasurement:pressure-"
QUALITY_PREFIX = "urn:ngsi-ld:WaterQualityObserved:quality-"
METER_PREFIX = "urn:ngsi-ld:WaterConsumptionObserved:hmeter-"
SLUG = re.compile(r"^\d[0-9AB]\d{3}-\d{1,2}$")
SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,19}$")
#: Pressure limits of the service (bar): below, taps run dry; above, pipes suffer.
PRESSURE_SERVICE = (2.0, 8.0)
#: Limits of drinking water (French quality references, arrêté du 11 janvier 2007).
QUALITY_LIMITS: dict[str, tuple[float | None, float | None]] = {
    "pH": (6.5, 9.0),
    "turbidity": (None, 2.0),
    "conductivity": (200.0, 1100.0),
    "freeChlorine": (0.1, 0.5),
    "temperature": (None, 25.0),
}
QUALITY_UNITS = {"pH": "", "turbidity": "NTU", "conductivity": "µS/cm", "freeChlorine": "mg/L",
                 "temperature": "°C"}  # fmt: skip


@cache
def context() -> jsonld.Context:
    return jsonld.resolve(WATER_CONTEXT)


def iri(term: str) -> str:
    return context().expand(term)


def inflow_id(slug: str) -> str:
    return INFLOW_PREFIX + slug


def pressure_id(slug: str) -> str:
    return PRESSURE_PREFIX + slug


def quality_id(slug: str) -> str:
    return QUALITY_PREFIX + slug


def meter_entity_id(serial: str) -> str:
    """The name a household meter's detector alerts carry: a meter, never a person."""
    return METER_PREFIX + serial


def commune_of(slug: str) -> str:
    return slug.split("-", 1)[0]


def unsold_m3_per_day() -> float:
    """Water leaving a district through non-metered uses (fire hydrants, flushing,
    public fountains), m³ per district and day (``ALZETTE_WATER_UNMETERED_M3_PER_DAY``)."""
    return float(getattr(settings, "ALZETTE_WATER_UNMETERED_M3_PER_DAY", 2.0))


# --- Authorisation -----------------------------------------------------------------------


def _unit(user: Any) -> str:
    unit = getattr(getattr(user, "unit", None), "code", "") or ""
    if getattr(user, "role", "") == "administrator":
        return unit or EPCI
    return unit


def is_agent(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", "") in (
        "agent",
        "administrator",
    )


def abilities(user: Any, district: District | None = None) -> dict[str, bool]:
    """Agents see every district; they change those of their commune (the EPCI's, all)."""
    agent = is_agent(user)
    unit = _unit(user) if agent else ""
    change = agent and (unit == EPCI or (district is not None and district.commune == unit))
    return {"view": agent, "change": change}


# --- Settings ----------------------------------------------------------------------------


def update_district(district: District, changes: dict[str, Any], actor: str) -> District:
    """Change a district's thresholds (checked, recorded in the ledger).

    ``ValidationError`` with a message per field when a value is not possible."""
    errors: dict[str, list[str]] = {}
    night = changes.get("night_flow_threshold", district.night_flow_threshold)
    share = changes.get("balance_threshold", district.balance_threshold)
    name = changes.get("name", district.name)
    if isinstance(night, bool) or not isinstance(night, int) or not 0 < night <= 1_000_000:
        errors["night_flow_threshold"] = [_("A flow in litres per hour, from 1 to 1,000,000.")]
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
        errors["balance_threshold"] = [_("A share between 0 and 1 (0.25 for 25 per cent).")]
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors["name"] = [_("A name of 1 to 200 characters.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(using=DB):
        row = District.objects.using(DB).select_for_update().get(pk=district.pk)
        row.night_flow_threshold, row.balance_threshold = night, float(share)
        row.name = name.strip()
        row.save(using=DB)
        record("water_district.changed", actor, f"water_district:{row.slug}", {
            "district": row.slug, "night_flow_threshold": row.night_flow_threshold,
            "balance_threshold": row.balance_threshold,
        })  # fmt: skip
    return row


def record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=DB, object_ref=object_ref
    )


# --- Household meters' hourly totals -------------------------------------------------------


def hour_of(moment: datetime) -> datetime:
    """The start (UTC) of the hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def counted_in_hour(meter: Meter, at: datetime) -> bool:
    """Whether ``meter`` already counts among the meters that reported in the hour of
    ``at``: its rolling hours (the only per-meter trace the territory keeps, overwritten
    hour after hour) hold that hour once a reading of it was added to the district."""
    return rep.iso(hour_of(at)) in (meter.recent_hours or {})


def add_hour_use(district_id: int, at: datetime, litres: int, *, new_meter: bool) -> None:
    """Add a household reading's litres to its district's hour. ``new_meter`` (the meter
    had not reported in that hour yet, see ``counted_in_hour``) adds it to the meters
    reporting: a meter reporting twice in an hour counts once, so the balance's scaling
    to the meters that reported is not skewed."""
    hour = hour_of(at)
    rows = DistrictHour.objects.using(DB).filter(district_id=district_id, hour=hour)
    more = 1 if new_meter else 0
    if rows.update(litres=F("litres") + litres, meters=F("meters") + more):
        return
    try:
        with transaction.atomic(using=DB):
            DistrictHour.objects.using(DB).create(district_id=district_id, hour=hour,
                                                  litres=litres, meters=more)  # fmt: skip
    except IntegrityError:  # created meanwhile by another reading of the district
        rows.update(litres=F("litres") + litres, meters=F("meters") + more)


# --- Reading the context -----------------------------------------------------------------


def value(body: dict[str, list], term: str) -> Any:
    """The plain value of ``term`` in a water entity's body (the WaterConsumption context's
    IRI, else the core context's); see ``representation.attribute_value``."""
    return rep.attribute_value(body, term, ctx=context())


def observed(body: dict[str, list], term: str) -> datetime | None:
    item = rep.default_instance(body, term, ctx=context())
    text = item.get("observedAt") if item else None
    if not isinstance(text, str):
        return None
    try:
        return rep.parse_datetime(text, "observedAt")
    except NgsiLdError:
        return None


def body_of(entity_id: str) -> dict[str, list] | None:
    row = store.get(TENANT, entity_id)
    return row.body if row is not None else None


def location_of(entity_id: str) -> tuple[float, float] | None:
    body = body_of(entity_id)
    where = value(body, "location") if body else None
    if isinstance(where, dict) and where.get("type") == "Point":
        lon, lat = where["coordinates"][:2]
        return float(lon), float(lat)
    return None


def flow_samples(slug: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The inflow meter's instantaneous flow (L/h) between start and end, oldest first."""
    return _samples(slug, "flow", start, end)


def index_samples(slug: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The inflow meter's cumulative index (m³, as the device sent it) between start and end."""
    return _samples(slug, "inflowIndex", start, end)


def _samples(slug: str, term: str, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """The observed numbers of the inflow meter's ``term`` between start and end, oldest first."""
    eid = inflow_id(slug)
    attribute = iri(term)
    query = temporal.TimeQuery("between", start, end)
    found = temporal.history(TENANT, [eid], {attribute}, query)[eid]
    out = []
    for item in found.attributes.get(attribute, []):
        number = rep.instance_value(item)
        moment = item.get("observedAt")
        if isinstance(number, int | float) and isinstance(moment, str):
            out.append((rep.parse_datetime(moment, "observedAt"), float(number)))
    return sorted(out)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = start + timedelta(days=1)
    return start.astimezone(UTC), end.astimezone(UTC)


def night_window(day: date) -> tuple[datetime, datetime]:
    """02:00-04:00 local time of ``day`` (the night that ends that morning), in UTC."""
    zone = timezone.get_default_timezone()
    start = datetime(day.year, day.month, day.day, 2, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(hours=2)).astimezone(UTC)


def night_minimum(slug: str, day: date) -> float | None:
    samples = flow_samples(slug, *night_window(day))
    return min((v for _, v in samples), default=None)


@dataclass
class Balance:
    day: date
    inflow_m3: float | None
    metered_m3: float
    reporting: float  # share of the district's meters that reported (0-1)
    estimated_m3: float | None  # metered use scaled to all meters, plus unmetered uses
    loss_share: float | None  # (inflow - estimated) / inflow


def inflow_volume(slug: str, day: date) -> float | None:
    """m³ entering the district during the local day: the index difference across it
    (from the last reading before the day to the last reading of the day)."""
    start, end = local_day_bounds(day)
    samples = index_samples(slug, start - timedelta(hours=3), end)
    before = [v for t, v in samples if t <= start]
    within = [v for t, v in samples if start < t <= end]
    if not within:
        return None
    first = before[-1] if before else within[0]
    if len(within) < 2 and not before:
        return None
    volume = within[-1] - first
    return volume if volume >= 0 else None


def balance(district: District, day: date) -> Balance:
    """The day's network balance: inflow - (metered use ÷ share of meters reporting +
    unmetered uses), as a share of the inflow (docs/water.md)."""
    start, end = local_day_bounds(day)
    hours = DistrictHour.objects.using(DB).filter(district=district, hour__gte=start,
                                                  hour__lt=end)  # fmt: skip
    litres = hours.aggregate(total=Sum("litres"))["total"] or 0
    counts = list(hours.values_list("meters", flat=True))
    fleet = active_meters(district, day)
    # Meters reporting: the mean number of meters that reported per hour of the day.
    mean_reporting = (sum(counts) / 24.0) if counts else 0.0
    share = min(1.0, mean_reporting / fleet) if fleet else 0.0
    metered = litres / 1000.0
    inflow = inflow_volume(district.slug, day)
    estimated = (metered / share + unsold_m3_per_day()) if share > 0 else None
    loss = None
    if inflow and estimated is not None:
        loss = (inflow - estimated) / inflow
    return Balance(day, inflow, round(metered, 3), round(share, 3),
                   None if estimated is None else round(estimated, 3),
                   None if loss is None else round(loss, 4))  # fmt: skip


def active_meters(district: District, day: date) -> int:
    meters = Meter.objects.using(DB).filter(district=district)
    meters = meters.exclude(installed_on__gt=day).exclude(removed_on__lt=day)
    return meters.count()


# --- Summaries for pages and the API ------------------------------------------------------


@dataclass
class Figures:
    district: District
    flow: float | None = None
    flow_at: datetime | None = None
    index_m3: float | None = None
    pressure: float | None = None
    pressure_at: datetime | None = None
    quality: dict[str, float] = field(default_factory=dict)
    quality_at: datetime | None = None
    min_flow: float | None = None
    meters: int = 0


def figures(district: District) -> Figures:
    out = Figures(district=district)
    body = body_of(district.inflow_entity) or {}
    out.flow, out.flow_at = _num(value(body, "flow")), observed(body, "flow")
    out.index_m3 = _num(value(body, "inflowIndex"))
    out.min_flow = _num(value(body, "minFlow"))
    body = body_of(pressure_id(district.slug)) or {}
    out.pressure, out.pressure_at = _num(value(body, "numValue")), observed(body, "numValue")
    body = body_of(quality_id(district.slug)) or {}
    for term in QUALITY_LIMITS:
        number = _num(value(body, term))
        if number is not None:
            out.quality[term] = number
            out.quality_at = max(filter(None, [out.quality_at, observed(body, term)]),
                                 default=None)  # fmt: skip
    out.meters = Meter.objects.using(DB).filter(district=district, removed_on=None).count()
    return out


def _num(raw: Any) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return float(raw)


def night_flows(district: District, days: int = 7, today: date | None = None) -> list:
    today = today or timezone.localdate()
    return [(d, night_minimum(district.slug, d))
            for d in (today - timedelta(days=n) for n in range(days - 1, -1, -1))]  # fmt: skip


def balances(district: District, days: int = 7, today: date | None = None) -> list[Balance]:
    today = today or timezone.localdate()
    return [balance(district, today - timedelta(days=n)) for n in range(days, 0, -1)]


def hourly_flow(district: District, days: int = 7, now: datetime | None = None) -> list:
    """Mean inflow (L/h) per 6-hour block over the last days, oldest first."""
    now = now or datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=days)
    samples = flow_samples(district.slug, start, end)
    blocks: dict[datetime, list[float]] = {}
    step = timedelta(hours=6)
    for moment, number in samples:
        key = start + step * int((moment - start) / step)
        blocks.setdefault(key, []).append(number)
    out = []
    moment = start
    while moment < end:
        found = blocks.get(moment)
        out.append((moment, sum(found) / len(found) if found else None))
        moment += step
    return out
