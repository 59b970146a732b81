"""Aggregate releases: personal rows in, k-anonymous (optionally noisy) cells out.

An *aggregate spec* (a subclass of ``AggregateSpec`` listed by dotted path in
``ALZETTE_BRIDGE_AGGREGATES``) reads the personal repository and yields ``Row``
objects: a commune, a period, the subject (household or account) the row is
about, its values, and optionally a category. The engine groups the rows into
cells by commune, period and category, plus, for categorised specs, a total per
commune and period (category ""), and then:

1. counts the distinct subjects of each cell and suppresses every cell with fewer
   than ``k`` (``ALZETTE_BRIDGE_K``, default 10, at least 2);
2. suppresses more cells wherever a suppressed cell could be recomputed from a
   released total (complementary suppression, ``_complementary``);
3. optionally adds discrete Laplace noise to the counts and bounded sums
   (``ALZETTE_BRIDGE_EPSILON``; off by default), after suppression was decided
   on the true counts;
4. writes the released cells to the territory repository, replacing the spec's
   previous release in one transaction, and logs the release (table and ledger).

Subject keys never leave this module's memory. See docs/bridge.md.

To add a spec (households' bin lifts, water readings...), copy a sibling such as
``alzette.bridge.procedures.ProcedureFiles`` into a module of the bridge and list
its dotted path in the setting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from alzette.bridge import privacy
from alzette.bridge.pseudonyms import pseudonym
from alzette.core.repositories import TERRITORY
from alzette.territory.events import services as territory

DEFAULT_K = 10
#: The category of a total over every category of a commune and period.
TOTAL = ""
COUNT = "subjects"  # the figure counting a cell's distinct subjects


class AggregateError(ValueError):
    """A release the bridge refuses (bad settings, unknown spec); the message says why."""


@dataclass(frozen=True)
class Measure:
    """A released figure besides the count of subjects.

    ``sum`` adds the rows' values and is released as an integer (yield values in a
    unit small enough: litres rather than cubic metres); ``mean`` averages the rows
    that have one, rounded to ``digits``.
    ``bound`` caps what one subject adds to a sum in a cell: it is the sum's
    sensitivity, so only sums with a bound are released when differential privacy
    is on (means never are then).
    """

    name: str
    kind: Literal["sum", "mean"] = "sum"
    bound: int | None = None
    digits: int = 1  # rounding of means

    @property
    def type(self) -> str:
        return "number" if self.kind == "mean" else "integer"


class Row(NamedTuple):
    """One personal-side fact. ``subject_key`` identifies the household or person and
    never leaves the bridge; ``values`` maps measure names to numbers (or None)."""

    commune_code: str
    period: str
    subject_key: Hashable
    values: Mapping[str, float | None] = {}
    category: str = ""


class AggregateSpec:
    """Base class of the bridge's aggregates (see the module's docstring)."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    measures: ClassVar[tuple[Measure, ...]] = ()
    #: Whether rows carry a category: then a total per commune and period is released too.
    categorised: ClassVar[bool] = False

    def rows(self) -> Iterable[Row]:
        """The personal-side rows, read from the personal repository."""
        raise NotImplementedError

    def released(self, cells: list[dict[str, Any]]) -> None:
        """Called inside the territory transaction of a release, with its cells, for a
        spec that also feeds an older territory table."""


def registry() -> dict[str, AggregateSpec]:
    """name -> spec, in the order of ``ALZETTE_BRIDGE_AGGREGATES``."""
    found: dict[str, AggregateSpec] = {}
    for path in settings.ALZETTE_BRIDGE_AGGREGATES:
        spec = import_string(path)()
        found[spec.name] = spec
    return found


def get(name: str) -> AggregateSpec:
    specs = registry()
    if name not in specs:
        raise AggregateError(_("Unknown aggregate %(name)s; one of: %(names)s.")
                             % {"name": name, "names": ", ".join(specs)})  # fmt: skip
    return specs[name]


def check_k(value: Any) -> int:
    """``k`` as configured: an integer of at least 2 (a cell of one is a person)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise AggregateError(_("ALZETTE_BRIDGE_K must be an integer of at least 2, not %(k)r.")
                             % {"k": value})  # fmt: skip
    return value


def settings_k() -> int:
    return check_k(getattr(settings, "ALZETTE_BRIDGE_K", DEFAULT_K))


def check_epsilon(value: Any) -> float | None:
    try:
        return privacy.check_epsilon(value)
    except privacy.PrivacyError as error:
        raise AggregateError(str(error)) from None


def settings_epsilon() -> float | None:
    return check_epsilon(getattr(settings, "ALZETTE_BRIDGE_EPSILON", None))


# --- Cells ------------------------------------------------------------------------------


Key = tuple[str, str, str]  # commune, period, category


@dataclass
class Cell:
    """A cell's true content: per subject, per measure, [sum, number of values]."""

    key: Key
    subjects: dict[Hashable, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, subject: Hashable, values: Mapping[str, float | None]) -> None:
        own = self.subjects.setdefault(subject, {})
        for name, value in values.items():
            if value is not None:
                total = own.setdefault(name, [0.0, 0])
                total[0] += value
                total[1] += 1

    def true_value(self, measure: Measure) -> float | None:
        totals = [own[measure.name] for own in self.subjects.values() if measure.name in own]
        added, count = sum(t[0] for t in totals), sum(t[1] for t in totals)
        if measure.kind == "mean":
            return round(added / count, measure.digits) if count else None
        return round(added)

    def bounded_sum(self, measure: Measure) -> int:
        """The sum with each subject's contribution clamped to [0, bound]."""
        bound = measure.bound or 0
        parts = (own.get(measure.name, [0.0])[0] for own in self.subjects.values())
        return round(sum(min(max(part, 0.0), bound) for part in parts))


def build_cells(rows: Iterable[Row], categorised: bool) -> dict[Key, Cell]:
    cells: dict[Key, Cell] = {}
    for row in rows:
        if categorised and row.category == TOTAL:
            raise AggregateError(_("A categorised aggregate has a row without a category."))
        keys = [(row.commune_code, row.period, row.category if categorised else TOTAL)]
        if categorised:
            keys.append((row.commune_code, row.period, TOTAL))
        for key in keys:
            cells.setdefault(key, Cell(key)).add(row.subject_key, row.values)
    return cells


# --- Suppression ------------------------------------------------------------------------


def primary_suppression(cells: dict[Key, Cell], k: int) -> set[Key]:
    """Cells describing fewer than k distinct subjects."""
    return {key for key, cell in cells.items() if len(cell.subjects) < k}


def complementary_suppression(cells: dict[Key, Cell], suppressed: set[Key], k: int) -> set[Key]:
    """More cells to suppress so that no suppressed cell can be recomputed from a total.

    A total minus its released categories gives the figures of its suppressed
    categories taken together: that residue must itself describe at least k
    distinct subjects. While it does not, the smallest released category of the
    total is suppressed too (a category describes no more subjects than its total,
    so the residue of all categories is the total and the loop ends).
    """
    groups: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for key in cells:
        if key[2] != TOTAL:
            groups[key[:2]].append(key)
    more: set[Key] = set()
    for (commune, period), children in groups.items():
        if (commune, period, TOTAL) in suppressed:
            continue
        hidden = [key for key in children if key in suppressed]
        released = sorted((key for key in children if key not in suppressed),
                          key=lambda key: (len(cells[key].subjects), key))  # fmt: skip
        while hidden and len(_union(cells, hidden)) < k:
            hidden.append(released.pop(0))
            more.add(hidden[-1])
    return more


def _union(cells: dict[Key, Cell], keys: list[Key]) -> set[Hashable]:
    found: set[Hashable] = set()
    for key in keys:
        found.update(cells[key].subjects)
    return found


# --- Figures ----------------------------------------------------------------------------


@dataclass
class Noise:
    """Differential privacy of one release: the budget per cell and the previous
    release's figures, kept while their true value is unchanged."""

    spec: str
    epsilon: float
    previous: dict[Key, Any]

    def figure(
        self, key: Key, name: str, true: int, sensitivity: int, shares: int
    ) -> tuple[int, str]:
        """(released value, fingerprint of the true value)."""
        scale = privacy.noise_scale(sensitivity, self.epsilon / shares)
        label = "|".join((self.spec, *key, name, str(true), repr(scale)))
        fingerprint = pseudonym("bridge.noise", label)[:32]
        earlier = self.previous.get(key)
        if earlier is not None and earlier.fingerprints.get(name) == fingerprint:
            return _earlier_value(earlier, name), fingerprint
        return privacy.noisy(true, scale), fingerprint


def _earlier_value(earlier: Any, name: str) -> int:
    return earlier.subjects if name == COUNT else earlier.measures[name]


def figures(spec: AggregateSpec, cell: Cell, noise: Noise | None) -> dict[str, Any]:
    """The released figures of a cell that passed suppression."""
    count = len(cell.subjects)
    if noise is None:
        measures = {m.name: cell.true_value(m) for m in spec.measures}
        return {"subjects": count, "measures": measures, "fingerprints": {}}
    noised = [m for m in spec.measures if m.kind == "sum" and m.bound]
    shares = 1 + len(noised)  # the cell's budget is split between its noisy figures
    subjects, prints = noise.figure(cell.key, COUNT, count, 1, shares)
    measures, fingerprints = dict.fromkeys(m.name for m in spec.measures), {COUNT: prints}
    for measure in noised:
        true = cell.bounded_sum(measure)
        value, prints = noise.figure(cell.key, measure.name, true, measure.bound or 1, shares)
        measures[measure.name], fingerprints[measure.name] = value, prints
    return {"subjects": subjects, "measures": measures, "fingerprints": fingerprints}


# --- Releasing --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    spec: str
    released: int
    suppressed: int
    k: int
    epsilon: float | None


def compute(spec: AggregateSpec, k: int, epsilon: float | None) -> tuple[list[dict], dict]:
    """The cells to release and the release log's fields, nothing written."""
    cells = build_cells(spec.rows(), spec.categorised)
    hidden = primary_suppression(cells, k)
    hidden |= complementary_suppression(cells, hidden, k)
    previous = {(a.commune_code, a.period, a.category): a for a in territory.aggregates(spec.name)}
    noise = Noise(spec.name, epsilon, previous) if epsilon else None
    released = [
        {"commune_code": key[0], "period": key[1], "category": key[2],
         **figures(spec, cells[key], noise)}
        for key in sorted(cells) if key not in hidden
    ]  # fmt: skip
    periods = sorted({key[1] for key in cells}) or [""]
    log = {"period_from": periods[0], "period_to": periods[-1], "k": k, "epsilon": epsilon,
           "cells_suppressed": len(hidden),
           "measures": [{"name": m.name, "type": m.type} for m in spec.measures]}  # fmt: skip
    return released, log


def release(spec: AggregateSpec, k: int | None = None, epsilon: float | None = None) -> Outcome:
    """Release one spec now (``k`` and ``epsilon`` default to the settings)."""
    k = settings_k() if k is None else check_k(k)
    epsilon = settings_epsilon() if epsilon is None else check_epsilon(epsilon)
    cells, log = compute(spec, k, epsilon)
    with transaction.atomic(using=TERRITORY):
        territory.replace_aggregates(spec.name, log, cells)
        spec.released(cells)
    return Outcome(spec.name, len(cells), log["cells_suppressed"], k, epsilon)


def release_all(names: Iterable[str] = ()) -> list[Outcome]:
    """Release the named specs, or every registered one; refuse bad settings first."""
    settings_k(), settings_epsilon()
    specs = [get(name) for name in names] if names else list(registry().values())
    return [release(spec) for spec in specs]
