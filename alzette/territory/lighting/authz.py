"""Who may see and change lighting policies and the calendar: one abilities function,
used by the pages, the API and the tests.

Every agent sees every commune's policies and calendar (lamps cross streets, and a
neighbour's programme is useful to know); a commune's agents change their
commune's, the EPCI's agents and administrators every commune's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EPCI = "CCPHVA"
SYSTEM = "system:lighting"


class NotAllowed(Exception):
    """The actor may not make that change."""


@dataclass(frozen=True)
class Actor:
    agent: bool = False
    #: The commune an agent acts for; None for the EPCI's agents and administrators.
    commune: str | None = None
    #: The ledger's actor: the person's pseudonym, or ``system:…``.
    ref: str = SYSTEM


#: The platform itself (demo, jobs): acts on every commune.
PLATFORM = Actor(agent=True, commune=None, ref=SYSTEM)


def actor_of(user: Any) -> Actor:
    """The territory's view of a signed-in person, read by attributes (never a personal model)."""
    if not getattr(user, "is_authenticated", False):
        return Actor()
    role = getattr(user, "role", "")
    unit = getattr(getattr(user, "unit", None), "code", None)
    agent = role in ("agent", "administrator")
    commune = unit if role == "agent" and unit and unit != EPCI else None
    return Actor(agent=agent, commune=commune, ref=getattr(user, "pseudonym", "") or SYSTEM)


def abilities(actor: Actor, commune: str | None = None) -> dict[str, bool]:
    """What ``actor`` may do with the policies and overrides of ``commune`` (None: the
    pages themselves; ``change`` then says whether it may change any commune's)."""
    change = actor.agent and (actor.commune is None or commune is None or actor.commune == commune)
    return {"view": actor.agent, "change": bool(change)}


def check(actor: Actor, commune: str) -> None:
    if not abilities(actor, commune)["change"]:
        raise NotAllowed(commune)
