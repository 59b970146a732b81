"""Households' bins, lifts, bills and recycling-centre access, without HTTP.

The territory side (``alzette.territory.waste``) knows bins, lifts and centre
passages but no person; this module holds who holds which bin, counts the lifts
for the household, prices them, and decides at a centre's gate. It reads the
territory through ``alzette.territory.waste.services`` (centres, occupancy, the
anonymous passage) and ``alzette.territory.geo`` (which communes are the
territory's), both looked up when called so that this app loads without them.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import import_module
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.core.repositories import PERSONAL
from alzette.personal.households.models import (
    BinAllocation,
    CardKind,
    CentreCard,
    CentreVisit,
    GateKey,
    Household,
    HouseholdLift,
    LedgerRecord,
    Tariff,
)

BIN_PREFIX = "urn:ngsi-ld:WasteContainer:"
GATE_KEY_PREFIX = "alzg"
#: Who records the gate's decisions in the ledger.
GATE_ACTOR = "system:households-gate"
CENTS = Decimal("0.01")


def _record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    """Append a ledger entry and keep its opening here (call last in the transaction)."""
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=PERSONAL, object_ref=object_ref
    )


def _waste() -> ModuleType:
    """The territory's waste services (helper-owned; looked up at call time)."""
    return import_module("alzette.territory.waste.services")


# --- Households and bins ------------------------------------------------------------------


def bin_urn(value: str) -> str:
    """``bin-57038-001`` or its URN -> the URN (the form stored)."""
    value = value.strip()
    return value if value.startswith(BIN_PREFIX) else BIN_PREFIX + value


def households_of(user: Any) -> QuerySet[Household]:
    if not getattr(user, "is_authenticated", False):
        return Household.objects.none()
    return Household.objects.filter(members=user)


def household_of(user: Any) -> Household | None:
    """The person's household (the first, should they belong to several)."""
    return households_of(user).order_by("created_at").first()


def create_household(
    commune_code: str, reference: str, *, members: list[Any] = (), actor: str = ""
) -> Household:
    with transaction.atomic(using=PERSONAL):
        household = Household.objects.create(commune_code=commune_code, reference=reference)
        if members:
            household.members.set(members)
    return household


def holder_on(bin_id: str, day: date) -> Household | None:
    """The household that held ``bin_id`` on ``day``."""
    allocation = (
        BinAllocation.objects.filter(bin_id=bin_urn(bin_id), starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
        .select_related("household")
        .first()
    )
    return allocation.household if allocation else None


def allocate_bin(
    household: Household, bin_id: str, actor: str, *, starts_on: date | None = None
) -> BinAllocation:
    """Give ``bin_id`` to ``household`` from ``starts_on`` (today by default), ending the
    bin's current allocation, if any, that day. Recorded as ``household.bin_allocated``."""
    urn = bin_urn(bin_id)
    starts_on = starts_on or timezone.localdate()
    with transaction.atomic(using=PERSONAL):
        current = (
            BinAllocation.objects.select_for_update()
            .filter(bin_id=urn, ends_on__isnull=True)
            .first()
        )
        if current is not None:
            if current.household_id == household.pk:
                raise ValidationError(_("This household already holds this bin."))
            if current.starts_on >= starts_on:
                raise ValidationError(
                    _("The bin's current allocation starts on or after that day.")
                )
            current.ends_on = starts_on
            current.save()
        allocation = BinAllocation.objects.create(
            household=household, bin_id=urn, starts_on=starts_on
        )
        _record(
            "household.bin_allocated",
            actor,
            f"bin-allocation:{allocation.pk}",
            {"bin": urn, "household": str(household.pk), "starts_on": starts_on.isoformat()},
        )
    return allocation


# --- Lifts ------------------------------------------------------------------------------


def count_lift(
    bin_id: str, lifted_at: datetime, weight_kg: float | None, lift_id: int
) -> HouseholdLift | None:
    """Count a territory lift for the household holding the bin that day; idempotent
    on ``lift_id``. None when no household held the bin (a collective or unallocated bin)."""
    household = holder_on(bin_id, timezone.localdate(lifted_at))
    if household is None:
        return None
    existing = HouseholdLift.objects.filter(lift_id=lift_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic(using=PERSONAL):
            return HouseholdLift.objects.create(
                household=household,
                bin_id=bin_urn(bin_id),
                lifted_at=lifted_at,
                weight_kg=weight_kg,
                lift_id=lift_id,
            )
    except (IntegrityError, ValidationError):  # the same lift received concurrently
        return HouseholdLift.objects.filter(lift_id=lift_id).first()


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def lifts_for(user: Any, year: int) -> list[HouseholdLift]:
    """The lifts of the person's households in ``year``, latest first."""
    start, end = _year_bounds(year)
    return list(
        HouseholdLift.objects.filter(
            household__in=households_of(user), lifted_at__gte=start, lifted_at__lt=end
        ).order_by("-lifted_at")
    )


def lifts_by_month(household: Household, year: int) -> list[dict[str, Any]]:
    """Twelve rows: month number, lifts and kilograms."""
    start, end = _year_bounds(year)
    rows = {m: {"month": m, "lifts": 0, "weight_kg": 0.0} for m in range(1, 13)}
    for lift in household.lifts.filter(lifted_at__gte=start, lifted_at__lt=end):
        row = rows[timezone.localtime(lift.lifted_at).month]
        row["lifts"] += 1
        row["weight_kg"] += lift.weight_kg or 0.0
    for row in rows.values():
        row["weight_kg"] = round(row["weight_kg"], 1)
    return list(rows.values())


# --- Bills ------------------------------------------------------------------------------


def tariff_for(commune_code: str, year: int) -> Tariff | None:
    """The commune's tariff for the year, else the territory's (commune left empty)."""
    found = {
        t.commune_code: t
        for t in Tariff.objects.filter(year=year, commune_code__in=[commune_code, ""])
    }
    return found.get(commune_code) or found.get("")


def set_tariff(
    commune_code: str,
    year: int,
    *,
    fixed_eur: Decimal,
    per_lift_eur: Decimal,
    per_kg_eur: Decimal,
    included_lifts: int,
) -> Tariff:
    with transaction.atomic(using=PERSONAL):
        tariff, _created = Tariff.objects.update_or_create(
            commune_code=commune_code,
            year=year,
            defaults={
                "fixed_eur": fixed_eur,
                "per_lift_eur": per_lift_eur,
                "per_kg_eur": per_kg_eur,
                "included_lifts": included_lifts,
            },
        )
    return tariff


@dataclass(frozen=True)
class Bill:
    """An estimate of a household's yearly bill and how it is computed:
    fixed part + (lifts beyond those included) * price per lift + kg * price per kg,
    and the same with lifts and kilograms projected to the year's end at the pace
    observed so far."""

    year: int
    commune_code: str
    tariff_commune: str  # "" when the territory's tariff applies
    fixed_eur: Decimal
    lifts: int
    included_lifts: int
    extra_lifts: int
    per_lift_eur: Decimal
    lifts_eur: Decimal
    weight_kg: Decimal
    per_kg_eur: Decimal
    weight_eur: Decimal
    total_eur: Decimal
    as_of: date
    days_elapsed: int
    days_in_year: int
    projected_lifts: int
    projected_weight_kg: Decimal
    projected_total_eur: Decimal


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def _price(tariff: Tariff, lifts: int, weight: Decimal) -> tuple[int, Decimal, Decimal, Decimal]:
    extra = max(lifts - tariff.included_lifts, 0)
    lifts_eur = _money(extra * tariff.per_lift_eur)
    weight_eur = _money(weight * tariff.per_kg_eur)
    return extra, lifts_eur, weight_eur, _money(tariff.fixed_eur + lifts_eur + weight_eur)


def bill_for(household: Household, year: int, *, today: date | None = None) -> Bill | None:
    """The household's estimated bill for ``year``; None without a tariff for that year."""
    tariff = tariff_for(household.commune_code, year)
    if tariff is None:
        return None
    today = today or timezone.localdate()
    start, end = _year_bounds(year)
    totals = household.lifts.filter(lifted_at__gte=start, lifted_at__lt=end).aggregate(
        n=Count("pk"), kg=Sum("weight_kg")
    )
    lifts = totals["n"] or 0
    weight = Decimal(str(round(totals["kg"] or 0.0, 1)))
    days_in_year = 366 if calendar.isleap(year) else 365
    if year < today.year:
        elapsed = days_in_year
    elif year > today.year:
        elapsed = 0
    else:
        elapsed = (today - date(year, 1, 1)).days + 1
    extra, lifts_eur, weight_eur, total = _price(tariff, lifts, weight)
    if elapsed:
        projected_lifts = round(lifts * days_in_year / elapsed)
        projected_weight = (weight * days_in_year / elapsed).quantize(Decimal("0.1"))
    else:
        projected_lifts, projected_weight = 0, Decimal("0.0")
    *_, projected_total = _price(tariff, projected_lifts, projected_weight)
    return Bill(
        year=year,
        commune_code=household.commune_code,
        tariff_commune=tariff.commune_code,
        fixed_eur=tariff.fixed_eur,
        lifts=lifts,
        included_lifts=tariff.included_lifts,
        extra_lifts=extra,
        per_lift_eur=tariff.per_lift_eur,
        lifts_eur=lifts_eur,
        weight_kg=weight,
        per_kg_eur=tariff.per_kg_eur,
        weight_eur=weight_eur,
        total_eur=total,
        as_of=min(today, date(year, 12, 31)),
        days_elapsed=elapsed,
        days_in_year=days_in_year,
        projected_lifts=projected_lifts,
        projected_weight_kg=projected_weight,
        projected_total_eur=projected_total,
    )


def estimated_bill(user: Any, year: int) -> Bill | None:
    """The estimated bill of the person's household for ``year`` (None without a
    household or without a tariff)."""
    household = household_of(user)
    return bill_for(household, year) if household else None


# --- Recycling centre cards -------------------------------------------------------------


def _card_key() -> bytes:
    configured = getattr(settings, "ALZETTE_HOUSEHOLDS_CARD_KEY", "")
    secret = configured or f"alzette.households.cards:{settings.SECRET_KEY}"
    return hashlib.sha256(secret.encode()).digest()


def normalise_card(kind: str, value: str) -> str:
    """Upper case without surrounding spaces; a plate also loses inner spaces and dashes
    (``ab-123 cd`` and ``AB123CD`` are one plate)."""
    value = (value or "").strip().upper()
    if kind == CardKind.PLATE:
        value = re.sub(r"[\s-]+", "", value)
    return value


def card_digest(kind: str, value: str) -> str:
    normalised = normalise_card(kind, value)
    message = f"{kind}:{normalised}".encode()
    return hmac.new(_card_key(), message, hashlib.sha256).hexdigest()


def register_card(household: Household, kind: str, value: str) -> CentreCard:
    """Register a badge or a plate for ``household``; only its keyed digest and its last
    three characters are stored."""
    if kind not in CardKind.values:
        raise ValidationError(_("A card is a badge or a number plate."))
    normalised = normalise_card(kind, value)
    if not 3 <= len(normalised) <= 64:
        raise ValidationError(_("A badge or plate has between 3 and 64 characters."))
    digest = card_digest(kind, normalised)
    if CentreCard.objects.filter(digest=digest).exists():
        raise ValidationError(_("This badge or plate is already registered."))
    return CentreCard.objects.create(
        household=household, kind=kind, digest=digest, last_chars=normalised[-3:]
    )


def find_card(*, badge: str | None = None, plate: str | None = None) -> CentreCard | None:
    kind, value = (CardKind.BADGE, badge) if badge is not None else (CardKind.PLATE, plate)
    if not value:
        return None
    return (
        CentreCard.objects.filter(digest=card_digest(kind, value))
        .select_related("household")
        .first()
    )


# --- Gate keys --------------------------------------------------------------------------


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_gate_key(centre: str) -> str:
    """A new key for ``centre``'s gate; returned once, stored hashed."""
    key = f"{GATE_KEY_PREFIX}_{secrets.token_urlsafe(32)}"
    GateKey.objects.create(centre=centre, key_hash=_hash_key(key))
    return key


def revoke_gate_keys(centre: str) -> int:
    return GateKey.objects.filter(centre=centre, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def gate_key_valid(centre: str, key: str | None) -> bool:
    """Whether ``key`` is a live key of ``centre`` (compared in constant time)."""
    if not key or not key.startswith(GATE_KEY_PREFIX + "_") or len(key) > 128:
        return False
    digest = _hash_key(key)
    found = False
    for stored in GateKey.objects.filter(centre=centre, revoked_at__isnull=True).values_list(
        "key_hash", flat=True
    ):
        found |= hmac.compare_digest(stored, digest)
    return found


# --- Recycling centre access ------------------------------------------------------------


class UnknownCentre(LookupError):
    """No recycling centre has this short name."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: allowed, unknown_card, not_resident, quota_exhausted, full
    reason: str
    #: Visits the household has left this year after this decision (0 when unknown).
    remaining: int


def _centre_slug(centre: dict[str, Any]) -> str:
    return str(centre.get("slug") or centre.get("centre") or "")


def centre(slug: str) -> dict[str, Any]:
    """The territory's description of centre ``slug`` (raises ``UnknownCentre``)."""
    try:
        known = _waste().centres()
    except ImportError:
        known = []
    for found in known:
        if _centre_slug(found) == slug:
            return found
    raise UnknownCentre(slug)


def centres() -> list[dict[str, Any]]:
    try:
        return [{**c, "slug": _centre_slug(c)} for c in _waste().centres()]
    except ImportError:
        return []


def occupancy(slug: str) -> dict[str, Any] | None:
    try:
        return _waste().centre_occupancy(slug)
    except (ImportError, LookupError, ObjectDoesNotExist):
        return None


def resident_communes() -> frozenset[str]:
    """INSEE codes of the territory's communes (the CCPHVA's)."""
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    return frozenset(
        TerritorialUnit.objects.filter(kind=UnitKind.COMMUNE).values_list("code", flat=True)
    )


def quota(centre_info: dict[str, Any]) -> int:
    """Visits a household may make per year, as the territory's centre sets it."""
    if "visits_per_year" in centre_info:
        return int(centre_info["visits_per_year"] or 0)
    from alzette.territory.waste.models import Centre

    found = Centre.objects.filter(slug=_centre_slug(centre_info)).values_list(
        "visits_per_year", flat=True
    )
    return int(found.first() or 0)


def visits_used(household: Household, year: int) -> int:
    start, end = _year_bounds(year)
    return household.visits.filter(allowed=True, at__gte=start, at__lt=end).count()


def visits_left(household: Household, centre_info: dict[str, Any], year: int) -> int:
    return max(quota(centre_info) - visits_used(household, year), 0)


def decide_access(
    centre_slug: str,
    *,
    badge: str | None = None,
    plate: str | None = None,
    at: datetime | None = None,
) -> Decision:
    """Decide at ``centre_slug``'s gate for a badge or a plate, record the decision
    (``CentreVisit`` for a known card, ``centre.access_refused`` in the ledger for a
    refusal, without the card) and the anonymous passage on the territory side."""
    info = centre(centre_slug)
    at = at or timezone.now()
    card = find_card(badge=badge, plate=plate)
    if card is None:
        decision = Decision(False, "unknown_card", 0)
    else:
        decision = _decide(card.household, info, at)
    with transaction.atomic(using=PERSONAL):
        if card is not None:
            CentreVisit.objects.create(
                household=card.household,
                centre=centre_slug,
                at=at,
                allowed=decision.allowed,
                reason=decision.reason,
            )
        if not decision.allowed:
            _record(
                "centre.access_refused",
                GATE_ACTOR,
                f"centre:{centre_slug}",
                {"centre": centre_slug, "reason": decision.reason, "at": at.isoformat()},
            )
    _waste().record_passage(centre_slug, "in", decision.allowed, at)
    return decision


def _decide(household: Household, info: dict[str, Any], at: datetime) -> Decision:
    year = timezone.localtime(at).year
    left = visits_left(household, info, year)
    if household.commune_code not in resident_communes():
        return Decision(False, "not_resident", 0)
    if left <= 0:
        return Decision(False, "quota_exhausted", 0)
    state = _waste().centre_occupancy(_centre_slug(info))
    if state.get("capacity") and state.get("inside", 0) >= state["capacity"]:
        return Decision(False, "full", left)
    return Decision(True, "allowed", left - 1)


def record_exit(centre_slug: str, *, at: datetime | None = None) -> None:
    """A vehicle left ``centre_slug`` (anonymous: the exit is not tied to a card)."""
    centre(centre_slug)
    _waste().record_passage(centre_slug, "out", True, at or timezone.now())


# --- Agents' scope ----------------------------------------------------------------------


def communes_in_scope(user: Any) -> frozenset[str]:
    """The communes an agent acts for: their unit's commune, every commune for the
    EPCI's agents and for administrators (``accounts.authz.unit_scope``)."""
    from alzette.personal.accounts.authz import unit_scope

    communes = resident_communes()
    return frozenset(code for code in unit_scope(user) if code in communes)
