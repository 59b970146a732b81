"""Who may do what with documents: the one source of truth.

- Anyone, signed in or not, reads and downloads public documents.
- Agents and administrators also read non-public ones.
- Agents publish, change, delete and link the documents of the communes
  their unit covers: an agent of a commune those that cover only that
  commune, an agent of the EPCI (or of one of its services) every document,
  including those about the whole EPCI (no commune). Administrators too.

The territory side never imports the accounts app: the actor is read by its
attributes (``is_authenticated``, ``role``, ``unit`` with ``code`` and
``parent``), and an agent's unit is placed on the territory's own units by
its code (a service sits under the unit whose code it carries up).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from alzette.territory.geo.models import TerritorialUnit, UnitKind

if TYPE_CHECKING:
    from alzette.territory.documents.models import Document

AGENT, ADMINISTRATOR = "agent", "administrator"
#: Every commune: the scope of administrators and of the EPCI's agents.
EVERYWHERE = None


def _role(actor: Any) -> str:
    if not getattr(actor, "is_authenticated", False):
        return ""
    return str(getattr(actor, "role", "") or "")


def commune_scope(actor: Any) -> frozenset[str] | None:
    """INSEE codes of the communes ``actor`` may publish for; ``EVERYWHERE`` (None)
    for all of them and the EPCI as a whole; an empty set for no writing at all."""
    role = _role(actor)
    if role == ADMINISTRATOR:
        return EVERYWHERE
    if role != AGENT:
        return frozenset()
    cached = getattr(actor, "_alzette_document_scope", False)
    if cached is not False:
        return cached
    kinds = dict(TerritorialUnit.objects.values_list("code", "kind"))
    scope: frozenset[str] | None = frozenset()
    unit, hops = getattr(actor, "unit", None), 0
    while unit is not None and hops < 10:
        kind = kinds.get(getattr(unit, "code", ""))
        if kind is not None:
            scope = EVERYWHERE if kind == UnitKind.EPCI else frozenset({unit.code})
            break
        unit, hops = getattr(unit, "parent", None), hops + 1
    actor._alzette_document_scope = scope  # once per request-bound actor
    return scope


def may_cover(actor: Any, communes: Iterable[str]) -> bool:
    """May ``actor`` write a document about ``communes`` (empty: the whole EPCI)?"""
    scope = commune_scope(actor)
    if scope is EVERYWHERE:
        return True
    codes = set(communes)
    return bool(codes) and codes <= scope


def abilities(actor: Any, document: Document | None = None) -> dict[str, bool]:
    """What ``actor`` may do: with the store when ``document`` is None, else with it."""
    role = _role(actor)
    staff = role in (AGENT, ADMINISTRATOR)
    writer = staff and commune_scope(actor) != frozenset()
    if document is None:
        return {"view_private": staff, "create": writer}
    readable = document.public or staff
    covered = writer and may_cover(actor, document.commune_codes)
    return {
        "view": readable,
        "download": readable,
        "update": covered,
        "delete": covered,
        "link": covered,
    }
