"""NGSI-LD entities in the unified search (``alzette.territory.search``).

Words of the query are matched, accents and case folded, against the string
values of entities' attributes (names, descriptions, addresses' top-level
strings, language maps) and their ids, in the default tenant only (the public
territory context). An entity ranks by the share of the query's words it
holds.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from typing import ClassVar

from alzette.territory.ngsild.models import DEFAULT_TENANT, AttributeIndex, Entity
from alzette.territory.ngsild.store import fold
from alzette.territory.search import SearchHit, SearchSource

DB = "territory"
_WORD = re.compile(r"\w{2,}")
_NAMES = ("name", "title", "alternateName", "description")
_MAX_WORDS = 8
_MAX_CANDIDATES = 2000


def _words(query: str) -> list[str]:
    return list(dict.fromkeys(fold(w) for w in _WORD.findall(query)))[:_MAX_WORDS]


def _local(iri: str) -> str:
    return iri.rstrip("/").replace("#", "/").rsplit("/", 1)[-1]


class EntitySearchSource(SearchSource):
    name: ClassVar[str] = "entities"

    def search(self, query: str, language: str | None, limit: int) -> list[SearchHit]:
        words = _words(query)
        if not words:
            return []
        matched: dict[int, set[str]] = defaultdict(set)
        texts: dict[int, str] = {}
        for word in words:
            rows = AttributeIndex.objects.using(DB).filter(
                entity__tenant=DEFAULT_TENANT, folded__contains=word
            )
            for pk, text in rows.values_list("entity_id", "text")[:_MAX_CANDIDATES]:
                matched[pk].add(word)
                texts.setdefault(pk, text)
        ranked = sorted(matched, key=lambda pk: (-len(matched[pk]), pk))[:limit]
        entities = Entity.objects.using(DB).in_bulk(ranked)
        return [
            self._hit(entities[pk], len(matched[pk]) / len(words), texts[pk], words, language)
            for pk in ranked
            if pk in entities
        ]

    def _hit(self, row: Entity, share: float, text: str, words: list[str],
             language: str | None) -> SearchHit:  # fmt: skip
        return SearchHit(
            source=self.name,
            id=row.entity_id,
            title=_title(row, language),
            snippet=_mark(text, words),
            score=0.9 * share,
            url=f"/ngsi-ld/v1/entities/{row.entity_id}",
            type=_local(row.types[0]) if row.types else "Entity",
        )


def _title(row: Entity, language: str | None) -> str:
    by_name = {_local(iri): instances for iri, instances in row.body.items() if instances}
    for name in _NAMES:  # in this order: JSON columns do not keep the attributes' order
        if name not in by_name:
            continue
        instance = by_name[name][0]
        if isinstance(instance.get("value"), str):
            return instance["value"]
        texts = instance.get("languageMap")
        if isinstance(texts, dict) and texts:
            chosen = texts.get(language or "") or next(iter(texts.values()))
            return chosen if isinstance(chosen, str) else str(chosen)
    return row.entity_id


def _mark(text: str, words: list[str]) -> str:
    """The text escaped, with the query's words (accents folded) in <mark>."""
    out, position = [], 0
    folded = fold(text)
    spans = sorted((m.start(), m.end()) for w in words for m in re.finditer(re.escape(w), folded))
    for start, end in spans:
        if start < position or len(folded) != len(text):
            continue  # overlapping, or folding changed the length: leave unmarked
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)
