"""Text analysis for the SQLite index, and the query syntax of both backends.

PostgreSQL analyses text itself (``alzette_<language>`` configurations:
unaccent, then the Snowball stemmer of the language). SQLite's FTS5 has no
stemmer for French or German, so the same pipeline runs here, in Python, on
both the indexed text and the query: lower-case and fold (accents dropped,
"ß" as "ss", "œ" as "oe"), split into words, stem with Snowball
(``snowballstemmer``, the algorithms PostgreSQL uses). FTS5 then stores and
matches the stems; its ``unicode61 remove_diacritics 2`` tokenizer finds
them already folded.

Queries follow PostgreSQL's ``websearch_to_tsquery``: words are all
required, ``"a phrase"`` keeps its words together, ``or`` offers an
alternative, ``-word`` excludes.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

#: Snowball algorithm per language; Luxembourgish has none: words are only folded.
STEMMERS = {"fr": "french", "de": "german", "en": "english", "pt": "portuguese"}

# Letters that neither lower-casing nor decomposition turns into ASCII.
_SPECIAL = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
_WORD = re.compile(r"[^\W_]+")

#: Words too common to require in a query (PostgreSQL's configurations drop theirs).
STOP_WORDS: dict[str, frozenset[str]] = {}


def _stop(language: str, text: str) -> None:
    STOP_WORDS[language] = frozenset(text.split())


_stop(
    "fr",
    "a au aux avec ce ces dans de des du elle en et eux il je la le les leur lui ma mais "
    "me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur "
    "ta te tes toi ton tu un une vos votre vous c d j l m n s t y est sont ete etre",
)
_stop(
    "de",
    "aber als am an auch auf aus bei bin bis da dass dem den der des die dies doch du "
    "ein eine einem einen einer eines er es fur hat ich ihr im in ist ja kein mit nach "
    "nicht noch nur oder sich sie sind so uber um und uns von vor war wie wir zu zum zur",
)
_stop(
    "en",
    "a an and are as at be but by for from has have he her his i if in into is it its "
    "of on or our she so that the their them then there these they this to was we were "
    "what when which who will with you your",
)
_stop(
    "pt",
    "a ao aos as com da das de do dos e em na nas no nos o os para pela pelo por que se "
    "sem um uma uns umas",
)

_local = threading.local()  # Snowball stemmers keep state: one per thread


def fold(text: str) -> str:
    """Lower-case ``text`` without accents: "Énergie" → "energie", "Straße" → "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return _WORD.findall(fold(text))


def _stemmer(language: str) -> object | None:
    algorithm = STEMMERS.get(language)
    if algorithm is None:
        return None
    cache = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    if algorithm not in cache:
        import snowballstemmer

        cache[algorithm] = snowballstemmer.stemmer(algorithm)
    return cache[algorithm]


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    # Texts repeat their words: each is stemmed once (Snowball in Python is slow).
    return _stemmer(language).stemWord(word)  # type: ignore[union-attr]


def stem_words(found: list[str], language: str) -> list[str]:
    """``found`` (folded words) stemmed in ``language``; as they are if it has no stemmer."""
    if language not in STEMMERS:
        return found
    return [_stem(language, word) for word in found]


def stems(text: str, language: str) -> list[str]:
    """The stems of the words of ``text`` in ``language`` (folded words if none)."""
    return stem_words(words(text), language)


def analyse(text: str, language: str) -> str:
    """``text`` as the SQLite index stores it: its stems, separated by spaces."""
    return " ".join(stems(text, language))


# --- Queries -----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word or a quoted phrase; excluded when written with a leading "-"."""

    words: tuple[str, ...]
    excluded: bool = False
    quoted: bool = False

    def stems(self, language: str) -> list[str]:
        """The stems the term requires, in order. Outside quotes, common words go
        (as in PostgreSQL): "l'énergie" requires "energ"; a quoted phrase keeps them."""
        found = words(" ".join(self.words))
        if not self.quoted:
            stop = STOP_WORDS.get(language, frozenset())
            found = [word for word in found if word not in stop]
        return stem_words(found, language)


@dataclass
class Query:
    """Clauses that must all hold; each clause holds if one of its terms does."""

    clauses: list[list[Term]] = field(default_factory=list)

    def terms(self) -> list[Term]:
        return [term for clause in self.clauses for term in clause]


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse(text: str) -> Query:
    """Parse the websearch syntax: ``energie "plan climat" or pcaet -brouillon``."""
    query, pending_or = Query(), False
    for match in _TOKEN.finditer(text):
        minus, phrase, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            pending_or = bool(query.clauses)
            continue
        if phrase is not None:
            term = Term(tuple(phrase.split()), excluded=bool(minus), quoted=True)
        else:
            excluded = bare.startswith("-") and len(bare) > 1
            term = Term(tuple((bare[1:] if excluded else bare).split()), excluded=excluded)
        if not term.words:
            continue
        if pending_or and not term.excluded and not query.clauses[-1][0].excluded:
            query.clauses[-1].append(term)
        else:
            query.clauses.append([term])
        pending_or = False
    return query


def fts5_expression(query: Query, language: str) -> str | None:
    """The FTS5 MATCH expression of ``query`` analysed in ``language``; None if it
    requires nothing (only stop words, or only exclusions)."""
    required, excluded = [], []
    for clause in query.clauses:
        options = [
            (term.excluded, _phrase(found)) for term in clause if (found := term.stems(language))
        ]
        if not options:
            continue
        if options[0][0]:
            excluded.extend(phrase for _excluded, phrase in options)
        elif len(options) == 1:
            required.append(options[0][1])
        else:
            required.append("(" + " OR ".join(phrase for _excluded, phrase in options) + ")")
    if not required:
        return None
    expression = " AND ".join(required)
    for phrase in excluded:
        expression = f"({expression}) NOT {phrase}"
    return expression


def _phrase(stemmed: list[str]) -> str:
    # Stems hold only letters and digits, yet quote them: FTS5 keywords (AND, NEAR...)
    # and column names must never be read as syntax.
    return '"' + " ".join(stemmed) + '"'


def highlight_stems(query: Query, language: str) -> set[str]:
    """The stems whose words a snippet highlights: those of the terms not excluded,
    common words left out."""
    found: set[str] = set()
    for term in query.terms():
        if not term.excluded:
            found.update(Term(term.words).stems(language))  # common words not highlighted
    return found
