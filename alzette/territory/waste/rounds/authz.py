"""Who may do what with collection rounds and the fleet: the one source of truth.

Rounds are an operational tool of the EPCI's waste service, so only agents (and
administrators) see them; citizens and partners never do. The actor is read by
its attributes (the territory never imports the accounts app).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alzette.territory.waste.rounds.models import Round

SYSTEM = "system:rounds"


@dataclass(frozen=True)
class Actor:
    agent: bool = False
    #: The ledger's name for them (a pseudonym), never an e-mail address.
    ref: str = SYSTEM


def actor_of(user: Any) -> Actor:
    """The territory's view of a signed-in person: an agent or not, and their pseudonym."""
    if not getattr(user, "is_authenticated", False):
        return Actor()
    return Actor(
        agent=getattr(user, "role", "") in ("agent", "administrator"),
        ref=getattr(user, "pseudonym", "") or SYSTEM,
    )


def round_abilities(actor: Actor, found: Round | None = None) -> dict[str, bool]:
    """What ``actor`` may do with rounds (``found`` None) or with one round."""
    if found is None:
        return {"view": actor.agent, "compute": actor.agent}
    return {
        "view": actor.agent,
        "validate": actor.agent and found.status == "draft",
        "mark_done": actor.agent and found.status == "validated",
    }


def fleet_abilities(actor: Actor) -> dict[str, bool]:
    """Depots and trucks: agents see them and change them (from the command line today)."""
    return {"view": actor.agent, "change": actor.agent}
