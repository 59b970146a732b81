"""Unified search across the territory's data: a registry of search sources.

A source is a class deriving from ``SearchSource``, named by its dotted path
in the setting ``ALZETTE_SEARCH_SOURCES`` (``DEFAULT_SOURCES`` when unset).
To add one (NGSI-LD entities, datasets...), write the class in its own
context, give it a unique ``name``, implement ``search``, and add its path
to the setting (or to ``DEFAULT_SOURCES``). The system check
``search.E001`` refuses a path that does not import or is not a source.

``search()`` asks every source and merges their hits by score. A source that
fails is logged and left out; the others still answer. Sources publish only
what anyone may read: unified search has no notion of the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

SETTING = "ALZETTE_SEARCH_SOURCES"
DEFAULT_SOURCES: tuple[str, ...] = ("alzette.territory.documents.sources.DocumentSearchSource",)
#: Languages a search may be in (the store's and the interface's).
LANGUAGES = ("fr", "de", "en", "lb", "pt")
MAX_LIMIT = 100


@dataclass(frozen=True)
class SearchHit:
    """One result of a source.

    - ``source``: the source's ``name``; ``type``: what the hit is (``Document``,
      an NGSI-LD entity type...); ``id``: its identifier (a URN for documents
      and entities).
    - ``title``: plain text. ``snippet``: HTML, the text escaped and the
      matching words in ``<mark>``; may be empty.
    - ``score``: in [0, 1), higher is better; sources should scale their own
      ranking into that range so that merged lists make sense.
    - ``url``: where a client gets the thing itself (an API address).
    """

    source: str
    id: str
    title: str
    snippet: str
    score: float
    url: str
    type: str


class SearchSource:
    """Base class of search sources. Subclasses set ``name`` and implement ``search``.

    Instances are created once per process (without arguments) and may be
    called from several threads at once: keep no per-query state on them.
    """

    name: ClassVar[str] = ""

    def search(self, query: str, language: str | None, limit: int) -> list[SearchHit]:
        """At most ``limit`` hits for ``query``, best first.

        ``query`` is stripped, 1 to 200 characters, without control
        characters. ``language`` (one of ``LANGUAGES``, or None) is the
        language the person searches in: a source may keep to content in it,
        or use it to analyse the query.
        """
        raise NotImplementedError


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    #: Names of the sources that failed (logged); their hits are missing.
    failed: list[str] = field(default_factory=list)


_cache: dict[tuple[str, ...], list[SearchSource]] = {}


def source_paths() -> tuple[str, ...]:
    return tuple(getattr(settings, SETTING, DEFAULT_SOURCES))


def sources() -> list[SearchSource]:
    """The configured sources, in the order of the setting."""
    paths = source_paths()
    if paths not in _cache:
        found = []
        for path in paths:
            cls = import_string(path)
            if not (isinstance(cls, type) and issubclass(cls, SearchSource)) or not cls.name:
                raise TypeError(f"{path} is not a SearchSource with a name")
            found.append(cls())
        _cache[paths] = found
    return _cache[paths]


def search(query: str, language: str | None = None, limit: int = 20) -> SearchResults:
    """Every source's hits for ``query``, merged: best score first, at most ``limit``."""
    results = SearchResults()
    for source in sources():
        try:
            results.hits += source.search(query, language, limit)
        except Exception:
            logger.exception("Search source %s failed", source.name)
            results.failed.append(source.name)
    order = {source.name: rank for rank, source in enumerate(sources())}
    results.hits.sort(key=lambda hit: (-hit.score, order.get(hit.source, 0), hit.title, hit.id))
    results.hits = results.hits[:limit]
    return results


@register("alzette")
def check_sources(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """search.E001: every path of ``ALZETTE_SEARCH_SOURCES`` is a named SearchSource,
    and no two sources share a name."""
    errors, names = [], set()
    for path in source_paths():
        try:
            cls = import_string(path)
        except ImportError as exc:
            errors.append(Error(f"{SETTING}: cannot import {path}: {exc}", id="search.E001"))
            continue
        if not (isinstance(cls, type) and issubclass(cls, SearchSource)) or not cls.name:
            errors.append(
                Error(f"{SETTING}: {path} is not a SearchSource with a name", id="search.E001")
            )
        elif cls.name in names:
            errors.append(Error(f"{SETTING}: two sources are named {cls.name}", id="search.E001"))
        else:
            names.add(cls.name)
    return errors
