"""Who may do what with waste containers, recycling centres and pick-up requests.

Containers and centres are operational tools of the EPCI's waste service: agents
(and administrators) see and act on them; citizens and partners see only the
public occupancy of the centres. The actor is read by its attributes (the
territory never imports the accounts app).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alzette.territory.waste.models import PickupRequest

SYSTEM = "system:waste"


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


def container_abilities(actor: Actor) -> dict[str, bool]:
    return {"view": actor.agent}


def centre_abilities(actor: Actor) -> dict[str, bool]:
    # The occupancy itself is public (citizens plan their visit); the rest is the service's.
    return {"view_occupancy": True, "view": actor.agent, "request_pickup": actor.agent}


def pickup_abilities(actor: Actor, request: PickupRequest) -> dict[str, bool]:
    open_ = request.open
    return {
        "view": actor.agent,
        "schedule": actor.agent and request.status == "requested",
        "mark_done": actor.agent and open_,
        "cancel": actor.agent and open_,
    }
