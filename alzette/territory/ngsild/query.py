"""The NGSI-LD query language ``q`` (ETSI GS CIM 009 V1.8.1 §4.9).

``parse_q`` turns the (already URL-decoded) text into a ``Q``; ``compile_q``
expands its attribute names to IRIs and gives a ``CompiledQ`` that tests
entities in the broker's stored form (attribute IRIs mapping to lists of
instances, core members such as ``value``, ``object`` or ``observedAt`` under
their short names) and yields the simple ``Condition`` s a database can use to
narrow candidates first.

Choices where §4.9 leaves room (all documented in the tests too):

- Grammar: the ABNF of §4.9, with whitespace allowed between tokens and
  parentheses nesting freely (the ABNF allows one level, its example 6 two).
  AND (``;``) binds tighter than OR (``|``).
- Attribute paths: ``attr``, ``attr.sub.sub`` (sub-attributes), a trailing
  instance member ``attr.observedAt`` (also ``createdAt``, ``modifiedAt``,
  ``deletedAt``, ``unitCode``, ``datasetId``), and a trailing compound-value
  path in brackets, ``attr[a.b]`` (V1.8 form) or ``attr[a][b]`` (older form).
  A full IRI may stand for an attribute name, but then alone (its dots are
  its own). Linked-entity paths ``attr{...}`` are refused.
- Values: JSON numbers and strings, ``true``/``false``, DateTime (``...Z``),
  Date and Time literals compared in time order, and unquoted URIs (compared
  as strings). Numbers compare as IEEE doubles, strings by code point. A value
  of another type than the literal's never matches (``!=``: counts as unequal).
- Targets: a Property's ``value`` (a JSON-LD ``@value`` wrapper is unwrapped),
  a Relationship's ``object``, a LanguageProperty's ``languageMap`` values (one
  language with ``attr[fr]``, all with ``attr`` or ``attr[*]``). Arrays and
  language maps are collections: ``==`` means "includes", ``!=`` "includes
  none", ordering and ``~=`` "some element". A multi-attribute matches when any
  instance does. Relationships only support ``==`` and ``!=``.
- Patterns (``~=``, ``!~=``): the value must be in L(R), so the whole string
  must match (``re.fullmatch``); Python ``re`` syntax plus POSIX bracket
  classes. A pattern is written bare (no ``;|()`` nor spaces) or between
  double quotes, taken raw (``\\d`` stays ``\\d``, ``\\"`` is a quote). Nested
  unbounded repetition is refused (catastrophic backtracking).
- Not supported: non-existence ``!attr`` (not in the grammar), linked-entity
  paths, ``expandValues``/``jsonKeys``, Unicode collation.
"""

from __future__ import annotations

import json
import math
import operator
import re
import re._parser as _sre  # private, but the only parser of Python's own syntax
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from itertools import accumulate
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

MAX_LENGTH = 4096
MAX_DEPTH = 32
#: Instance members a path may end with (``attr.observedAt``); never expanded.
MEMBERS = frozenset({"observedAt", "createdAt", "modifiedAt", "deletedAt", "unitCode", "datasetId"})
OPS = ("exists", "==", "!=", ">", ">=", "<", "<=", "~=", "!~=")


class QueryError(ValueError):
    """A malformed or unsupported ``q``; the message is safe to show to the client."""


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Literal:
    """A value written in a query: ``kind`` is number, string, uri, boolean, datetime,
    date or time; ``value`` the Python value compared."""

    kind: str
    value: Any
    text: str


@dataclass(frozen=True)
class Path:
    """An attribute path as written: ``names[0]`` is the top-level attribute."""

    names: tuple[str, ...]
    member: str | None = None
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Term:
    """One query term: ``op`` is one of ``OPS``."""

    path: Path
    op: str = "exists"
    values: tuple[Literal, ...] = ()
    bounds: tuple[Literal, Literal] | None = None
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


Node = Term | And | Or


@dataclass(frozen=True)
class Q:
    """A parsed ``q``."""

    text: str
    root: Node

    def terms(self) -> set[str]:
        """Attribute names (terms or IRIs, as written) to expand; neither instance
        members nor compound-value keys, which are not expanded."""
        return {name for term in _walk(self.root) for name in term.path.names}


def _walk(node: Node) -> Iterator[Term]:
    if isinstance(node, Term):
        yield node
        return
    for item in node.items:
        yield from _walk(item)


# --------------------------------------------------------------------------- parsing

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: atom (_AND atom)*
?atom: term | _LPAR or_expr _RPAR
term: path                      -> exists
    | path ORDER comparable     -> compare
    | path _EQ eqvalue          -> equal
    | path _NE eqvalue          -> unequal
    | path _MATCH pattern       -> match
    | path _NOMATCH pattern     -> nomatch
path: NAME (_DOT NAME)* keys?
    | IRI keys?
keys: (_LSQB keypath _RSQB)+
keypath: KEY (_DOT KEY)*
?eqvalue: value
        | value (_COMMA value)+           -> valuelist
        | comparable _RANGE comparable    -> range
?value: comparable | TRUE | FALSE | URI
?comparable: NUMBER | STRING | DATETIME | DATE | TIME
?pattern: QUOTED_PATTERN | REGEX

_OR: "|"
_AND: ";"
_LPAR: "("
_RPAR: ")"
_DOT: "."
_RANGE: ".."
_COMMA: ","
_LSQB: "["
_RSQB: "]"
_EQ: "=="
_NE: "!="
_MATCH: "~="
_NOMATCH: "!~="
ORDER: /[<>]=?/
NAME: /[^\W\d_]\w*/
IRI.2: /[A-Za-z][A-Za-z0-9+.\-]*:[^\s;|()\[\]{}<>=!~",]+/
KEY: /[^\s.\[\]{}()";|=!<>~,]+/
DATETIME.5: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?Z/
DATE.4: /[0-9]{4}-[0-9]{2}-[0-9]{2}/
TIME.4: /[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?Z/
NUMBER.3: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/
STRING: /"(?:[^"\\\x00-\x1f]|\\["\\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/
URI.2: /[A-Za-z][A-Za-z0-9+.\-]*:[^\s;|()\[\]{}<>"',\\^`]+/
TRUE: "true"
FALSE: "false"
REGEX: /[^\s;|()"][^\s;|()]*/
QUOTED_PATTERN: /"(?:[^"\\]|\\.)*"/
%ignore /[ \t\r\n]+/
"""

_EXPECTED = {
    "_OR": "'|'", "_AND": "';'", "_LPAR": "'('", "_RPAR": "')'", "_DOT": "'.'",
    "_RANGE": "'..'", "_COMMA": "','", "_LSQB": "'['", "_RSQB": "']'", "_EQ": "'=='",
    "_NE": "'!='", "_MATCH": "'~='", "_NOMATCH": "'!~='", "ORDER": "'<', '<=', '>' or '>='",
    "NAME": "an attribute name", "IRI": "an attribute IRI", "KEY": "a member name",
    "DATETIME": "a DateTime", "DATE": "a Date", "TIME": "a Time", "NUMBER": "a number",
    "STRING": "a quoted string", "URI": "a URI", "TRUE": "true", "FALSE": "false",
    "REGEX": "a pattern", "QUOTED_PATTERN": "a quoted pattern", "$END": "the end of the query",
}  # fmt: skip


class _Builder(Transformer):
    """Builds the syntax tree while the LALR parser reduces (no recursion)."""

    def or_expr(self, items: list[Node]) -> Or:
        return Or(tuple(items))

    def and_expr(self, items: list[Node]) -> And:
        return And(tuple(items))

    def exists(self, items: list) -> Term:
        return Term(items[0])

    def compare(self, items: list) -> Term:
        path, op, value = items
        return Term(path, str(op), (_literal(value),))

    def equal(self, items: list) -> Term:
        return _equality(items[0], "==", items[1])

    def unequal(self, items: list) -> Term:
        return _equality(items[0], "!=", items[1])

    def match(self, items: list) -> Term:
        return Term(items[0], "~=", pattern=_pattern(items[1]))

    def nomatch(self, items: list) -> Term:
        return Term(items[0], "!~=", pattern=_pattern(items[1]))

    def path(self, items: list) -> Path:
        keys: tuple[str, ...] = items.pop() if isinstance(items[-1], tuple) else ()
        return _path(items, keys)

    def keys(self, items: list[tuple[str, ...]]) -> tuple[str, ...]:
        return tuple(key for group in items for key in group)

    def keypath(self, items: list[Token]) -> tuple[str, ...]:
        return tuple(str(token) for token in items)

    def valuelist(self, items: list[Token]) -> tuple[Literal, ...]:
        return tuple(_literal(token) for token in items)

    def range(self, items: list[Token]) -> _Range:
        return _Range(_literal(items[0]), _literal(items[1]))


@cache
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer="contextual", transformer=_Builder())


def parse_q(text: str) -> Q:
    """Parse a ``q`` string (already URL-decoded); raises ``QueryError`` only."""
    if not isinstance(text, str) or not text.strip():
        raise QueryError("q is empty")
    if len(text) > MAX_LENGTH:
        raise QueryError(f"q is longer than {MAX_LENGTH} characters")
    _check_depth(text)
    try:
        root = _parser().parse(text)
    except QueryError:
        raise
    except UnexpectedInput as exc:
        raise QueryError(_syntax_message(text, exc)) from None
    except (LarkError, RecursionError, ValueError, OverflowError) as exc:
        original = getattr(exc, "orig_exc", None)
        if isinstance(original, QueryError):
            raise original from None
        raise QueryError(f"q is not valid: {exc}") from None
    return Q(text, root)


def _check_depth(text: str) -> None:
    # The evaluator recurses once per parenthesis level: bound it before parsing.
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"?', "", text)
    levels = accumulate((char == "(") - (char == ")") for char in unquoted)
    if max(levels, default=0) > MAX_DEPTH:
        raise QueryError(f"q nests parentheses deeper than {MAX_DEPTH} levels")


def _syntax_message(text: str, exc: UnexpectedInput) -> str:
    names = _expected_names(exc)
    expected = sorted({_EXPECTED.get(name, name) for name in names})
    wanted = f"; expected {', '.join(expected)}" if expected else ""
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        return f"q ends unexpectedly{wanted}"
    pos = exc.pos_in_stream if isinstance(exc, UnexpectedCharacters) else exc.token.start_pos
    pos = pos or 0
    hint = _hint(text, pos, names)
    return f"unexpected {text[pos : pos + 20]!r} at position {pos + 1} of q{wanted}{hint}"


def _expected_names(exc: Exception) -> set[str]:
    names = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    return {name for name in names if not name.startswith("__")}


def _hint(text: str, pos: int, expected: set[str]) -> str:
    char = text[pos : pos + 1]
    if "REGEX" in expected:
        return ' (write a pattern with ( ) | ; or spaces between double quotes: "(a|b)+")'
    if char == "{":
        return " (linked-entity paths attr{...} are not supported)"
    if char == "!" and text[pos : pos + 2] not in ("!=", "!~"):
        return " (non-existence '!attr' is not part of the NGSI-LD query language)"
    if char == "'":
        return ' (strings are written in double quotes: "text")'
    if char.isalpha() and "STRING" in expected:
        return " (strings are quoted; only URIs may be written bare)"
    return ""


def _path(tokens: list[Token], keys: tuple[str, ...]) -> Path:
    names = [str(token) for token in tokens]
    member = None
    if len(names) > 1 and names[-1] in MEMBERS:
        member = names.pop()
        if keys:
            raise _at(tokens[-1], f"{member} cannot be followed by a [...] path")
    for token in tokens[1 : len(names)]:
        if str(token) in MEMBERS:
            raise _at(token, f"{token} must end the attribute path")
    return Path(tuple(names), member, keys)


def _at(token: Token, message: str) -> QueryError:
    return QueryError(f"{message} (position {(token.start_pos or 0) + 1} of q)")


@dataclass(frozen=True)
class _Range:
    low: Literal
    high: Literal


def _equality(path: Path, op: str, value: Token | tuple[Literal, ...] | _Range) -> Term:
    if isinstance(value, _Range):
        return Term(path, op, bounds=_bounds(value.low, value.high))
    if isinstance(value, tuple):
        return Term(path, op, value)
    return Term(path, op, (_literal(value),))


def _bounds(low: Literal, high: Literal) -> tuple[Literal, Literal]:
    if low.kind != high.kind:
        raise QueryError(f"range {low.text}..{high.text} mixes a {low.kind} and a {high.kind}")
    if low.value > high.value:
        raise QueryError(f"range {low.text}..{high.text} has its minimum above its maximum")
    return low, high


# --------------------------------------------------------------------------- literals


def _literal(token: Token | Literal) -> Literal:
    if isinstance(token, Literal):
        return token
    text = str(token)
    kind = token.type
    if kind == "NUMBER":
        value: Any = float(text)
        if not math.isfinite(value):
            raise _at(token, f"number {text} is out of range")
        return Literal("number", value, text)
    if kind == "STRING":
        return Literal("string", _json_string(text), text)
    if kind in ("TRUE", "FALSE"):
        return Literal("boolean", kind == "TRUE", text)
    if kind == "URI":
        return Literal("uri", text, text)
    parsed = _TEMPORAL[kind](text)
    if parsed is None:
        raise _at(token, f"{text} is not a valid {kind.title()}")
    return Literal(kind.lower(), parsed, text)


def _json_string(text: str) -> str:
    # The lexer admits only valid JSON strings, so this only decodes the escapes.
    return json.loads(text)


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?"
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?Z?")


def parse_datetime(text: str) -> datetime | None:
    """An aware UTC datetime from an ISO 8601 DateTime (``Z`` or an offset; none means
    UTC, §4.6.3), or None."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    *parts, fraction, zone = match.groups()
    try:
        value = datetime(*map(int, parts), _micro(fraction), tzinfo=_zone(zone))
    except ValueError:
        return None
    return value.astimezone(UTC)


def _micro(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _zone(zone: str | None) -> timezone:
    if zone in (None, "Z"):
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_date(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    try:
        return date(*map(int, match.groups())) if match else None
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    *parts, fraction = match.groups()
    try:
        return time(*map(int, parts), _micro(fraction))
    except ValueError:
        return None


_TEMPORAL: dict[str, Callable[[str], Any]] = {
    "DATETIME": parse_datetime,
    "DATE": parse_date,
    "TIME": parse_time,
}


# --------------------------------------------------------------------------- patterns

_POSIX = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": r" \t\n\r\f\v", "blank": r" \t", "xdigit": "0-9A-Fa-f", "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e", "graph": r"\x21-\x7e", "punct": r"!-/:-@\[-`{-~",
}  # fmt: skip


def _pattern(token: Token) -> re.Pattern[str]:
    # Quoted patterns are taken raw (a JSON decoding would eat the backslashes of \d).
    text = str(token)[1:-1] if token.type == "QUOTED_PATTERN" else str(token)
    source = re.sub(r"\[:(\w+):\]", lambda m: _POSIX.get(m[1], m[0]), text)
    try:
        compiled = re.compile(source)
    except (re.error, OverflowError, RecursionError) as exc:
        raise _at(token, f"{text!r} is not a valid pattern: {exc}") from None
    if _nested_repeat(source):
        raise _at(token, f"{text!r} nests unbounded repetitions, which can take forever")
    return compiled


def _nested_repeat(source: str) -> bool:
    """True when an unbounded repetition contains another (star height > 1): the usual
    shape of catastrophic backtracking. A mitigation, not a proof of safety."""
    try:
        return _walk_repeats(_sre.parse(source), inside=False)
    except Exception:  # re compiled it already: be lenient with its internals
        return False


def _walk_repeats(items: Iterable, inside: bool) -> bool:
    for op, arg in items:
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            unbounded = arg[1] == _sre.MAXREPEAT
            if (unbounded and inside) or _walk_repeats(arg[2], inside or unbounded):
                return True
        elif any(_walk_repeats(sub, inside) for sub in _subpatterns(arg)):
            return True
    return False


def _subpatterns(arg: Any) -> Iterator[Any]:
    # Sub-patterns hide in tuples/lists of the parser's nodes (groups, branches, lookarounds).
    candidates = arg if isinstance(arg, tuple | list) else (arg,)
    for item in candidates:
        if hasattr(item, "data"):
            yield item
        elif isinstance(item, list) and all(hasattr(sub, "data") for sub in item):
            yield from item


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Condition:
    """A necessary condition on a top-level attribute, for narrowing rows before ``matches``.

    ``exists``: the entity has the attribute. Any other ``op``: at least one instance of
    the attribute has a candidate ``c`` of the same JSON type as ``value`` (numbers, never
    booleans, compare as floats; strings by code point) with ``c <op> value``. The
    candidates of an instance are its ``value`` or ``object`` (a JSON-LD ``@value``
    unwrapped), each element of it when it is an array, each entry of ``valueList`` /
    ``objectList``, and each value (or element of one) of ``languageMap``.
    """

    attribute: str
    op: str
    value: float | str | bool | None = None


@dataclass(frozen=True)
class _Target:
    """What a path designates in one instance: the candidate values compared."""

    items: tuple[Any, ...]
    relationship: bool = False


_VALUE_MEMBER = {"ListProperty": "valueList", "JsonProperty": "json", "VocabProperty": "vocab"}
_RELATIONSHIPS = ("Relationship", "ListRelationship")


@dataclass(frozen=True)
class _CompiledPath:
    attribute: str
    subs: tuple[str, ...]
    member: str | None
    keys: tuple[str, ...]

    def simple(self) -> bool:
        return not (self.subs or self.member or self.keys)

    def instances(self, entity: dict[str, Any]) -> list[dict[str, Any]]:
        found = _instances(entity.get(self.attribute))
        for iri in self.subs:
            found = [sub for instance in found for sub in _instances(instance.get(iri))]
        return found

    def targets(self, entity: dict[str, Any]) -> Iterator[_Target]:
        for instance in self.instances(entity):
            target = self._target(instance)
            if target is not None:
                yield target

    def _target(self, instance: dict[str, Any]) -> _Target | None:
        if self.member is not None:
            return _Target((instance[self.member],)) if self.member in instance else None
        kind = instance.get("type")
        if kind in _RELATIONSHIPS:
            return None if self.keys else _relationship_target(instance)
        if kind == "LanguageProperty":
            return _language_target(instance.get("languageMap"), self.keys)
        member = _VALUE_MEMBER.get(kind, "value")
        if member not in instance:
            return None
        return _value_target(instance[member], self.keys)


def _instances(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _unwrap(value: Any) -> Any:
    return value["@value"] if isinstance(value, dict) and "@value" in value else value


def _items(value: Any) -> tuple[Any, ...]:
    value = _unwrap(value)
    if isinstance(value, list):
        return tuple(_unwrap(item) for item in value)
    return (value,)


def _relationship_target(instance: dict[str, Any]) -> _Target:
    raw = instance.get("object", instance.get("objectList"))
    items = raw if isinstance(raw, list) else [raw]
    objects = [item.get("object", item.get("@id")) if isinstance(item, dict) else item
               for item in items]  # fmt: skip
    return _Target(tuple(objects), relationship=True)


def _language_target(language_map: Any, keys: tuple[str, ...]) -> _Target | None:
    if not isinstance(language_map, dict) or len(keys) > 1:
        return None
    if keys and keys[0] != "*":
        wanted = keys[0].lower()  # BCP 47 tags are case-insensitive
        values = [v for tag, v in language_map.items() if str(tag).lower() == wanted]
        if not values:
            return None
    else:
        values = list(language_map.values())
    return _Target(tuple(item for value in values for item in _items(value)))


def _value_target(value: Any, keys: tuple[str, ...]) -> _Target | None:
    # ECMA-262 member access in dot notation: an undefined member means no target.
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return _Target(_items(value))


def _coerce(kind: str, raw: Any) -> Any:
    """``raw`` as a value comparable with a literal of ``kind``, or None (type mismatch)."""
    if kind == "number":
        is_number = isinstance(raw, int | float) and not isinstance(raw, bool)
        return float(raw) if is_number else None
    if kind == "boolean":
        return raw if isinstance(raw, bool) else None
    if not isinstance(raw, str):
        return None
    if kind in ("string", "uri"):
        return raw
    return {"datetime": parse_datetime, "date": parse_date, "time": parse_time}[kind](raw)


_ORDER = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def _compare(op: str, raw: Any, literal: Literal) -> bool:
    value = _coerce(literal.kind, raw)
    if value is None:
        return False
    if op == "==":
        return value == literal.value
    return _ORDER[op](value, literal.value)


def _within(raw: Any, bounds: tuple[Literal, Literal]) -> bool:
    return _compare(">=", raw, bounds[0]) and _compare("<=", raw, bounds[1])


def _equals(term: Term, target: _Target) -> bool:
    if term.bounds is not None:
        return any(_within(item, term.bounds) for item in target.items)
    return any(_compare("==", item, lit) for item in target.items for lit in term.values)


def _satisfies(term: Term, target: _Target) -> bool:
    if term.op == "==":
        return _equals(term, target)
    if term.op == "!=":
        return not _equals(term, target)
    if target.relationship:
        return False  # §4.9: only equal and unequal apply to relationships
    if term.op in _ORDER:
        return any(_compare(term.op, item, term.values[0]) for item in target.items)
    texts = [item for item in target.items if isinstance(item, str)]
    found = any(term.pattern.fullmatch(text) for text in texts)
    return found if term.op == "~=" else bool(texts) and not found


@dataclass(frozen=True)
class _CompiledTerm:
    term: Term
    path: _CompiledPath

    def matches(self, entity: dict[str, Any]) -> bool:
        if self.term.op == "exists":
            if self.path.member is None and not self.path.keys:
                return bool(self.path.instances(entity))
            return any(True for _ in self.path.targets(entity))
        return any(_satisfies(self.term, target) for target in self.path.targets(entity))

    def conditions(self) -> dict[Condition, None]:
        found = {Condition(self.path.attribute, "exists"): None}
        if self.path.simple():
            found.update(dict.fromkeys(_value_conditions(self.path.attribute, self.term)))
        return found


def _value_conditions(attribute: str, term: Term) -> Iterator[Condition]:
    # Only what the stored candidates must satisfy: never "!=" (a type mismatch is
    # unequal), never lists (an OR), never strings ordered (SQL collations differ),
    # never temporal literals (their text forms vary).
    if term.bounds is not None:
        low, high = term.bounds
        if term.op == "==" and low.kind == "number":
            yield Condition(attribute, ">=", low.value)
            yield Condition(attribute, "<=", high.value)
        return
    if len(term.values) != 1:
        return
    literal = term.values[0]
    if term.op == "==" and literal.kind in ("number", "string", "uri", "boolean"):
        yield Condition(attribute, "==", literal.value)
    elif term.op in _ORDER and literal.kind == "number":
        yield Condition(attribute, term.op, literal.value)


@dataclass(frozen=True)
class _CompiledAnd:
    items: tuple[_Compiled, ...]

    def matches(self, entity: dict[str, Any]) -> bool:
        return all(item.matches(entity) for item in self.items)

    def conditions(self) -> dict[Condition, None]:
        found: dict[Condition, None] = {}
        for item in self.items:
            found.update(item.conditions())
        return found


@dataclass(frozen=True)
class _CompiledOr:
    items: tuple[_Compiled, ...]

    def matches(self, entity: dict[str, Any]) -> bool:
        return any(item.matches(entity) for item in self.items)

    def conditions(self) -> dict[Condition, None]:
        # Whatever every branch requires, the disjunction requires.
        first, *others = (item.conditions() for item in self.items)
        return {cond: None for cond in first if all(cond in other for other in others)}


_Compiled = _CompiledTerm | _CompiledAnd | _CompiledOr


@dataclass(frozen=True)
class CompiledQ:
    """A ``q`` with its attribute names expanded, ready to test stored entities."""

    q: Q
    root: _Compiled

    def matches(self, entity: dict[str, Any]) -> bool:
        """True when the entity (stored, expanded normalized form) satisfies ``q``."""
        return self.root.matches(entity)

    def prefilter(self) -> list[Condition]:
        """Conditions every matching entity satisfies (see ``Condition``)."""
        found = list(self.root.conditions())
        # "exists" is implied by any comparison on the same attribute.
        compared = {cond.attribute for cond in found if cond.op != "exists"}
        return [c for c in found if c.op != "exists" or c.attribute not in compared]


def compile_q(q: Q, expand: Callable[[str], str]) -> CompiledQ:
    """Expand every attribute name of ``q`` with ``expand`` (its QueryError propagates)."""
    cache: dict[str, str] = {}

    def iri(name: str) -> str:
        if name not in cache:
            cache[name] = expand(name)
        return cache[name]

    def build(node: Node) -> _Compiled:
        if isinstance(node, Term):
            names = tuple(iri(name) for name in node.path.names)
            path = _CompiledPath(names[0], names[1:], node.path.member, node.path.keys)
            return _CompiledTerm(node, path)
        items = tuple(build(item) for item in node.items)
        return _CompiledAnd(items) if isinstance(node, And) else _CompiledOr(items)

    return CompiledQ(q, build(q.root))
