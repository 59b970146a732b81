"""Authorisation source of truth for organisational scope.

Every ability that depends on "which units may this person act for" reads
``unit_scope``; models' ``get_abilities`` methods build on it, and pages, APIs
and tests call those methods rather than re-deciding.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from alzette.personal.accounts.models import OrganisationalUnit, Role


def _children_by_parent() -> dict[str | None, list[str]]:
    tree: dict[str | None, list[str]] = defaultdict(list)
    for code, parent in OrganisationalUnit.objects.values_list("code", "parent__code"):
        tree[parent].append(code)
    return tree


def descendants(code: str, tree: dict[str | None, list[str]] | None = None) -> set[str]:
    """``code`` and every unit below it."""
    tree = tree if tree is not None else _children_by_parent()
    found, todo = set(), [code]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(tree.get(current, ()))
    return found


def unit_scope(user: Any) -> frozenset[str]:
    """Codes of the units ``user`` may act for: none for citizens and partners, their
    unit and what lies below it for agents, every unit for administrators."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_alzette_unit_scope", None)
    if cached is not None:
        return cached
    if user.role == Role.ADMINISTRATOR:
        scope = frozenset(OrganisationalUnit.objects.values_list("code", flat=True))
    elif user.role == Role.AGENT and user.unit_id is not None:
        scope = frozenset(descendants(user.unit.code))
    else:
        scope = frozenset()
    user._alzette_unit_scope = scope  # one computation per request-bound user object
    return scope


def can_act_for(user: Any, unit_code: str) -> bool:
    """May ``user`` act on behalf of the unit ``unit_code``?"""
    return unit_code in unit_scope(user)
