"""The catalogue as a CKAN Action API (CKAN 2.10 behaviour) for national portals' harvesters.

No HTTP here: ``run(action, params)`` checks the parameters the way CKAN's schemas do,
answers with CKAN's dictionaries (package, organization, group, licence) or raises an
``ActionError`` that carries CKAN's error type and HTTP status. Only open, published
datasets (``services.visible``) are ever seen.

Searching runs in Python over an in-process index of the visible datasets, rebuilt when
a cheap fingerprint of the catalogue changes: a search is then a few set operations and
a sort, whatever the number of datasets (docs/opendata-ckan.md).
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import fnmatch
import inspect
import json
import math
import re
import threading
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache, reduce
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone, translation

from alzette.territory.catalogue import digests, services, sources, vocab
from alzette.territory.catalogue.models import Dataset, Organisation

CKAN_VERSION = "2.10.4"
API_PATH = "/api/3/action/"
ROWS_DEFAULT, ROWS_MAX = 10, 1000
FACET_LIMIT = 50
DEFAULT_SORT = "score desc, metadata_modified desc"
ORG_LIST_MAX, ORG_LIST_ALL_FIELDS_MAX = 1000, 25
#: Namespace of the stable ids given to tags and groups, which have no row of their own.
NAMES = uuid.UUID("0b6f3f0e-5c3a-4f55-8a47-2f4a3f1c9d21")
FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "geojson": "GeoJSON"}
#: Parameters package_search accepts like CKAN, that change nothing here (no Solr behind).
IGNORED_SEARCH_PARAMS = {"wt", "qf", "bf", "boost", "tie", "defType", "mm", "df", "q.op",
                         "include_private", "include_drafts", "include_deleted",
                         "use_default_schema", "callback", "extras"}  # fmt: skip
SEARCH_PARAMS = {"q", "fq", "fq_list", "rows", "start", "sort", "fl", "facet", "facet.field",
                 "facet.limit", "facet.mincount"} | IGNORED_SEARCH_PARAMS  # fmt: skip


# --- Errors ---------------------------------------------------------------------------------


class ActionError(Exception):
    """A failed action: CKAN's error ``__type``, its HTTP status and a message."""

    status = 400
    kind = "Bad Request"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def error(self) -> dict[str, Any]:
        # CKAN puts a validation error's fields beside __type; "message" is added for all.
        return {**self.fields, "__type": self.kind, "message": self.message}


class UnknownAction(ActionError):
    kind = "Bad Request"


class NotFound(ActionError):
    status = 404
    kind = "Not Found Error"


class Invalid(ActionError):
    """CKAN's ValidationError, answered with 409 as CKAN does."""

    status = 409
    kind = "Validation Error"

    def __init__(self, fields: dict[str, list[str]]) -> None:
        summary = "; ".join(f"{name}: {', '.join(errs)}" for name, errs in fields.items())
        super().__init__(summary, fields)


class BadQuery(ActionError):
    kind = "Search Query Error"

    def __init__(self, detail: str) -> None:
        super().__init__(f"Search Query is invalid: {detail}")


# --- Parameters -------------------------------------------------------------------------------


def _natural(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    """A natural number parameter, checked with CKAN's messages."""
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip()) if not isinstance(value, int | float) else value
    except ValueError:
        raise Invalid({name: ["Invalid integer"]}) from None
    if isinstance(number, bool) or (isinstance(number, float) and not number.is_integer()):
        raise Invalid({name: ["Invalid integer"]})
    if number < 0:
        raise Invalid({name: ["Must be a natural number"]})
    return int(number)


def _boolean(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "y", "t", "1"):
        return True
    if text in ("false", "no", "off", "n", "f", "0"):
        return False
    raise Invalid({name: ["Not a boolean"]})


def _string_list(params: dict[str, Any], name: str) -> list[str]:
    """A list of strings given as a list or as a JSON text (facet.field, fq_list)."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Invalid({name: ["Could not parse as valid JSON"]}) from None
    if not isinstance(value, list):
        raise Invalid({name: ["Not a list"]})
    for item in value:
        if not isinstance(item, str):
            raise Invalid({name: [f"Not a string: {item}"]})
    return value


def _text(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None:
        return ""
    if isinstance(value, list):  # a repeated query parameter: CKAN keeps the list, Solr ANDs
        value = " ".join(f"({v})" for v in value if isinstance(v, str) and v.strip())
    if not isinstance(value, str):
        raise Invalid({name: ["Must be a string"]})
    return value


# --- Dictionaries -----------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """A time as CKAN writes it: ISO 8601 in UTC without an offset."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def _public(path: str) -> str:
    return f"{settings.ALZETTE_PUBLIC_URL}{path}"


def help_url(action: str) -> str:
    return _public(f"{API_PATH}help_show?name={action}")


def _distributions(dataset: Dataset) -> list[services.Distribution]:
    # A source dropped from the settings leaves its datasets without downloads, not broken.
    try:
        return services.distributions(dataset)
    except sources.SourceError:
        return []


def package_dict(dataset: Dataset, *, measure: bool = False) -> dict[str, Any]:
    """A dataset as CKAN's package_show answers it (``dataset.organisation`` loaded).
    ``measure``: measure the downloads not measured yet for ``size`` and ``hash``
    (``digests``); otherwise only sizes known already are given."""
    licence = vocab.LICENCES.get(dataset.licence)
    sizes = digests.measure(dataset) if measure else digests.known(dataset)
    resources = [resource_dict(dataset, d, i, sizes.get(d.format))
                 for i, d in enumerate(_distributions(dataset))]  # fmt: skip
    tags = [tag_dict(keyword) for keyword in dataset.keywords or []]
    organisation = dataset.organisation
    return {
        "id": str(dataset.id), "name": dataset.identifier, "title": dataset.text("title"),
        "title_translated": dict(dataset.title or {}), "notes": dataset.text("description"),
        "notes_translated": dict(dataset.description or {}),
        "url": _public(f"/api/v1/territory/datasets/{dataset.identifier}"), "version": None,
        "state": "active", "private": False, "type": "dataset",
        "license_id": dataset.licence, "license_title": licence.title if licence else None,
        "license_url": licence.url if licence else None,
        "isopen": bool(licence and licence.open),
        "author": organisation.name, "author_email": organisation.contact_email or None,
        "maintainer": organisation.name, "maintainer_email": dataset.contact_email or None,
        "creator_user_id": None,
        "metadata_created": iso(dataset.created_at), "metadata_modified": iso(dataset.updated_at),
        "organization": organization_dict(organisation), "owner_org": str(organisation.id),
        "tags": tags, "num_tags": len(tags),
        "groups": [group_dict(code) for code in dataset.themes or [] if code in vocab.THEMES],
        "extras": _extras(dataset), "resources": resources, "num_resources": len(resources),
        "relationships_as_object": [], "relationships_as_subject": [],
    }  # fmt: skip


def resource_dict(dataset: Dataset, distribution: services.Distribution, position: int,
                  size: digests.Digest | None = None) -> dict[str, Any]:  # fmt: skip
    """A distribution as a CKAN resource; ``size`` (bytes) and ``hash`` (the SHA-256 in
    hex, as ckanext-dcat reads it) stay null unless the download was measured."""
    extension = services.FORMATS[distribution.format][1]
    return {
        "id": str(distribution.id), "package_id": str(dataset.id),
        "name": f"{dataset.identifier}.{extension}",
        "description": dataset.text("description"),
        "format": FORMAT_LABELS.get(distribution.format, distribution.format.upper()),
        "mimetype": distribution.media_type, "mimetype_inner": None,
        "url": _public(distribution.path), "url_type": None, "resource_type": None,
        "state": "active", "created": iso(dataset.created_at),
        "last_modified": iso(dataset.refreshed_at), "metadata_modified": iso(dataset.updated_at),
        "position": position, "size": size.size if size else None,
        "hash": size.sha256 if size else None, "cache_url": None,
        "cache_last_updated": None, "datastore_active": False,
    }  # fmt: skip


@lru_cache(maxsize=8192)
def _name_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMES, f"{kind}/{name}"))


def tag_dict(keyword: str) -> dict[str, Any]:
    return {"id": _name_id("tag", keyword), "name": keyword,
            "display_name": keyword, "state": "active", "vocabulary_id": None}  # fmt: skip


def group_name(code: str) -> str:
    return code.lower()


def group_title(code: str) -> str:
    # Group titles in the site's language, like every other title of the answer.
    return _theme_title(code, settings.LANGUAGE_CODE)


@lru_cache(maxsize=256)
def _theme_title(code: str, language: str) -> str:
    with translation.override(language):
        return str(vocab.THEMES[code])


def group_dict(code: str) -> dict[str, Any]:
    title = group_title(code)
    return {"id": _name_id("group", code), "name": group_name(code),
            "title": title, "display_name": title, "description": vocab.theme_uri(code),
            "image_display_url": ""}  # fmt: skip


def organization_dict(organisation: Organisation) -> dict[str, Any]:
    return {
        "id": str(organisation.id), "name": organisation.slug, "title": organisation.name,
        "type": "organization", "description": organisation.description,
        "image_url": "", "created": iso(organisation.created_at), "is_organization": True,
        "approval_status": "approved", "state": "active",
        # Not CKAN 2.10 any more, but udata's CKAN harvester (data.gouv.fr) still requires them.
        "revision_id": str(organisation.id),
        "revision_timestamp": iso(organisation.updated_at),
    }  # fmt: skip


def _extras(dataset: Dataset) -> list[dict[str, str]]:
    found = {
        "frequency": vocab.frequency_uri(dataset.frequency),
        "access_rights": vocab.access_uri(dataset.access),
        "theme": json.dumps([vocab.theme_uri(code) for code in dataset.themes or []]),
        "communes": ",".join(dataset.communes or []),
        "temporal_start": dataset.temporal_start.isoformat() if dataset.temporal_start else "",
        "temporal_end": dataset.temporal_end.isoformat() if dataset.temporal_end else "",
        "spatial": _polygon(dataset.extent),
        "issued": iso(dataset.issued) or "",
        "language": ",".join(sorted(dataset.title or {})),
    }
    return [{"key": key, "value": value} for key, value in sorted(found.items()) if value]


def _polygon(extent: list[float] | None) -> str:
    """The CRS84 box as a GeoJSON polygon, the form CKAN's spatial extension stores."""
    if not extent or len(extent) != 4:
        return ""
    west, south, east, north = extent
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def licence_dict(licence: vocab.Licence) -> dict[str, Any]:
    return {
        "id": licence.id, "title": licence.title, "url": licence.url, "status": "active",
        "maintainer": "", "family": "", "domain_content": True, "domain_data": True,
        "domain_software": False, "is_generic": False, "is_okd_compliant": licence.open,
        "is_osi_compliant": False,
        "od_conformance": "approved" if licence.open else "not reviewed",
        "osd_conformance": "not reviewed",
    }  # fmt: skip


# --- Text -------------------------------------------------------------------------------------


_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower case without accents, so that "Déchets" and "dechets" meet."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


_WORD = re.compile(r"\w+")


# --- Index ------------------------------------------------------------------------------------

#: fq fields matched as whole values (case- and accent-insensitive, * and ? wildcards).
VALUE_FIELDS = ("id", "name", "tags", "organization", "owner_org", "license_id", "res_format",
                "groups", "frequency", "state", "capacity", "type", "dataset_type",
                "private", "isopen")  # fmt: skip
#: fq fields matched word by word; "text" is the default field (titles, notes, tags...).
TEXT_FIELDS = ("text", "title", "notes")
DATE_FIELDS = ("metadata_modified", "metadata_created")
SORT_FIELDS = ("score", "name", "title_string", "title", "id", *DATE_FIELDS)
#: Weights of a word in the default field, by where it was found, for "score".
TITLE_WEIGHT, TAG_WEIGHT, OTHER_WEIGHT = 3, 2, 1


@dataclass
class _Index:
    datasets: list[Dataset] = field(default_factory=list)
    #: text field -> folded word -> {entry: weight}
    postings: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)
    vocabulary: dict[str, list[str]] = field(default_factory=dict)  # sorted, for prefixes
    phrases: dict[str, list[str]] = field(default_factory=dict)  # folded text per entry
    raw: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)  # facet values
    values: dict[str, dict[str, set[int]]] = field(default_factory=dict)  # folded -> entries
    dates: dict[str, list[datetime]] = field(default_factory=dict)
    sort_keys: dict[str, list[str]] = field(default_factory=dict)
    publishers: dict[str, str] = field(default_factory=dict)  # short name -> name
    formats: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source -> formats

    @property
    def everything(self) -> set[int]:
        return set(range(len(self.datasets)))


_cache: tuple[tuple, _Index] | None = None
_lock = threading.Lock()


def _fingerprint() -> tuple:
    """What changes when any dataset or publisher changes (saves bump ``updated_at``,
    refreshes ``refreshed_at``, deletions the counts): two aggregate queries."""
    datasets = Dataset.objects.using(services.DB).aggregate(
        n=Count("id"), changed=Max("updated_at"), refreshed=Max("refreshed_at")
    )
    organisations = Organisation.objects.using(services.DB).aggregate(
        n=Count("id"), changed=Max("updated_at")
    )
    return (*datasets.values(), *organisations.values())


def index() -> _Index:
    """The search index of the visible datasets, rebuilt only when the catalogue changed."""
    global _cache
    key = _fingerprint()
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        if _cache is not None and _cache[0] == key:
            return _cache[1]
        visible = services.visible().select_related("organisation").order_by("identifier")
        built = _build(list(visible))
        _cache = (key, built)
        return built


def _build(datasets: list[Dataset]) -> _Index:
    built = _Index(datasets=datasets)
    for name in TEXT_FIELDS:
        built.postings[name], built.phrases[name] = {}, []
    for name in VALUE_FIELDS:
        built.raw[name], built.values[name] = [], {}
    for name in DATE_FIELDS:
        built.dates[name] = []
    for name in ("name", "title_string", "id"):
        built.sort_keys[name] = []
    for entry, dataset in enumerate(datasets):
        _add_texts(built, entry, dataset)
        _add_values(built, entry, dataset)
        built.dates["metadata_modified"].append(dataset.updated_at)
        built.dates["metadata_created"].append(dataset.created_at)
        built.sort_keys["name"].append(dataset.identifier)
        built.sort_keys["title_string"].append(fold(dataset.text("title")))
        built.sort_keys["id"].append(str(dataset.id))
        built.publishers[dataset.organisation.slug] = dataset.organisation.name
    built.sort_keys["title"] = built.sort_keys["title_string"]
    built.vocabulary = {name: sorted(built.postings[name]) for name in TEXT_FIELDS}
    return built


def _add_texts(built: _Index, entry: int, dataset: Dataset) -> None:
    titles = fold(" ".join((dataset.title or {}).values()))
    notes = fold(" ".join((dataset.description or {}).values()))
    keywords = fold(" ".join(dataset.keywords or []))
    others = fold(f"{notes} {dataset.identifier} {dataset.organisation.name}")
    weighted = [(titles, TITLE_WEIGHT), (keywords, TAG_WEIGHT), (others, OTHER_WEIGHT)]
    for text, weight in weighted:
        _post(built.postings["text"], entry, text, weight)
    _post(built.postings["title"], entry, titles, 1)
    _post(built.postings["notes"], entry, notes, 1)
    built.phrases["text"].append(f"{titles} {keywords} {others}")
    built.phrases["title"].append(titles)
    built.phrases["notes"].append(notes)


def _post(postings: dict[str, dict[int, int]], entry: int, folded: str, weight: int) -> None:
    for word in _WORD.findall(folded):
        found = postings.setdefault(word, {})
        if found.get(entry, 0) < weight:
            found[entry] = weight


def _add_values(built: _Index, entry: int, dataset: Dataset) -> None:
    licence = vocab.LICENCES.get(dataset.licence)
    formats = built.formats.get(dataset.source)
    if formats is None:  # the formats depend on the source only: asked once per source
        found = _distributions(dataset)
        formats = built.formats[dataset.source] = tuple(
            FORMAT_LABELS.get(d.format, d.format) for d in found
        )
    raw = {
        "id": (str(dataset.id),), "name": (dataset.identifier,),
        "tags": tuple(dataset.keywords or ()), "organization": (dataset.organisation.slug,),
        "owner_org": (str(dataset.organisation_id),), "license_id": (dataset.licence,),
        "res_format": formats,
        "groups": tuple(group_name(c) for c in dataset.themes or () if c in vocab.THEMES),
        "frequency": (dataset.frequency,), "state": ("active",), "capacity": ("public",),
        "type": ("dataset",), "dataset_type": ("dataset",), "private": ("false",),
        "isopen": ("true" if licence and licence.open else "false",),
    }  # fmt: skip
    for name, values in raw.items():
        built.raw[name].append(values)
        for value in values:
            built.values[name].setdefault(fold(value), set()).add(entry)


# --- Queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class All:
    pass


@dataclass(frozen=True)
class Term:
    field: str  # a VALUE_FIELDS, TEXT_FIELDS or DATE_FIELDS name
    value: str
    phrase: bool = False


@dataclass(frozen=True)
class Range:
    field: str
    low: str | None  # None is an open end ("*")
    high: str | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = All | Term | Range | Not | And | Or
_FIELD = re.compile(r"([A-Za-z_*][\w.*-]*):(?!//)")
_SPECIAL = set('()[]{}"')


class _Parser:
    """Solr's standard query syntax, the part CKAN clients use (docs/opendata-ckan.md).

    Clauses side by side must all hold; ``OR`` binds them tighter than that, and ``AND``
    tighter still, so ``a:1 OR a:2 b:3`` reads ``(a:1 OR a:2) AND b:3``, as harvesters
    that join their filters with spaces mean it.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def parse(self) -> Node:
        node = self._clauses(None, closing=None)
        if self._peek():
            raise BadQuery(f"unexpected {self._peek()!r} at character {self.at + 1}")
        return node

    def _clauses(self, default: str | None, closing: str | None) -> Node:
        found: list[Node] = []
        while self._peek() and self._peek() != closing:
            found.append(self._or(default))
        if not found:
            raise BadQuery("empty query or group")
        return found[0] if len(found) == 1 else And(tuple(found))

    def _or(self, default: str | None) -> Node:
        found = [self._and(default)]
        while self._operator("OR", "||"):
            found.append(self._and(default))
        return found[0] if len(found) == 1 else Or(tuple(found))

    def _and(self, default: str | None) -> Node:
        found = [self._unary(default)]
        while self._operator("AND", "&&"):
            found.append(self._unary(default))
        return found[0] if len(found) == 1 else And(tuple(found))

    def _unary(self, default: str | None) -> Node:
        if self._operator("NOT", "-") or self._symbol("!"):
            return Not(self._unary(default))
        if self._symbol("+"):
            return self._unary(default)
        return self._primary(default)

    def _primary(self, default: str | None) -> Node:
        if not self._peek():
            raise BadQuery("a term is missing at the end")
        if self._symbol("("):
            return self._group(default)
        named = _FIELD.match(self.text, self.at)
        if named:
            self.at = named.end()
            return self._value(_field(named.group(1)))
        return self._value(default or "text")

    def _group(self, default: str | None) -> Node:
        node = self._clauses(default, closing=")")
        if not self._symbol(")"):
            raise BadQuery("a parenthesis is not closed")
        return node

    def _value(self, name: str) -> Node:
        char = self.text[self.at : self.at + 1]
        if char in ("[", "{"):
            return self._range(name)
        if char == '"':
            return Term(name, self._quoted(), phrase=True)
        if char == "(":
            self.at += 1
            return self._group(name)
        word = self._word()
        if not word:
            raise BadQuery(f"a value is missing at character {self.at + 1}")
        if name == "*" and word == "*":
            return All()
        if name == "*":
            raise BadQuery("only *:* may use the field *")
        return Term(name, word)

    def _range(self, name: str) -> Node:
        closing = self.text.find("]", self.at)
        curly = self.text.find("}", self.at)
        if closing < 0 or 0 <= curly < closing:
            closing = curly
        if closing < 0:
            raise BadQuery("a range is not closed")
        inside = re.fullmatch(r"\s*(\S+)\s+TO\s+(\S+)\s*", self.text[self.at + 1 : closing])
        if not inside:
            raise BadQuery("a range reads [from TO to]")
        low, high = (None if v == "*" else v for v in inside.groups())
        node = Range(name, low, high, self.text[self.at] == "[", self.text[closing] == "]")
        self.at = closing + 1
        return node

    def _quoted(self) -> str:
        end = self.at + 1
        while end < len(self.text) and self.text[end] != '"':
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise BadQuery("a quotation mark is not closed")
        value = re.sub(r"\\(.)", r"\1", self.text[self.at + 1 : end])
        self.at = end + 1
        return value

    def _word(self) -> str:
        start, end = self.at, self.at
        while end < len(self.text):
            char = self.text[end]
            if char == "\\" and end + 1 < len(self.text):
                end += 2
                continue
            if char.isspace() or char in _SPECIAL:
                break
            end += 1
        self.at = end
        return re.sub(r"\\(.)", r"\1", self.text[start:end])

    def _peek(self) -> str:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1
        return self.text[self.at : self.at + 1]

    def _symbol(self, symbol: str) -> bool:
        if self._peek() and self.text.startswith(symbol, self.at):
            self.at += len(symbol)
            return True
        return False

    def _operator(self, word: str, symbol: str) -> bool:
        if not self._peek():
            return False
        if self._symbol(symbol):
            return True
        after = self.at + len(word)
        if self.text.startswith(word, self.at) and (
            after == len(self.text) or self.text[after].isspace() or self.text[after] == "("
        ):
            self.at = after
            return True
        return False


def _field(name: str) -> str:
    if name == "*" or name in VALUE_FIELDS or name in TEXT_FIELDS or name in DATE_FIELDS:
        return name
    known = ", ".join((*VALUE_FIELDS, *TEXT_FIELDS, *DATE_FIELDS))
    raise BadQuery(f"unknown field {name!r}; one of: {known}")


def parse(text: str) -> Node:
    """A q or fq text as a query tree; BadQuery when it cannot be read."""
    if not text.strip():
        return All()
    return _Parser(text).parse()


def evaluate(node: Node, found: _Index, now: datetime | None = None) -> set[int]:
    """The entries of ``found`` that ``node`` matches."""
    now = now or timezone.now()
    match node:
        case All():
            return found.everything
        case Not(inner):
            return found.everything - evaluate(inner, found, now)
        case And(nodes):
            return reduce(set.intersection, (evaluate(n, found, now) for n in nodes))
        case Or(nodes):
            return set().union(*(evaluate(n, found, now) for n in nodes))
        case Range():
            return _in_range(node, found, now)
        case Term(name, value, phrase) if name in DATE_FIELDS:
            if value == "*":
                return found.everything
            return _in_range(Range(name, value, value), found, now)
        case Term(name, value, phrase) if name in TEXT_FIELDS:
            return _text_match(found, name, value, phrase)
        case Term(name, value, _):
            return _value_match(found, name, value)
    raise BadQuery("unsupported query")  # pragma: no cover - every node is handled above


def _value_match(found: _Index, name: str, value: str) -> set[int]:
    values = found.values[name]
    wanted = fold(value)
    if "*" not in wanted and "?" not in wanted:
        return set(values.get(wanted, ()))
    return set().union(*(e for v, e in values.items() if fnmatch.fnmatchcase(v, wanted)))


def _text_match(found: _Index, name: str, value: str, phrase: bool) -> set[int]:
    tokens = words(value)
    if not tokens:
        return found.everything if value.strip("*") == "" else set()
    matched = reduce(set.intersection, (set(_prefixed(found, name, t)) for t in tokens))
    if phrase:
        wanted = " ".join(tokens)
        texts = found.phrases[name]
        matched = {e for e in matched if wanted in " ".join(re.findall(r"\w+", texts[e]))}
    return matched


def _prefixed(found: _Index, name: str, token: str) -> dict[int, int]:
    """Entries holding a word that starts with ``token`` (whole words for short tokens,
    so "de" does not find everything), with the best weight of such a word."""
    postings = found.postings[name]
    if len(token) < 3:
        return postings.get(token, {})
    vocabulary = found.vocabulary[name]
    best: dict[int, int] = {}
    start = bisect.bisect_left(vocabulary, token)
    for word in vocabulary[start:]:
        if not word.startswith(token):
            break
        for entry, weight in postings[word].items():
            best[entry] = max(best.get(entry, 0), weight + (word == token))
    return best


_UNITS = {"YEAR": "years", "MONTH": "months", "DAY": "days", "DATE": "days", "HOUR": "hours",
          "MINUTE": "minutes", "SECOND": "seconds", "MILLI": "milliseconds",
          "MILLISECOND": "milliseconds"}  # fmt: skip
_MATH = re.compile(r"([+-])(\d+)([A-Z]+?)S?(?=[+/-]|$)|/([A-Z]+?)S?(?=[+/-]|$)")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?Z?")


def moment(text: str, now: datetime) -> datetime:
    """A Solr date (``2026-01-01T00:00:00Z``, ``NOW``, with date math such as
    ``NOW-7DAYS/DAY``) as an aware UTC datetime; BadQuery otherwise."""
    anchor = _ISO.match(text)
    if text.startswith("NOW"):
        when, rest = now.astimezone(UTC), text[3:]
    elif anchor:
        when, rest = _parse_iso(anchor.group(0)), text[anchor.end() :]
    else:
        raise BadQuery(f"not a date: {text!r} (2026-01-01T00:00:00Z, NOW, NOW-1DAY...)")
    position = 0
    while position < len(rest):
        step = _MATH.match(rest, position)
        unit = step and _UNITS.get(step.group(3) or step.group(4))
        if not unit:
            raise BadQuery(f"unknown date math {rest[position:]!r}")
        if step.group(4):
            when = _round(when, unit)
        else:
            sign = 1 if step.group(1) == "+" else -1
            when = _shift(when, unit, sign * int(step.group(2)))
        position = step.end()
    return when


def _parse_iso(text: str) -> datetime:
    text = text.rstrip("Z")
    if "." in text:  # Python takes at most six digits of a second's fraction
        head, fraction = text.split(".")
        text = f"{head}.{fraction[:6].ljust(6, '0')}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"not a date: {text!r}") from None
    return parsed.replace(tzinfo=UTC)


def _shift(when: datetime, unit: str, amount: int) -> datetime:
    if unit in ("years", "months"):
        months = when.month - 1 + amount * (12 if unit == "years" else 1)
        year, month = when.year + months // 12, months % 12 + 1
        if not 1 <= year <= 9999:
            raise BadQuery("date math out of range")
        day = min(when.day, calendar.monthrange(year, month)[1])
        return when.replace(year=year, month=month, day=day)
    try:
        return when + timedelta(**{unit: amount})
    except OverflowError:
        raise BadQuery("date math out of range") from None


def _round(when: datetime, unit: str) -> datetime:
    cut = {"years": dict(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
           "months": dict(day=1, hour=0, minute=0, second=0, microsecond=0),
           "days": dict(hour=0, minute=0, second=0, microsecond=0),
           "hours": dict(minute=0, second=0, microsecond=0),
           "minutes": dict(second=0, microsecond=0), "seconds": dict(microsecond=0),
           "milliseconds": dict(microsecond=when.microsecond // 1000 * 1000)}  # fmt: skip
    return when.replace(**cut[unit])


def _in_range(node: Range, found: _Index, now: datetime) -> set[int]:
    if node.field not in DATE_FIELDS:
        raise BadQuery(f"ranges apply to {', '.join(DATE_FIELDS)} only")
    low = moment(node.low, now) if node.low else None
    high = moment(node.high, now) if node.high else None
    matched = set()
    for entry, when in enumerate(found.dates[node.field]):
        if low and (when < low or (when == low and not node.include_low)):
            continue
        if high and (when > high or (when == high and not node.include_high)):
            continue
        matched.add(entry)
    return matched


# --- Searching --------------------------------------------------------------------------------


def _free_text(found: _Index, text: str) -> dict[int, float]:
    """Entries matching a plain q and their score: like CKAN's dismax "mm", one or two
    words must all be found, up to five all but one, beyond that 80%."""
    tokens = list(dict.fromkeys(words(text)))
    if not tokens:
        return dict.fromkeys(found.everything, 1.0)
    needed = len(tokens) if len(tokens) <= 2 else len(tokens) - 1
    if len(tokens) > 5:
        needed = math.floor(len(tokens) * 0.8)
    hits: Counter[int] = Counter()
    score: Counter[int] = Counter()
    for token in tokens:
        for entry, weight in _prefixed(found, "text", token).items():
            hits[entry] += 1
            score[entry] += weight
    return {entry: float(score[entry]) for entry, count in hits.items() if count >= needed}


def _scored(found: _Index, q: str, now: datetime) -> dict[int, float]:
    text = q.strip()
    if text in ("", "*:*", '""', "''"):
        return dict.fromkeys(found.everything, 1.0)
    if ":" not in text:  # as CKAN: a q without a field is words, not query syntax
        return _free_text(found, text)
    node = parse(text)
    score = _free_text(found, " ".join(_bare_words(node)))
    return {entry: score.get(entry, 1.0) for entry in evaluate(node, found, now)}


def _bare_words(node: Node) -> list[str]:
    match node:
        case Term("text", value, _):
            return [value]
        case And(nodes) | Or(nodes):
            return [w for n in nodes for w in _bare_words(n)]
    return []


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``field dir, field dir`` as [(field, descending)]; BadQuery as CKAN's invalid sort."""
    found = []
    for part in text.split(","):
        pieces = part.split()
        if len(pieces) != 2 or pieces[1].lower() not in ("asc", "desc"):
            raise BadQuery('Invalid "sort" parameter')
        name, direction = pieces
        if name not in SORT_FIELDS:
            raise BadQuery(f'Invalid "sort" parameter: {name!r} is not one of '
                           f"{', '.join(SORT_FIELDS)}")  # fmt: skip
        found.append((name, direction.lower() == "desc"))
    return found


def _order(found: _Index, entries: dict[int, float], order: list[tuple[str, bool]]) -> list[int]:
    ranked = sorted(entries, key=lambda e: found.sort_keys["name"][e])
    for name, descending in reversed(order):  # stable sorts, last key first
        if name == "score":
            values: Any = entries
        elif name in DATE_FIELDS:
            values = found.dates[name]
        else:
            values = found.sort_keys[name]
        ranked.sort(key=lambda e, v=values: v[e], reverse=descending)
    return ranked


def _facets(found: _Index, entries: Iterable[int], names: list[str], limit: int,
            minimum: int) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    facets: dict[str, Any] = {}
    search_facets: dict[str, Any] = {}
    entries = list(entries)
    for name in names:
        if name not in found.raw:
            raise BadQuery(f"cannot facet on {name!r}; one of: {', '.join(VALUE_FIELDS)}")
        counts = Counter(v for e in entries for v in found.raw[name][e])
        kept = [(v, n) for v, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
                if n >= max(minimum, 1)]  # fmt: skip
        if limit >= 0:
            kept = kept[:limit]
        facets[name] = dict(kept)
        items = [{"name": v, "display_name": _display(found, name, v), "count": n}
                 for v, n in kept]  # fmt: skip
        # CKAN orders the items by display name, descending.
        items.sort(key=lambda item: item["display_name"], reverse=True)
        search_facets[name] = {"title": name, "items": items}
    return facets, search_facets


def _display(found: _Index, name: str, value: str) -> str:
    if name == "organization":
        return found.publishers.get(value) or value
    if name == "groups" and value.upper() in vocab.THEMES:
        return group_title(value.upper())
    if name == "license_id" and value in vocab.LICENCES:
        return vocab.LICENCES[value].title
    return value


def _fields_list(params: dict[str, Any]) -> list[str]:
    value = params.get("fl")
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in re.split(r"[\s,]+", str(value)) if v]


# --- Actions ----------------------------------------------------------------------------------


def package_list(params: dict[str, Any]) -> list[str]:
    """Return the names of the site's open datasets, in name order.

    :param limit: at most this many names (optional)
    :param offset: skip this many names first (optional)
    """
    limit, offset = _natural(params, "limit"), _natural(params, "offset", 0) or 0
    names = services.visible().order_by("identifier").values_list("identifier", flat=True)
    return list(names[offset : offset + limit] if limit else names[offset:])


def package_search(params: dict[str, Any]) -> dict[str, Any]:
    """Search the open datasets.

    :param q: words (accents and case ignored) or a query such as ``tags:eau``
    :param fq: filter query, e.g. ``organization:x metadata_modified:[NOW-7DAYS TO *]``
    :param fq_list: more filter queries (a list)
    :param sort: e.g. ``metadata_modified desc`` (default ``score desc, metadata_modified
        desc``); fields: score, name, title_string, id, metadata_modified, metadata_created
    :param rows: datasets per page (default 10, at most 1000)
    :param start: datasets to skip
    :param facet.field: fields to count, a JSON list such as ``["tags", "res_format"]``
    :param facet.limit: values per facet (default 50, negative for all)
    :param facet.mincount: least count of a value (default 1)
    :param fl: return only these fields of each dataset
    """
    unknown = sorted(k for k in params if k not in SEARCH_PARAMS and not k.startswith("ext_"))
    if unknown:
        raise BadQuery(f"Invalid search parameters: {unknown}")
    rows = min(_natural(params, "rows", ROWS_DEFAULT) or 0, ROWS_MAX)
    start = _natural(params, "start", 0) or 0
    facet_limit = _integer(params, "facet.limit", FACET_LIMIT)
    facet_min = _natural(params, "facet.mincount", 1) or 0
    facet_names = _string_list(params, "facet.field") if _boolean(params, "facet", True) else []
    sort_text = _text(params, "sort").strip()
    sort_text = DEFAULT_SORT if sort_text in ("", "rank") else sort_text
    order = parse_sort(sort_text)
    filters = [_text(params, "fq"), *_string_list(params, "fq_list")]
    now = timezone.now()
    nodes = [parse(f) for f in filters if f.strip()]
    found = index()
    scored = _scored(found, _text(params, "q"), now)
    for node in nodes:
        allowed = evaluate(node, found, now)
        scored = {e: s for e, s in scored.items() if e in allowed}
    ranked = _order(found, scored, order)
    facets, search_facets = _facets(found, ranked, facet_names, facet_limit, facet_min)
    page = [package_dict(found.datasets[e]) for e in ranked[start : start + rows]]
    wanted = _fields_list(params)
    if wanted:
        page = [{name: package.get(name) for name in wanted} for package in page]
    return {"count": len(ranked), "facets": facets, "results": page, "sort": sort_text,
            "search_facets": search_facets}  # fmt: skip


def _integer(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        raise Invalid({name: ["Invalid integer"]}) from None


def package_show(params: dict[str, Any]) -> dict[str, Any]:
    """Return one open dataset.

    :param id: the dataset's name (identifier) or id (UUID)
    """
    wanted = params.get("id") or params.get("name_or_id")
    if not wanted or not isinstance(wanted, str):
        raise Invalid({"id": ["Missing value"]})
    lookup = Q(identifier=wanted)
    with contextlib.suppress(ValueError):  # a name, not an id
        lookup |= Q(id=uuid.UUID(wanted))
    dataset = services.visible().select_related("organisation").filter(lookup).first()
    if dataset is None:
        raise NotFound("Not found: Dataset not found")
    return package_dict(dataset, measure=True)


def organization_list(params: dict[str, Any]) -> list[Any]:
    """Return the publishers' names, or their dictionaries with ``all_fields``.

    :param all_fields: dictionaries instead of names (at most 25 then, as CKAN)
    :param sort: ``name``, ``title`` or ``package_count``, with asc or desc
        (default ``title asc``)
    :param limit: at most this many (optional)
    :param offset: skip this many first (optional)
    :param organizations: only these names (a list, or names separated by commas)
    """
    all_fields = _boolean(params, "all_fields")
    ceiling = ORG_LIST_ALL_FIELDS_MAX if all_fields else ORG_LIST_MAX
    limit = min(_natural(params, "limit") or ceiling, ceiling)
    offset = _natural(params, "offset", 0) or 0
    counted = Organisation.objects.using(services.DB).annotate(
        package_count=Count("datasets", filter=Q(datasets__published=True,
                                                 datasets__access=Dataset.Access.OPEN))
    )  # fmt: skip
    chosen = params.get("organizations")
    if chosen:
        names = chosen if isinstance(chosen, list) else str(chosen).split(",")
        counted = counted.filter(slug__in=[n.strip() for n in names])
    rows = counted.order_by(*_org_order(_text(params, "sort")))[offset : offset + limit]
    if not all_fields:
        return [row.slug for row in rows]
    return [_organization_listed(row) for row in rows]


def _org_order(text: str) -> tuple[str, ...]:
    text = text.strip() or "title asc"
    if text in ("packages", "package_count"):
        text = "package_count desc"
    pieces = text.split()
    columns = {"name": "slug", "title": "name", "packages": "package_count",
               "package_count": "package_count"}  # fmt: skip
    if not 1 <= len(pieces) <= 2 or pieces[0] not in columns:
        raise Invalid({"sort": [f"Cannot sort by field `{pieces[0] if pieces else ''}`"]})
    descending = len(pieces) == 2 and pieces[1].lower() == "desc"
    if len(pieces) == 2 and pieces[1].lower() not in ("asc", "desc"):
        raise Invalid({"sort": ["Invalid sort direction"]})
    column = columns[pieces[0]]
    return (f"-{column}" if descending else column, "slug")


def _organization_listed(organisation: Organisation) -> dict[str, Any]:
    listed = organization_dict(organisation)
    for private in ("revision_id", "revision_timestamp"):
        listed.pop(private)
    listed.update(display_name=organisation.name, image_display_url="", num_followers=0,
                  package_count=organisation.package_count)  # fmt: skip
    return listed


def organization_show(params: dict[str, Any]) -> dict[str, Any]:
    """Return one publisher.

    :param id: its name (short name) or id (UUID)
    """
    wanted = params.get("id")
    if not wanted or not isinstance(wanted, str):
        raise Invalid({"id": ["Missing value"]})
    lookup = Q(slug=wanted)
    with contextlib.suppress(ValueError):  # a name, not an id
        lookup |= Q(id=uuid.UUID(wanted))
    rows = Organisation.objects.using(services.DB).filter(lookup).annotate(
        package_count=Count("datasets", filter=Q(datasets__published=True,
                                                 datasets__access=Dataset.Access.OPEN))
    )  # fmt: skip
    organisation = rows.first()
    if organisation is None:
        raise NotFound("Not found: Organization not found")
    return _organization_listed(organisation)


def group_list(params: dict[str, Any]) -> list[Any]:
    """Return the groups: the EU data themes, by lower-case code.

    :param all_fields: dictionaries instead of names
    """
    counts: Counter[str] = Counter()
    for themes in services.visible().values_list("themes", flat=True):
        counts.update(t for t in themes or [] if t in vocab.THEMES)
    if not _boolean(params, "all_fields"):
        return [group_name(code) for code in vocab.THEMES]
    return [{**group_dict(code), "type": "group", "is_organization": False, "state": "active",
             "approval_status": "approved", "package_count": counts[code]}
            for code in vocab.THEMES]  # fmt: skip


def license_list(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the licences datasets may be published under."""
    return [licence_dict(licence) for licence in vocab.LICENCES.values()]


def status_show(params: dict[str, Any]) -> dict[str, Any]:
    """Return what this site is and which CKAN it answers like."""
    return {
        "site_title": "Alzette", "site_description": "Open data of the territory",
        "site_url": settings.ALZETTE_PUBLIC_URL, "ckan_version": CKAN_VERSION,
        "error_emails_to": None, "locale_default": settings.LANGUAGE_CODE,
        "extensions": ["alzette"],
    }  # fmt: skip


def help_show(params: dict[str, Any]) -> str:
    """Return the help text of an action.

    :param name: the action's name
    """
    name = params.get("name")
    if not name or not isinstance(name, str):
        raise Invalid({"name": ["Missing value"]})
    if name not in ACTIONS:
        raise NotFound(f"Not found: Action function not found: {name}")
    return inspect.getdoc(ACTIONS[name]) or ""


ACTIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    action.__name__: action
    for action in (package_list, package_search, package_show, organization_list,
                   organization_show, group_list, license_list, status_show, help_show)
}  # fmt: skip


def run(action: str, params: dict[str, Any]) -> Any:
    """The result of ``action`` for ``params``; ActionError when it fails."""
    if action not in ACTIONS:
        raise UnknownAction(f"Bad request - Action name not known: {action}")
    return ACTIONS[action](params)
