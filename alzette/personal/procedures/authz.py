"""Who may do what with procedures and files: the one source of truth.

- The applicant sees their own file; edits it while it is a draft or while a
  correction is requested.
- Agents instruct the files of their instructor groups only: an agent of one
  commune never sees another commune's files. A file routed to no group is
  instructed by the agents of the procedure's owner unit.
- Agents whose scope covers a procedure's unit manage the procedure (its form,
  groups and publication); managing a procedure does not open its files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alzette.personal.accounts.authz import unit_scope
from alzette.personal.accounts.models import Role

if TYPE_CHECKING:
    from alzette.personal.procedures.models import Dossier, Procedure

EDITABLE = frozenset({"draft", "correction_requested"})
OPEN = frozenset({"submitted", "in_instruction", "correction_requested"})


def _authenticated(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def is_agent(actor: Any) -> bool:
    return _authenticated(actor) and actor.role == Role.AGENT


def instructs(actor: Any, dossier: Dossier) -> bool:
    """Is ``actor`` an instructor of ``dossier``?"""
    if not is_agent(actor):
        return False
    if dossier.group_id is None:
        return dossier.procedure.unit.code in unit_scope(actor)
    return dossier.group.members.filter(pk=actor.pk).exists()


def manages(actor: Any, procedure: Procedure) -> bool:
    if not _authenticated(actor):
        return False
    if actor.role == Role.ADMINISTRATOR:
        return True
    return actor.role == Role.AGENT and procedure.unit.code in unit_scope(actor)


def dossier_abilities(dossier: Dossier, actor: Any) -> dict[str, bool]:
    own = _authenticated(actor) and dossier.user_id == actor.pk
    status = dossier.status
    instructor = status != "draft" and instructs(actor, dossier)
    return {
        "view": own or instructor,
        "edit": own and status in EDITABLE,
        "submit": own and status in EDITABLE,
        "message": (own or instructor) and status != "draft" and dossier.user_id is not None,
        "instruct": instructor and status == "submitted",
        "request_correction": instructor
        and status == "in_instruction"
        and dossier.user_id is not None,
        "decide": instructor and status == "in_instruction",
        "assign": instructor and status in OPEN,
        "note": instructor,
    }
