"""What "my data" shows of households, and what goes with an erased account.

Registered by ``HouseholdsConfig.ready``: the person's household(s), its bins, the
lifts counted for it, its recycling-centre cards (never their value: only the
last three characters are stored) and its visits. A household belongs to its
members; when the last member's account is erased, the household and everything
counted for it go too (``forget_lone_households``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from alzette.personal.households.models import (
    BinAllocation,
    CentreCard,
    CentreVisit,
    Household,
    HouseholdLift,
)


def _mine(user: Any) -> Any:
    return Household.objects.filter(members=user)


def households(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "reference": h.reference,
            "commune_code": h.commune_code,
            "members": h.n_members,
            "created_at": h.created_at,
        }
        for h in Household.objects.filter(
            pk__in=list(_mine(user).values_list("pk", flat=True))
        ).annotate(n_members=Count("members"))
    ]


def bins(user: Any) -> list[dict[str, Any]]:
    return [
        {"bin": a.bin_id, "starts_on": a.starts_on, "ends_on": a.ends_on}
        for a in BinAllocation.objects.filter(household__in=_mine(user))
    ]


def lifts(user: Any) -> list[dict[str, Any]]:
    return [
        {"lifted_at": lift.lifted_at, "bin": lift.bin_id, "weight_kg": lift.weight_kg}
        for lift in HouseholdLift.objects.filter(household__in=_mine(user))
    ]


def cards(user: Any) -> list[dict[str, Any]]:
    return [
        {"kind": c.kind, "ends_with": c.last_chars, "created_at": c.created_at}
        for c in CentreCard.objects.filter(household__in=_mine(user))
    ]


def visits(user: Any) -> list[dict[str, Any]]:
    return [
        {"centre": v.centre, "at": v.at, "allowed": v.allowed, "reason": v.reason}
        for v in CentreVisit.objects.filter(household__in=_mine(user))
    ]


def data_sources() -> dict[str, Any]:
    from alzette.personal.mydata.services import DataSource

    here = "alzette.personal.households.sources"
    return {
        "households": DataSource(
            f"{here}.households",
            _("Household"),
            {
                "reference": _("Reference"),
                "commune_code": _("Commune"),
                "members": _("Members"),
                "created_at": _("Created"),
            },
            _("The household you belong to for waste collection."),
        ),
        "household_bins": DataSource(
            f"{here}.bins",
            _("Household bins"),
            {"bin": _("Bin"), "starts_on": _("From"), "ends_on": _("Until (excluded)")},
            _("The bins your household holds or held."),
        ),
        "bin_lifts": DataSource(
            f"{here}.lifts",
            _("Bin lifts"),
            {"lifted_at": _("Lifted at"), "bin": _("Bin"), "weight_kg": _("Weight (kg)")},
            _("Each collection of your household's bins, as counted for the bill."),
        ),
        "centre_cards": DataSource(
            f"{here}.cards",
            _("Recycling centre cards"),
            {"kind": _("Kind"), "ends_with": _("Ends with"), "created_at": _("Registered")},
            _("Badges and number plates of your household (only their end is kept in clear)."),
        ),
        "centre_visits": DataSource(
            f"{here}.visits",
            _("Recycling centre visits"),
            {"centre": _("Centre"), "at": _("At"), "allowed": _("Allowed"), "reason": _("Reason")},
            _("Your household's passages at the recycling centres' gates."),
        ),
    }


def forget_lone_households(sender: object, instance: Any, **kwargs: object) -> None:
    """Before an account is deleted: delete the households it is the only member of
    (their lifts, cards and visits cascade). Shared households stay with the others."""
    mine = list(Household.objects.filter(members=instance).values_list("pk", flat=True))
    lone = (
        Household.objects.filter(pk__in=mine)
        .annotate(n=Count("members"))
        .filter(n=1)
        .values_list("pk", flat=True)
    )
    Household.objects.filter(pk__in=list(lone)).delete()
