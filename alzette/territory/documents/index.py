"""The full-text index of documents: SQLite FTS5 or PostgreSQL text search.

Both backends keep one entry per document in the table ``documents_search``
(migration 0002), written in the caller's transaction, so that a document,
its row and its entry come and go together. Each document is analysed in its
own language, and a query is analysed in the language of each document it is
matched against: "énergies" finds the French "énergie" and the German
"Energie" alike.

- SQLite: an FTS5 table (``unicode61 remove_diacritics 2``) of the stems
  that ``analysis`` computes; ranked by ``bm25`` (title 10, description 4,
  text 1); snippets cut in Python.
- PostgreSQL: a ``tsvector`` per document (title weight A, description B,
  text D) in the ``alzette_<language>`` configuration (unaccent, then the
  language's Snowball stemmer), a GIN index; ranked by ``ts_rank``, snippets
  by ``ts_headline``.

Scores are brought into [0, 1) as ``s / (1 + s)``, higher is better.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from uuid import UUID

from django.db import DatabaseError, connections, transaction

from alzette.core.repositories import TERRITORY
from alzette.territory.documents import analysis

#: Text search configuration of each language on PostgreSQL (migration 0002).
PG_CONFIGS = {
    "fr": "alzette_french",
    "de": "alzette_german",
    "en": "alzette_english",
    "pt": "alzette_portuguese",
    "lb": "alzette_simple",
}
LANGUAGES = tuple(PG_CONFIGS)
#: Matches looked at per language before filters and paging apply.
MAX_CANDIDATES = 2000
#: Characters of a document's text a snippet is looked for in.
SNIPPET_SCAN_CHARS = 300_000
SNIPPET_WORDS = 30
# Private-use characters mark matches until the snippet is escaped for HTML.
_START, _STOP = "\ue000", "\ue001"
MARK_START, MARK_STOP = "<mark>", "</mark>"


def _vendor() -> str:
    return connections[TERRITORY].vendor


def _normalise(raw: float) -> float:
    # Not rounded: in a small collection where every document has the word, bm25's
    # inverse document frequency is clamped to 1e-6 and so are the scores.
    raw = max(raw, 0.0)
    return raw / (1.0 + raw)


# --- Writing -----------------------------------------------------------------------------


def put(document_id: UUID, language: str, title: str, description: str, text: str) -> None:
    """Index (or index again) one document, inside the caller's transaction."""
    if _vendor() == "postgresql":
        _pg_put(document_id, language, title, description, text)
    else:
        remove(document_id)
        with connections[TERRITORY].cursor() as cursor:
            cursor.execute(
                "INSERT INTO documents_search (document_id, language, title, description, body) "
                "VALUES (%s, %s, %s, %s, %s)",
                [
                    document_id.hex,
                    language,
                    analysis.analyse(title, language),
                    analysis.analyse(description, language),
                    analysis.analyse(text, language),
                ],
            )


_PG_UPSERT = """
INSERT INTO documents_search (document_id, language, vector)
VALUES (%s, %s,
    setweight(to_tsvector(%s::regconfig, %s), 'A')
    || setweight(to_tsvector(%s::regconfig, %s), 'B')
    || setweight(to_tsvector(%s::regconfig, %s), 'D'))
ON CONFLICT (document_id) DO UPDATE SET language = EXCLUDED.language, vector = EXCLUDED.vector
"""


_TOO_LONG = "54000"


def _pg_put(document_id: UUID, language: str, title: str, description: str, text: str) -> None:
    config = PG_CONFIGS[language]
    while True:
        try:
            # A savepoint: a refused statement must not spoil the caller's transaction.
            with transaction.atomic(using=TERRITORY), connections[TERRITORY].cursor() as cursor:
                cursor.execute(
                    _PG_UPSERT,
                    [document_id, language, config, title, config, description, config, text],
                )
            return
        except DatabaseError as exc:
            # A tsvector holds at most 1 MB (program_limit_exceeded): a huge text is
            # indexed by its first part.
            if getattr(exc.__cause__, "sqlstate", None) != _TOO_LONG or not text:
                raise
            text = text[: len(text) // 2]


def remove(document_id: UUID) -> None:
    """Drop the entry of one document, inside the caller's transaction."""
    key = document_id if _vendor() == "postgresql" else document_id.hex
    with connections[TERRITORY].cursor() as cursor:
        cursor.execute("DELETE FROM documents_search WHERE document_id = %s", [key])


# --- Searching --------------------------------------------------------------------------


def matches(query: str, languages: Iterable[str]) -> list[tuple[UUID, float]]:
    """Documents matching ``query`` among those in ``languages``, best first, with
    their score in [0, 1). Visibility and filters are the caller's."""
    found: list[tuple[UUID, float]] = []
    for language in languages:
        if _vendor() == "postgresql":
            found += _pg_matches(query, language)
        else:
            found += _sqlite_matches(query, language)
    found.sort(key=lambda pair: -pair[1])
    return found


def _sqlite_matches(query: str, language: str) -> list[tuple[UUID, float]]:
    expression = analysis.fts5_expression(analysis.parse(query), language)
    if expression is None:
        return []
    with connections[TERRITORY].cursor() as cursor:
        cursor.execute(
            "SELECT document_id, bm25(documents_search, 0.0, 0.0, 10.0, 4.0, 1.0) "
            "FROM documents_search WHERE documents_search MATCH %s AND language = %s "
            "ORDER BY 2 LIMIT %s",
            [expression, language, MAX_CANDIDATES],
        )
        # bm25 is negative, lower is better.
        return [(UUID(hex=row[0]), _normalise(-row[1])) for row in cursor.fetchall()]


def _pg_matches(query: str, language: str) -> list[tuple[UUID, float]]:
    with connections[TERRITORY].cursor() as cursor:
        cursor.execute(
            "SELECT document_id, ts_rank(vector, query) FROM documents_search, "
            "websearch_to_tsquery(%s::regconfig, %s) AS query "
            "WHERE language = %s AND vector @@ query ORDER BY 2 DESC LIMIT %s",
            [PG_CONFIGS[language], query, language, MAX_CANDIDATES],
        )
        # ts_rank is small (0.06 for one match in the text): scale it before bounding it.
        return [(row[0], _normalise(10 * row[1])) for row in cursor.fetchall()]


# --- Snippets ------------------------------------------------------------------------------


def snippet(query: str, language: str, text: str) -> str:
    """A short extract of ``text`` around the words of ``query``, as HTML: the text
    escaped, the matching words in ``<mark>``."""
    if not text:
        return ""
    text = text[:SNIPPET_SCAN_CHARS].replace(_START, "").replace(_STOP, "")
    if _vendor() == "postgresql":
        with connections[TERRITORY].cursor() as cursor:
            cursor.execute(
                "SELECT ts_headline(%s::regconfig, %s, websearch_to_tsquery(%s::regconfig, %s), "
                "%s)",
                [
                    PG_CONFIGS[language],
                    text,
                    PG_CONFIGS[language],
                    query,
                    f"StartSel={_START}, StopSel={_STOP}, MaxWords={SNIPPET_WORDS}, "
                    f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=" … "',
                ],
            )
            marked = cursor.fetchone()[0] or ""
    else:
        marked = _python_snippet(query, language, text)
    return _as_html(marked)


def _as_html(marked: str) -> str:
    marked = re.sub(r"\s+", " ", marked).strip()
    return html.escape(marked).replace(_START, MARK_START).replace(_STOP, MARK_STOP)


_WORD = re.compile(r"[^\W_]+")


def _python_snippet(query: str, language: str, text: str) -> str:
    wanted = analysis.highlight_stems(analysis.parse(query), language)
    spans = [match.span() for match in _WORD.finditer(text)]
    if not spans:
        return ""
    hits = _hits(text, spans, wanted, language)
    # The window of SNIPPET_WORDS words with the most hits (the first, on a tie).
    best, best_count, left = 0, 0, 0
    for right, _index in enumerate(hits):
        while hits[right] - hits[left] >= SNIPPET_WORDS:
            left += 1
        if right - left + 1 > best_count:
            best, best_count = hits[left], right - left + 1
    first = max(0, min(best - SNIPPET_WORDS // 4, len(spans) - SNIPPET_WORDS))
    last = min(len(spans), first + SNIPPET_WORDS) - 1
    marked_words = set(hits)
    parts, cursor = [], spans[first][0]
    for index in range(first, last + 1):
        start, end = spans[index]
        parts.append(text[cursor:start])
        word = text[start:end]
        parts.append(f"{_START}{word}{_STOP}" if index in marked_words else word)
        cursor = end
    prefix = "… " if first > 0 else ""
    suffix = " …" if last < len(spans) - 1 else ""
    return prefix + "".join(parts) + suffix


def _hits(text: str, spans: list[tuple[int, int]], wanted: set[str], language: str) -> list[int]:
    """Indexes of the words whose stem is wanted."""
    if not wanted:
        return []
    # Stemming only strips endings: a word can give a wanted stem only if it starts
    # like it ("energy" -> "energi" shares "energ"). Stems are cached per word.
    prefixes = tuple(stem[: max(len(stem) - 1, 1)] for stem in wanted)
    cache: dict[str, bool] = {}
    hits = []
    for index, (start, end) in enumerate(spans):
        folded = analysis.fold(text[start:end])
        if not folded.startswith(prefixes):
            continue
        if folded not in cache:
            cache[folded] = any(stem in wanted for stem in analysis.stems(folded, language))
        if cache[folded]:
            hits.append(index)
    return hits
