"""Demo households: the demo citizen's, in Audun-le-Tiche, and 40 synthetic ones.

The demo citizen (``citoyen@demo.alzette.eu``, ``accounts.services.DEMO_ACCOUNTS``)
gets household ``DEMO-57038-0001`` holding bin ``bin-57038-001`` since 1 January,
the recycling-centre badge ``DEMO-BADGE-0001`` and a lift history for this year.
Forty households without accounts (``DEMO-SYN-…``, in Audun-le-Tiche and Villerupt)
have bins and lifts too, so that the bridge's ``bin-lifts`` cells reach k = 10.

Lifts made up here are marked: ``synthetic`` is set and their ids are negative
(the territory's ``waste.Lift`` ids are positive). Idempotent.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from alzette.core.repositories import PERSONAL
from alzette.personal.households import services
from alzette.personal.households.models import (
    BinAllocation,
    CardKind,
    CentreCard,
    Household,
    HouseholdLift,
)

DEMO_CITIZEN = "citoyen@demo.alzette.eu"
DEMO_REFERENCE = "DEMO-57038-0001"
DEMO_BIN = "bin-57038-001"
DEMO_BADGE = "DEMO-BADGE-0001"
SYNTHETIC = 40
#: Synthetic households per commune, with the first bin number they get.
#: They hold bins of the demo equipment (alzette.territory.waste.demo), so that the
#: simulator's lifts count for them; bin-57038-001 is the demo citizen's.
SYNTHETIC_COMMUNES = (("57038", 2), ("54580", 1))
#: The synthetic households' recycling-centre badges (the simulator presents them).
DEMO_BADGES = [f"DEMO-BADGE-{n:04d}" for n in range(2, SYNTHETIC + 2)]
ACTOR = "system:demo"


def ensure_demo_households(today: date | None = None) -> dict[str, int]:
    """Create what is missing of the demo households; counts of what exists after."""
    from alzette.personal.accounts.models import User

    today = today or timezone.localdate()
    ensure_demo_tariffs(today.year)
    citizen = User.objects.filter(email=DEMO_CITIZEN).first()
    demo = _household(DEMO_REFERENCE, "57038", DEMO_BIN, today, index=0)
    if citizen is not None:
        demo.members.add(citizen)
    _badge(demo, DEMO_BADGE)
    per_commune = SYNTHETIC // len(SYNTHETIC_COMMUNES)
    index = 1
    for commune, first_bin in SYNTHETIC_COMMUNES:
        for n in range(per_commune):
            reference = f"DEMO-SYN-{commune}-{n + 1:03d}"
            household = _household(
                reference, commune, f"bin-{commune}-{first_bin + n:03d}", today, index
            )
            _badge(household, DEMO_BADGES[index - 1])
            index += 1
    return {
        "households": Household.objects.filter(reference__startswith="DEMO-").count(),
        "lifts": HouseholdLift.objects.filter(synthetic=True).count(),
        "cards": CentreCard.objects.filter(household__reference__startswith="DEMO-").count(),
    }


def _badge(household: Household, badge: str) -> None:
    if not CentreCard.objects.filter(digest=services.card_digest(CardKind.BADGE, badge)).exists():
        services.register_card(household, CardKind.BADGE, badge)


def ensure_demo_tariffs(year: int) -> None:
    """The territory's tariff and Audun-le-Tiche's own, for ``year`` (kept if set)."""
    for commune, fixed, per_lift, per_kg, included in (
        ("", "120.00", "3.50", "0.180", 12),
        ("57038", "110.00", "3.00", "0.200", 12),
    ):
        if not services.Tariff.objects.filter(commune_code=commune, year=year).exists():
            services.set_tariff(
                commune,
                year,
                fixed_eur=Decimal(fixed),
                per_lift_eur=Decimal(per_lift),
                per_kg_eur=Decimal(per_kg),
                included_lifts=included,
            )


def _household(reference: str, commune: str, bin_short: str, today: date, index: int) -> Household:
    household = Household.objects.filter(reference=reference).first()
    if household is None:
        household = services.create_household(commune, reference)
    start = date(today.year, 1, 1)
    urn = services.bin_urn(bin_short)
    held = BinAllocation.objects.filter(household=household, bin_id=urn).exists()
    taken = BinAllocation.objects.filter(bin_id=urn, ends_on__isnull=True).exists()
    if not held and not taken:
        services.allocate_bin(household, urn, ACTOR, starts_on=start)
    _lifts(household, urn, start, today, index)
    return household


def _lifts(household: Household, urn: str, start: date, today: date, index: int) -> None:
    """A lift every one or two weeks on the household's collection day, 6 to 30 kg."""
    rng = random.Random(f"alzette-demo-lifts-{index}")  # noqa: S311 - demo data, not security
    weekday = index % 5  # Monday..Friday
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    tz = timezone.get_current_timezone()
    rows, week = [], 0
    while day <= today:
        if rng.random() < 0.6:
            lifted_at = datetime.combine(day, time(6 + rng.randrange(5), rng.randrange(60)), tz)
            rows.append(
                HouseholdLift(
                    household=household,
                    bin_id=urn,
                    lifted_at=lifted_at,
                    weight_kg=round(rng.uniform(6, 30), 1),
                    lift_id=-(start.year * 10_000 + index * 100 + week + 1),
                    synthetic=True,
                )
            )
        day += timedelta(days=7)
        week += 1
    with transaction.atomic(using=PERSONAL):
        HouseholdLift.objects.bulk_create(rows, ignore_conflicts=True)
