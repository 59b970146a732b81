"""Searching the open-data catalogue: words, facets and their counts. No HTTP here.

The catalogue holds thousands of datasets, not millions: one query reads the columns
the search needs for every visible dataset (plain rows: building thousands of model
instances would cost more than the search itself), then matching and counting happen
in Python, which keeps the search accent-, case- and language-insensitive on SQLite
and PostgreSQL alike. ``load`` then reads the full datasets of one page of results.

Facets combine as people expect from checkboxes: values of one facet widen the search
(any of them), facets narrow it (all of them), and each value's count is the number of
results ticking it would give, the other facets staying as they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alzette.territory.catalogue import services, sources, vocab
from alzette.territory.catalogue.models import Dataset

FACETS = ("theme", "publisher", "licence", "format", "commune")
FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "geojson": "GeoJSON"}
_COLUMNS = ("pk", "identifier", "title", "description", "themes", "keywords", "licence",
            "communes", "source", "refreshed_at", "organisation__slug",
            "organisation__name")  # fmt: skip
_MARKS = re.compile("[\u0300-\u036f]")  # combining accents, once decomposed


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Hit:
    """A dataset found: what the search knows of it, and the dataset once ``load``-ed."""

    pk: Any
    identifier: str
    title: str
    theme_codes: tuple[str, ...]
    format_keys: tuple[str, ...]
    refreshed_at: datetime | None
    dataset: Dataset | None = None

    @property
    def themes(self) -> list[tuple[str, str]]:
        """(code, label in the active language)."""
        return [(code, str(vocab.THEMES.get(code, code))) for code in self.theme_codes]

    @property
    def formats(self) -> list[tuple[str, str]]:
        return [(key, FORMAT_LABELS.get(key, key)) for key in self.format_keys]


@dataclass
class Results:
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


@dataclass
class _Entry:
    row: dict[str, Any]
    haystack: str
    values: dict[str, frozenset[str]]
    formats: tuple[str, ...]


def fold(text: str) -> str:
    """Lower case without accents, so that "Déchets" and "DECHETS" match."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _MARKS.sub("", unicodedata.normalize("NFKD", folded))


def search(
    text: str = "",
    filters: Mapping[str, Iterable[str]] | None = None,
    *,
    language: str = "fr",
    order: str = "title",
) -> Results:
    """Visible datasets matching every word of ``text`` and the facet ``filters``
    (facet name -> values), in ``order``, with the count of every facet value."""
    chosen = {name: frozenset(values) for name, values in (filters or {}).items() if values}
    unknown = set(chosen) - set(FACETS)
    if unknown:
        raise ValueError(f"Unknown facet(s): {', '.join(sorted(unknown))}.")
    words = fold(text).split()
    rows = services.visible().values(*_COLUMNS)
    entries = [_entry(row) for row in rows]
    matching = [entry for entry in entries if all(word in entry.haystack for word in words)]
    found = [entry for entry in matching if _passes(entry, chosen)]
    hits = [_hit(entry, language) for entry in found]
    return Results(_ordered(hits, order), _facets(matching, chosen))


def load(hits: list[Hit]) -> list[Hit]:
    """``hits`` with their datasets and publishers (one query); those withdrawn since
    the search are left out."""
    found = services.visible().select_related("organisation").in_bulk([h.pk for h in hits])
    for hit in hits:
        hit.dataset = found.get(hit.pk)
    return [hit for hit in hits if hit.dataset is not None]


def _hit(entry: _Entry, language: str) -> Hit:
    row = entry.row
    return Hit(row["pk"], row["identifier"], _translated(row["title"], language),
               tuple(row["themes"] or ()), entry.formats, row["refreshed_at"])  # fmt: skip


def _translated(texts: object, language: str) -> str:
    """As ``Dataset.text``: the language's, else French, else any."""
    if not isinstance(texts, dict):
        return ""
    return texts.get(language) or texts.get("fr") or next(iter(texts.values()), "")


def _entry(row: dict[str, Any]) -> _Entry:
    texts = [row["identifier"], *_texts(row["title"]), *_texts(row["description"])]
    texts.extend(k for k in row["keywords"] or [] if isinstance(k, str))
    formats = formats_of(row["source"])
    values = {
        "theme": frozenset(row["themes"] or []),
        "publisher": frozenset([row["organisation__slug"]]),
        "licence": frozenset([row["licence"]]),
        "format": frozenset(formats),
        "commune": frozenset(row["communes"] or []),
    }
    return _Entry(row, fold(" ".join(texts)), values, formats)


def _texts(value: object) -> list[str]:
    if not isinstance(value, dict):
        return []
    return [text for text in value.values() if isinstance(text, str)]


def formats_of(source_key: str) -> tuple[str, ...]:
    """The download formats of a source's datasets; none for a source no longer
    installed (rather than failing the whole search)."""
    source = sources.registry().get(source_key)
    if source is None:
        return ()
    return tuple(f for f in services.FORMATS if f != "geojson" or source.spatial)


def _passes(entry: _Entry, chosen: Mapping[str, frozenset[str]], skip: str = "") -> bool:
    return all(name == skip or entry.values[name] & values for name, values in chosen.items())


def _ordered(hits: list[Hit], order: str) -> list[Hit]:
    by_title = sorted(hits, key=lambda hit: (fold(hit.title), hit.identifier))
    if order != "updated":
        return by_title
    # Most recently refreshed first (a stable sort keeps titles in order on ties);
    # datasets never refreshed come last.
    refreshed = [hit for hit in by_title if hit.refreshed_at]
    refreshed.sort(key=lambda hit: hit.refreshed_at, reverse=True)
    return refreshed + [hit for hit in by_title if not hit.refreshed_at]


def _facets(
    matching: list[_Entry], chosen: Mapping[str, frozenset[str]]
) -> dict[str, list[FacetValue]]:
    labels = _Labels(matching)
    facets: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        counts: Counter[str] = Counter()
        for entry in matching:
            if _passes(entry, chosen, skip=name):
                counts.update(entry.values[name])
        selected = chosen.get(name, frozenset())
        values = [
            FacetValue(value, labels.of(name, value), counts[value], value in selected)
            for value in set(counts) | selected
        ]
        facets[name] = sorted(values, key=lambda v: (-v.count, fold(v.label), v.value))
    return facets


class _Labels:
    """What people read for a facet value: translated themes, names, titles."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.publishers = {
            e.row["organisation__slug"]: e.row["organisation__name"] for e in entries
        }
        self._communes: dict[str, str] | None = None

    def of(self, facet: str, value: str) -> str:
        if facet == "theme":
            return str(vocab.THEMES.get(value, value))
        if facet == "publisher":
            return self.publishers.get(value, value)
        if facet == "licence":
            licence = vocab.LICENCES.get(value)
            return licence.title if licence else value
        if facet == "format":
            return FORMAT_LABELS.get(value, value)
        return self.communes().get(value, value)

    def communes(self) -> dict[str, str]:
        if self._communes is None:
            self._communes = commune_names()
        return self._communes


def commune_names(codes: Iterable[str] | None = None) -> dict[str, str]:
    """INSEE code -> name of the communes the territory knows (one query)."""
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using(services.DB).filter(kind=UnitKind.COMMUNE)
    if codes is not None:
        units = units.filter(code__in=list(codes))
    return dict(units.values_list("code", "name"))
