"""A household's own water, without HTTP: meters, readings, daily use, warnings,
the comparison with similar households.

The territory's water service (``alzette.territory.water``) checks each hourly
reading of a household meter and sends ``meter_reading``; it detects continuous
flows and sends ``leak_suspected``/``leak_cleared``. It knows no household: here,
the meter's serial is linked to the household that holds it (``MeterAllocation``).
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.core import metering
from alzette.core.mail import send_in_language
from alzette.core.repositories import PERSONAL
from alzette.personal.homewater.models import (
    DailyUse,
    LedgerRecord,
    MeterAllocation,
    Reading,
    Warning,
    WarningKind,
)
from alzette.personal.households.models import Household

log = logging.getLogger("alzette.homewater")

ACTOR = "system:homewater"
#: Size bands of households (persons), for comparisons and the bridge.
BANDS = (("1", 1, 1), ("2", 2, 2), ("3-4", 3, 4), ("5+", 5, 99))
#: An abnormal day: above FACTOR times the household's usual day and MARGIN litres more.
ABNORMAL_FACTOR = 2.5
ABNORMAL_MARGIN_L = 300
#: Days of history the usual day is the median of, and the least needed.
BASELINE_DAYS = 30
BASELINE_MIN_DAYS = 7
#: The night window: the hours starting at 01, 02, 03 and 04 (local time).
NIGHT_HOURS = (1, 2, 3, 4)
#: More than this in an hour is a meter reset or replacement, not use (a wide-open
#: tap gives about 1,000 L/h).
MAX_LITRES_PER_HOUR = 3000
#: Readings without a household, since the process started (logged).
unmatched = {"readings": 0}


def _record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    """Append a ledger entry and keep its opening here (call last in the transaction)."""
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=PERSONAL, object_ref=object_ref
    )


def band_of(persons: int) -> str:
    for name, low, high in BANDS:
        if low <= persons <= high:
            return name
    return BANDS[-1][0]


def reading_days() -> int:
    return int(getattr(settings, "ALZETTE_HOMEWATER_READING_DAYS", 90))


def daily_days() -> int:
    return int(getattr(settings, "ALZETTE_HOMEWATER_DAILY_DAYS", 800))


# --- Meters -----------------------------------------------------------------------------


def normalise_serial(serial: str) -> str:
    value = (serial or "").strip().upper()
    return value.removeprefix("HMETER-")


def holder_on(serial: str, day: date) -> MeterAllocation | None:
    return (
        MeterAllocation.objects.filter(serial=normalise_serial(serial), starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
        .select_related("household")
        .first()
    )


def current_meter(household: Household) -> MeterAllocation | None:
    return household.water_meters.filter(ends_on__isnull=True).first()


def household_of(user: Any) -> Household | None:
    """The person's household that holds a meter (else their first household)."""
    if not getattr(user, "is_authenticated", False):
        return None
    mine = Household.objects.filter(members=user)
    with_meter = mine.filter(water_meters__ends_on__isnull=True).order_by("created_at").first()
    return with_meter or mine.order_by("created_at").first()


def allocate_meter(
    household: Household,
    serial: str,
    actor: str,
    *,
    starts_on: date | None = None,
    persons: int = 1,
) -> MeterAllocation:
    """Give meter ``serial`` to ``household`` from ``starts_on`` (today by default),
    ending the meter's and the household's current allocations that day. Recorded as
    ``household.meter_allocated``."""
    serial = normalise_serial(serial)
    MeterAllocation(household=household, serial=serial, starts_on=date(2000, 1, 1)).clean_fields(
        exclude=["household", "starts_on", "ends_on", "persons"]
    )
    starts_on = starts_on or timezone.localdate()
    with transaction.atomic(using=PERSONAL):
        currents = list(
            MeterAllocation.objects.select_for_update().filter(
                Q(serial=serial) | Q(household=household), ends_on__isnull=True
            )
        )
        for current in currents:
            if current.household_id == household.pk and current.serial == serial:
                raise ValidationError(_("This household already holds this meter."))
            if current.starts_on >= starts_on:
                raise ValidationError(
                    _(
                        "A current allocation of this meter or household starts on or "
                        "after that day."
                    )
                )
        for current in currents:
            current.ends_on = starts_on
            current.save()
        allocation = MeterAllocation.objects.create(
            household=household, serial=serial, starts_on=starts_on, persons=persons
        )
        _record(
            "household.meter_allocated",
            actor,
            f"meter-allocation:{allocation.pk}",
            {
                "meter": serial,
                "household": str(household.pk),
                "starts_on": starts_on.isoformat(),
            },
        )
    return allocation


# --- Readings ---------------------------------------------------------------------------


def _hour_start(at: datetime) -> datetime:
    """The local start of the hour a reading at ``at`` closes."""
    return timezone.localtime(at - timedelta(seconds=1)).replace(minute=0, second=0, microsecond=0)


def store_reading(serial: str, at: datetime, index_litres: int) -> Reading | None:
    """Store a reading for the household holding the meter at ``at``; None when no
    household holds it (counted and logged), when it repeats a stored hour, or when
    it is older than the meter's latest stored reading (logged)."""
    serial = normalise_serial(serial)
    allocation = holder_on(serial, timezone.localdate(at))
    if allocation is None:
        unmatched["readings"] += 1
        log.info(
            "Reading of meter %s without a household ignored (%d so far).",
            serial,
            unmatched["readings"],
        )
        return None
    household = allocation.household
    with transaction.atomic(using=PERSONAL):
        previous = (
            Reading.objects.select_for_update()
            .filter(serial=serial, household=household)
            .order_by("-at")
            .first()
        )
        if previous is not None and previous.at >= at:
            if previous.at > at:
                log.info("Late reading of meter %s at %s ignored.", serial, at.isoformat())
            return None
        litres = 0 if previous is None else int(index_litres) - previous.index_litres
        hours = max((at - previous.at).total_seconds() / 3600, 1) if previous else 1
        if litres < 0 or litres > MAX_LITRES_PER_HOUR * hours:
            # A replaced or reset meter: the new index is the new reference.
            log.warning("Meter %s jumped by %d L: counted as 0.", serial, litres)
            litres = 0
        try:
            with transaction.atomic(using=PERSONAL):
                reading = Reading.objects.create(
                    household=household,
                    serial=serial,
                    at=at,
                    index_litres=int(index_litres),
                    litres=litres,
                )
        except IntegrityError:
            return None
        since = previous.at if previous is not None else at - timedelta(hours=1)
        last_day = _hour_start(at).date()
        for day, part in daily_parts(since, at, litres).items():
            # The reading's own hour is the one known to have use; a gap's are not.
            _add_daily(household, day, part, used=int(day == last_day and litres >= 1))
    return reading


def daily_parts(since: datetime, at: datetime, litres: int) -> dict[date, int]:
    """The litres of a reading shared over the local days from ``since`` to ``at``: a
    reading after a gap does not make one day look abnormal (docs/home-water.md)."""

    def next_midnight(moment: datetime) -> datetime:
        local = timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)
        return local + timedelta(days=1)

    def day_of(start: datetime, end: datetime) -> date:
        return timezone.localtime(end - timedelta(microseconds=1)).date()

    return metering.apportion(litres, since, at, next_midnight, day_of)


def _add_daily(household: Household, day: date, litres: int, used: int) -> None:
    updated = DailyUse.objects.filter(household=household, day=day).update(
        litres=F("litres") + litres, hours_with_use=F("hours_with_use") + used
    )
    if not updated:
        DailyUse.objects.create(household=household, day=day, litres=litres, hours_with_use=used)


# --- Warnings ---------------------------------------------------------------------------


def open_warning(household: Household, kind: str) -> Warning | None:
    return household.water_warnings.filter(kind=kind, ended_at__isnull=True).first()


def raise_warning(
    household: Household,
    kind: str,
    started_at: datetime,
    detail: dict[str, float | int],
    *,
    serial: str = "",
) -> Warning | None:
    """Open a warning of ``kind`` unless one is open (once per episode); e-mail the
    members and record ``household.water_warning``. None when one was open already."""
    if open_warning(household, kind) is not None:
        return None
    try:
        with transaction.atomic(using=PERSONAL):
            warning = Warning.objects.create(
                household=household,
                kind=kind,
                serial=serial,
                started_at=started_at,
                detail={k: v for k, v in detail.items() if isinstance(v, int | float)},
                notified_at=timezone.now(),
            )
            _record(
                "household.water_warning",
                ACTOR,
                f"water-warning:{warning.pk}",
                {"kind": kind, "household": str(household.pk), "state": "open",
                 "started_at": started_at.isoformat()},
            )  # fmt: skip
    except IntegrityError:  # raised concurrently
        return None
    transaction.on_commit(lambda: notify(warning), using=PERSONAL)
    return warning


def end_warning(warning: Warning, at: datetime | None = None) -> Warning:
    with transaction.atomic(using=PERSONAL):
        warning.ended_at = max(at or timezone.now(), warning.started_at)
        warning.save()
        _record(
            "household.water_warning",
            ACTOR,
            f"water-warning:{warning.pk}",
            {"kind": warning.kind, "household": str(warning.household_id), "state": "ended",
             "ended_at": warning.ended_at.isoformat()},
        )  # fmt: skip
    return warning


def mark_seen(warning: Warning) -> Warning:
    if warning.seen_at is None:
        warning.seen_at = timezone.now()
        warning.save(update_fields=["seen_at", "updated_at"])
    return warning


def warnings_for(user: Any) -> QuerySet[Warning]:
    household = household_of(user)
    if household is None:
        return Warning.objects.none()
    return household.water_warnings.all()


def _message(warning: Warning) -> tuple[str, str]:
    base = getattr(settings, "ALZETTE_PUBLIC_URL", "").rstrip("/")
    if warning.kind == WarningKind.LEAK:
        subject = _("[Alzette] Possible water leak at home")
        lead = _(
            "Your water meter has shown water running every hour without a break "
            "(at least %(lph)s litres an hour) since %(since)s."
        ) % {
            "lph": warning.detail.get("min_litres_per_hour", 1),
            "since": timezone.localtime(warning.started_at).strftime("%d/%m/%Y %H:%M"),
        }
    else:
        subject = _("[Alzette] Unusual water use at home")
        if warning.detail.get("night_hours"):
            lead = _("Water ran every hour last night between 1 and 5 a.m.")
        else:
            lead = _(
                "Your household used %(litres)s litres on %(day)s, against %(usual)s on a "
                "usual day."
            ) % {
                "litres": warning.detail.get("litres", 0),
                "day": timezone.localtime(warning.started_at).strftime("%d/%m/%Y"),
                "usual": warning.detail.get("usual_litres", 0),
            }
    advice = _(
        "Check that no tap is dripping and that the toilets do not run; close the main "
        "valve to see whether the meter still turns. If the leak is not yours to repair, "
        "call the water service."
    )
    details = _("Details:")
    body = f"{lead}\n\n{advice}\n\n{details} {base}/water/\n"
    return subject, body


def notify(warning: Warning) -> int:
    """E-mail the household's members, each in their own language (the default one
    for those who chose none); the in-app notice is the warning itself, shown unseen
    on /water/ and on the dashboard. The number of addresses written to: a mail
    server down never loses the warning, shown in-app anyway."""
    members = warning.household.members.filter(is_active=True).exclude(email="")
    recipients = members.values_list("email", "preferred_language")
    return send_in_language(
        recipients, lambda: _message(warning), context=f"water warning {warning.pk}"
    )


def leak_suspected(serial: str, since: datetime, min_litres_per_hour: float) -> Warning | None:
    allocation = holder_on(serial, timezone.localdate())
    if allocation is None:
        log.info("Leak on meter %s without a household.", normalise_serial(serial))
        return None
    return raise_warning(
        allocation.household,
        WarningKind.LEAK,
        since,
        {"min_litres_per_hour": round(float(min_litres_per_hour), 1)},
        serial=allocation.serial,
    )


def leak_cleared(serial: str, at: datetime) -> Warning | None:
    serial = normalise_serial(serial)
    warning = Warning.objects.filter(
        serial=serial, kind=WarningKind.LEAK, ended_at__isnull=True
    ).first()
    if warning is None:
        return None
    return end_warning(warning, at)


# --- Abnormal use -----------------------------------------------------------------------


def usual_day(household: Household, day: date) -> float | None:
    """The median litres of the household's days in the 30 before ``day``; None with
    fewer than 7 such days."""
    values = list(
        DailyUse.objects.filter(
            household=household, day__lt=day, day__gte=day - timedelta(days=BASELINE_DAYS)
        ).values_list("litres", flat=True)
    )
    if len(values) < BASELINE_MIN_DAYS:
        return None
    return float(statistics.median(values))


def abnormal_day(household: Household, day: date) -> dict[str, float | int] | None:
    usual = usual_day(household, day)
    found = DailyUse.objects.filter(household=household, day=day).first()
    if usual is None or found is None:
        return None
    if found.litres > ABNORMAL_FACTOR * usual and found.litres > usual + ABNORMAL_MARGIN_L:
        return {"litres": found.litres, "usual_litres": round(usual)}
    return None


def night_use(household: Household, day: date) -> dict[str, float | int] | None:
    """Use in every night hour (01-05 h local) of the night of ``day``."""
    tz = timezone.get_current_timezone()
    first = datetime.combine(day, time(NIGHT_HOURS[0] + 1), tz)
    last = datetime.combine(day, time(NIGHT_HOURS[-1] + 1), tz)
    rows = list(
        Reading.objects.filter(household=household, at__gte=first, at__lte=last).values_list(
            "at", "litres"
        )
    )
    hours = {timezone.localtime(at).hour for at, litres in rows if litres >= 1}
    if all(h + 1 in hours for h in NIGHT_HOURS):
        litres = sum(litres for _at, litres in rows)
        return {"night_hours": len(NIGHT_HOURS), "litres": litres}
    return None


def check_household(household: Household, now: datetime) -> Warning | None:
    """Raise an abnormal warning for today's (so far) or yesterday's use or last
    night's; end the open one once neither day nor night is abnormal."""
    today = timezone.localdate(now)
    found = None
    started = None
    for day in (today, today - timedelta(days=1)):
        found = abnormal_day(household, day)
        if found:
            started = datetime.combine(day, time(0), timezone.get_current_timezone())
            break
    leak = open_warning(household, WarningKind.LEAK) is not None
    if found is None and not leak and timezone.localtime(now).hour >= NIGHT_HOURS[-1] + 1:
        found = night_use(household, today)
        if found:
            started = datetime.combine(today, time(NIGHT_HOURS[0]), timezone.get_current_timezone())
    current = open_warning(household, WarningKind.ABNORMAL)
    if found and started is not None:
        if current is None:
            meter = current_meter(household)
            serial = meter.serial if meter else ""
            return raise_warning(household, WarningKind.ABNORMAL, started, found, serial=serial)
        return None
    if current is not None and timezone.localdate(current.started_at) < today - timedelta(days=1):
        end_warning(current, now)
    return None


def purge(now: datetime) -> tuple[int, int]:
    """Delete readings and daily use past their retention."""
    readings, _r = Reading.objects.filter(at__lt=now - timedelta(days=reading_days())).delete()
    days, _d = DailyUse.objects.filter(
        day__lt=timezone.localdate(now) - timedelta(days=daily_days())
    ).delete()
    return readings, days


def run_check(now: datetime | None = None) -> str:
    """Hourly job: abnormal use of every household with a meter; retention."""
    now = now or timezone.now()
    raised = 0
    households = Household.objects.filter(water_meters__ends_on__isnull=True).distinct()
    for household in households:
        if check_household(household, now) is not None:
            raised += 1
    readings, days = purge(now)
    return (
        f"{households.count()} households checked, {raised} abnormal-use warnings raised; "
        f"{readings} readings and {days} days past retention deleted."
    )


# --- Consumption and comparison ---------------------------------------------------------


def days_of(household: Household, today: date, n: int = 30) -> list[dict[str, Any]]:
    """The last ``n`` complete days (oldest first), litres 0 when nothing was read."""
    first = today - timedelta(days=n)
    known = dict(
        DailyUse.objects.filter(household=household, day__gte=first, day__lt=today).values_list(
            "day", "litres"
        )
    )
    return [
        {"day": first + timedelta(days=i), "litres": known.get(first + timedelta(days=i), 0)}
        for i in range(n)
    ]


def months_of(household: Household, today: date, n: int = 12) -> list[dict[str, Any]]:
    """The last ``n`` months, the current one included (oldest first)."""
    months = []
    year, month = today.year, today.month
    for _i in range(n):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    first = date(*months[0], 1)
    sums = {
        (row["day__year"], row["day__month"]): row
        for row in DailyUse.objects.filter(household=household, day__gte=first)
        .values("day__year", "day__month")
        .annotate(litres=Sum("litres"), days=Count("pk"))
    }
    return [
        {
            "year": y,
            "month": m,
            "litres": (sums.get((y, m)) or {}).get("litres") or 0,
            "days": (sums.get((y, m)) or {}).get("days") or 0,
        }
        for y, m in months
    ]


def _per_person_day(since: date, until: date, households: list[int | Any]) -> dict[Any, float]:
    """household id -> litres per day (over the days with data, at least 7)."""
    rows = (
        DailyUse.objects.filter(household__in=households, day__gte=since, day__lt=until)
        .values("household")
        .annotate(litres=Sum("litres"), days=Count("pk"))
    )
    return {
        row["household"]: row["litres"] / row["days"]
        for row in rows
        if row["days"] >= BASELINE_MIN_DAYS
    }


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return round(q1), round(median), round(q3)


@dataclass(frozen=True)
class Comparison:
    litres_per_person_day: float | None
    band: str
    persons: int
    #: "commune", "territory" or "" (no group of at least k households).
    scope: str
    households: int
    q1: float | None
    median: float | None
    q3: float | None
    this_month_per_day: float | None
    last_year_per_day: float | None


def compare(household: Household, today: date | None = None) -> Comparison:
    """The household's litres per day per person over the last 30 days against the
    households of its size band in its commune (or the territory when that group has
    fewer than k households); a group of fewer than k is never shown. Also this
    month's litres per day against the same month last year."""
    today = today or timezone.localdate()
    k = max(int(getattr(settings, "ALZETTE_BRIDGE_K", 10)), 2)
    meter = current_meter(household)
    persons = meter.persons if meter else max(household.members.count(), 1)
    band = band_of(persons)
    since = today - timedelta(days=BASELINE_DAYS)
    open_allocations = MeterAllocation.objects.filter(ends_on__isnull=True)
    peers = {a.household_id: a.persons for a in open_allocations if band_of(a.persons) == band}
    communes = dict(Household.objects.filter(pk__in=list(peers)).values_list("pk", "commune_code"))
    per_day = _per_person_day(since, today, list(peers))
    per_person = {pk: litres / peers[pk] for pk, litres in per_day.items()}
    own = per_person.get(household.pk)
    scope, values = "", []
    local = [v for pk, v in per_person.items() if communes.get(pk) == household.commune_code]
    if len(local) >= k:
        scope, values = "commune", local
    elif len(per_person) >= k:
        scope, values = "territory", list(per_person.values())
    q1 = median = q3 = None
    if scope:
        q1, median, q3 = _quartiles(values)
    this_month = _month_per_day(household, today.year, today.month, until=today)
    try:
        last_year = _month_per_day(household, today.year - 1, today.month)
    except ValueError:
        last_year = None
    return Comparison(
        litres_per_person_day=round(own) if own is not None else None,
        band=band,
        persons=persons,
        scope=scope,
        households=len(values),
        q1=q1,
        median=median,
        q3=q3,
        this_month_per_day=this_month,
        last_year_per_day=last_year,
    )


def _month_per_day(
    household: Household, year: int, month: int, until: date | None = None
) -> float | None:
    first = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    if until is not None:
        end = min(end, until)
    found = DailyUse.objects.filter(household=household, day__gte=first, day__lt=end).aggregate(
        litres=Sum("litres"), days=Count("pk")
    )
    if not found["days"]:
        return None
    return round(found["litres"] / found["days"])


# --- Agents' scope ----------------------------------------------------------------------


def abilities(user: Any, household: Household | None = None) -> dict[str, bool]:
    """What ``user`` may do with households' water: members see their own consumption;
    agents of the household's commune, of the EPCI, and administrators allocate its
    meter but never read its consumption."""
    from alzette.personal.households import authz

    general = authz.abilities(user, None)
    if household is None:
        return {"manage": general["manage"], "read_own": _citizen(user)}
    mine = _citizen(user) and household.members.filter(pk=user.pk).exists()
    manages = authz.abilities(user, household)["manage"]
    return {"view_consumption": mine, "allocate_meter": manages, "manage": manages}


def _citizen(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", "") == "citizen"


def overview(household: Household, today: date | None = None) -> dict[str, Any]:
    """Everything the citizen's page and ``GET /me`` show of a household."""
    today = today or timezone.localdate()
    return {
        "household": household,
        "meter": current_meter(household),
        "days": days_of(household, today),
        "months": months_of(household, today),
        "comparison": compare(household, today),
        "warnings": list(household.water_warnings.all()[:50]),
        "last_reading": Reading.objects.filter(household=household).order_by("-at").first(),
    }
