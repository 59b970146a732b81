"""Demo household meters and 60 days of readings, so that /water/ has data at once.

The territory's demo meters (``alzette.territory.water.demo.demo_meters()``: serial
and commune) are allocated to the demo households of ``households.demo`` (the demo
citizen's ``DEMO-57038-0001`` first, then the ``DEMO-SYN-…`` ones): meters of the
household's commune first, then the others in order (the demo has households in
two communes only), then serials ``W26-9…`` the territory does not know, should it
have fewer meters. Each household gets 60 days of hourly readings with a daily
profile (morning and evening peaks, quiet nights); ``DEMO-SYN-57038-003`` has a
leak in progress since yesterday (a few litres every hour) and its warning; the
demo citizen's household has an abnormal day in its past warnings. Persons per
household: 2 for half of them (so that the comparison and the bridge's size band
"2" reach k = 10 per commune), 1, 3, 4 or 5 for the others. Idempotent: a
household that already has readings keeps them.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from alzette.core.repositories import PERSONAL
from alzette.personal.homewater import services
from alzette.personal.homewater.models import (
    DailyUse,
    MeterAllocation,
    Reading,
    Warning,
    WarningKind,
)
from alzette.personal.households.models import Household

DAYS = 60
ACTOR = "system:demo"
LEAK_HOUSEHOLD = "DEMO-SYN-57038-003"
CITIZEN_HOUSEHOLD = "DEMO-57038-0001"
#: Share of a day's use in each local hour: peaks at 7-8 h and 19-21 h, quiet nights.
PROFILE = [
    0.004, 0.0, 0.0, 0.0, 0.0, 0.006, 0.05, 0.12, 0.10, 0.05, 0.04, 0.04,
    0.06, 0.05, 0.03, 0.03, 0.03, 0.04, 0.07, 0.10, 0.09, 0.05, 0.03, 0.01,
]  # fmt: skip
PERSONS = (2, 1, 2, 3, 2, 4, 2, 5, 2, 1, 2, 3)


def _meters() -> list[tuple[str, str]]:
    try:
        from alzette.territory.water.demo import demo_meters
    except ImportError:
        return []
    return [(str(serial), str(commune)) for serial, commune in demo_meters()]


def _assign(households: list[Household]) -> dict[Household, str]:
    """A meter for each household: its commune's first, then any, then fallbacks."""
    known = _meters()
    taken = set(
        MeterAllocation.objects.filter(ends_on__isnull=True).values_list("serial", flat=True)
    )
    chosen: dict[Household, str] = {}
    for household in households:
        meter = services.current_meter(household)
        if meter is not None:
            chosen[household] = meter.serial
            taken.add(meter.serial)
    for match in (True, False):
        for household in households:
            if household in chosen:
                continue
            for serial, commune in known:
                if serial not in taken and (not match or commune == household.commune_code):
                    chosen[household] = serial
                    taken.add(serial)
                    break
    n = 900_000
    for household in households:
        if household not in chosen:
            while f"W26-{n:06d}" in taken:
                n += 1
            chosen[household] = f"W26-{n:06d}"
            taken.add(chosen[household])
    return chosen


def ensure_demo_homewater(now: datetime | None = None) -> dict[str, int]:
    """Allocate the demo meters and synthesise the readings; counts after."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    households = list(Household.objects.filter(reference__startswith="DEMO-").order_by("reference"))
    households.sort(key=lambda h: h.reference != CITIZEN_HOUSEHOLD)
    start = timezone.localdate(now) - timedelta(days=DAYS)
    for index, (household, serial) in enumerate(_assign(households).items()):
        if services.current_meter(household) is None:
            services.allocate_meter(
                household, serial, ACTOR, starts_on=start, persons=PERSONS[index % len(PERSONS)]
            )
        if not Reading.objects.filter(household=household).exists():
            _readings(household, serial, now, index)
    leak = Household.objects.filter(reference=LEAK_HOUSEHOLD).first()
    if leak is not None and services.open_warning(leak, WarningKind.LEAK) is None:
        services.raise_warning(
            leak,
            WarningKind.LEAK,
            now - timedelta(hours=30),
            {"min_litres_per_hour": 6.0},
            serial=services.current_meter(leak).serial,
        )
    citizen = Household.objects.filter(reference=CITIZEN_HOUSEHOLD).first()
    if citizen is not None and not citizen.water_warnings.exists():
        day = timezone.localdate(now) - timedelta(days=12)
        started = datetime.combine(day, time(0), timezone.get_current_timezone())
        Warning.objects.create(
            household=citizen,
            kind=WarningKind.ABNORMAL,
            serial=services.current_meter(citizen).serial,
            started_at=started,
            ended_at=started + timedelta(days=2),
            detail={"litres": 910, "usual_litres": 240},
            notified_at=started + timedelta(hours=20),
            seen_at=started + timedelta(hours=22),
        )
    return {
        "meters": MeterAllocation.objects.filter(
            ends_on__isnull=True, household__reference__startswith="DEMO-"
        ).count(),
        "readings": Reading.objects.filter(household__reference__startswith="DEMO-").count(),
        "leaks": Warning.objects.filter(kind=WarningKind.LEAK, ended_at__isnull=True).count(),
    }


def _readings(household: Household, serial: str, now: datetime, index: int) -> None:
    rng = random.Random(f"alzette-demo-water-{household.reference}")  # noqa: S311 - demo data
    persons = services.current_meter(household).persons
    per_day = 125 * persons * rng.uniform(0.75, 1.3)
    leaking = household.reference == LEAK_HOUSEHOLD
    at = now - timedelta(days=DAYS)
    total = rng.randrange(10_000, 900_000)
    rows, daily = [], {}
    while at <= now:
        hour_start = timezone.localtime(at - timedelta(hours=1))
        weekend = 1.15 if hour_start.weekday() >= 5 else 1.0
        share = PROFILE[hour_start.hour]
        litres = round(per_day * share * weekend * rng.uniform(0.5, 1.5)) if share else 0
        if leaking and at > now - timedelta(hours=30):
            litres += 6
        if rows:
            total += litres
        else:
            litres = 0
        rows.append(
            Reading(household=household, serial=serial, at=at, index_litres=total, litres=litres)
        )
        day = hour_start.date()
        used = daily.setdefault(day, [0, 0])
        used[0] += litres
        used[1] += 1 if litres >= 1 else 0
        at += timedelta(hours=1)
    with transaction.atomic(using=PERSONAL):
        Reading.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        DailyUse.objects.bulk_create(
            [
                DailyUse(household=household, day=day, litres=v[0], hours_with_use=v[1])
                for day, v in daily.items()
            ],
            ignore_conflicts=True,
        )
