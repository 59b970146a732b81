"""Who may do what with the live map and the boards: one function per model.

The person is described by ``alzette.territory.partners.authz.actor_of`` (an
agent or administrator is ``agent``; ``ref`` is their pseudonym).
"""

from __future__ import annotations

from alzette.territory.hypervision.models import Board
from alzette.territory.partners.authz import Actor


def map_abilities(actor: Actor) -> dict[str, bool]:
    # The map shows every device and alert of the territory: agents only.
    return {"view": actor.agent, "create_board": actor.agent}


def board_abilities(actor: Actor, board: Board) -> dict[str, bool]:
    mine = actor.agent and board.owner == actor.ref
    return {
        "view": actor.agent and (mine or board.shared),
        "edit": mine,
        "delete": mine,
    }
