"""Who may do what with households: the one source of truth for pages and tests.

- A member sees their own household (bins, lifts, bill, visits) and nothing else.
- Agents of a household's commune, of the EPCI, and administrators manage it:
  create it, allocate bins, register cards; they set the tariffs of the communes
  in their scope (the EPCI's agents also the territory-wide tariff).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alzette.personal.households.models import Household


def _authenticated(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_manager(user: Any) -> bool:
    return _authenticated(user) and getattr(user, "role", "") in ("agent", "administrator")


def abilities(user: Any, household: Household | None = None) -> dict[str, bool]:
    """What ``user`` may do, on ``household`` when given, else in general."""
    from alzette.personal.households.services import communes_in_scope

    manager = is_manager(user)
    communes = communes_in_scope(user) if manager else frozenset()
    territory_wide = manager and _epci_wide(user, communes)
    if household is None:
        return {
            "manage": bool(communes),
            "create": bool(communes),
            "set_tariff": bool(communes),
            "set_territory_tariff": territory_wide,
        }
    mine = _authenticated(user) and household.members.filter(pk=user.pk).exists()
    manages = household.commune_code in communes
    return {
        "view": mine or manages,
        "manage": manages,
        "allocate_bin": manages,
        "register_card": manages,
    }


def _epci_wide(user: Any, communes: frozenset[str]) -> bool:
    from alzette.personal.households.services import resident_communes

    every = resident_communes()
    return bool(every) and communes >= every
