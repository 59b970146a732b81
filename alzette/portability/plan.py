"""What an import would do, object by object, worked out before anything is written.

``--dry-run`` prints the plan; a real import refuses a plan with invalid objects,
or with conflicts under the ``fail`` policy, before its first write.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

FAIL, SKIP, REPLACE = "fail", "skip", "replace"
POLICIES = (FAIL, SKIP, REPLACE)

CREATE, UPDATE, UNCHANGED, CONFLICT, INVALID = "create", "replace", "skip", "conflict", "invalid"


@dataclass(frozen=True)
class Action:
    """One object of the archive and what happens to it."""

    kind: str  # "dataset", "entity", "procedure"...
    key: str  # its natural key: identifier, slug, "tenant/entity id"...
    verb: str  # one of CREATE, UPDATE, UNCHANGED, CONFLICT, INVALID
    detail: str = ""

    def line(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.verb:9} {self.kind} {self.key}{detail}"


@dataclass
class Plan:
    policy: str
    actions: list[Action] = field(default_factory=list)
    tally: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, kind: str, key: str, exists: bool, detail: str = "", *,
            keep: bool = True) -> str:  # fmt: skip
        """Record an object; its verb follows from whether it exists and the policy.

        ``keep=False``: a creation is only counted (entities come by the million)."""
        if not exists:
            verb = CREATE
        else:
            verb = {FAIL: CONFLICT, SKIP: UNCHANGED, REPLACE: UPDATE}[self.policy]
            detail = detail or "exists"
        self.tally[(kind, verb)] += 1
        if keep or verb != CREATE:
            self.actions.append(Action(kind, key, verb, detail))
        return verb

    def refuse(self, kind: str, key: str, reason: str) -> None:
        self.tally[(kind, INVALID)] += 1
        self.actions.append(Action(kind, key, INVALID, reason))

    def verb(self, kind: str, key: str) -> str | None:
        for action in self.actions:
            if action.kind == kind and action.key == key:
                return action.verb
        return None

    def blocking(self) -> list[Action]:
        """What stops the import: invalid objects, and conflicts (policy ``fail``)."""
        return [a for a in self.actions if a.verb in (INVALID, CONFLICT)]

    def counts(self) -> dict[str, dict[str, int]]:
        """kind -> verb -> number of objects."""
        found: dict[str, dict[str, int]] = {}
        for (kind, verb), number in self.tally.items():
            found.setdefault(kind, {})[verb] = number
        return found
