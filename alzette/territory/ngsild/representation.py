"""NGSI-LD payloads in and out: validation, expansion and compaction.

Stored form ("expanded normalized"): attribute names and types are IRIs; each
attribute is a list of instances (one per ``datasetId``); inside an instance
the core members keep their short names (``type``, ``value``, ``object``,
``languageMap``, ``observedAt``, ``unitCode``, ``datasetId``, ``createdAt``,
``modifiedAt``) and sub-attributes are again IRIs mapping to lists. Property
values are kept as sent (compound values are not expanded), as brokers do.

Input accepts the normalized and the concise representations (CIM 009
§4.5.1, §4.5.3): a member without ``type`` is a Property when it has
``value`` or is a plain value, a Relationship when it has ``object``, a
LanguageProperty when it has ``languageMap``, a GeoProperty when its value is
a GeoJSON geometry.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

from alzette.territory.ngsild import geoquery, jsonld
from alzette.territory.ngsild.errors import bad_data
from alzette.territory.ngsild.jsonld import Context

PROPERTY = "Property"
RELATIONSHIP = "Relationship"
GEOPROPERTY = "GeoProperty"
LANGUAGEPROPERTY = "LanguageProperty"
ATTRIBUTE_TYPES = (PROPERTY, RELATIONSHIP, GEOPROPERTY, LANGUAGEPROPERTY)
GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon"}  # fmt: skip
NULL = "urn:ngsi-ld:null"

#: Members of an attribute instance that are not sub-attributes.
CORE_MEMBERS = {"type", "value", "object", "objectType", "languageMap", "observedAt",
                "unitCode", "datasetId", "createdAt", "modifiedAt", "instanceId", "deletedAt",
                "lang"}  # fmt: skip
SYSTEM_MEMBERS = {"createdAt", "modifiedAt", "instanceId", "deletedAt"}
ENTITY_MEMBERS = {"id", "@id", "type", "@type", "scope", "@context", "createdAt", "modifiedAt",
                  "deletedAt", "location", "observationSpace", "operationSpace"}  # fmt: skip
CORE_GEO = {"location", "observationSpace", "operationSpace"}

_FORBIDDEN = re.compile(r"[<>\"'=;()\s]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$|^@none$")
_SCOPE = re.compile(r"^/[^/\s]+(/[^/\s]+)*$|^/#$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def now_iso() -> str:
    """The current time as NGSI-LD writes it (UTC, milliseconds, Z)."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(text: Any, member: str) -> datetime:
    """A DateTime member, checked (ISO 8601 with a time zone)."""
    if not isinstance(text, str) or not _DATETIME.match(text):
        raise bad_data(f"{member} must be an ISO 8601 date-time with a time zone, got {text!r}")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_data(f"{member} is not a valid date-time: {text!r}") from None


def is_uri(value: Any) -> bool:
    return isinstance(value, str) and bool(_SCHEME.match(value)) and len(value) <= 512


def check_entity_id(value: Any) -> str:
    if not is_uri(value):
        raise bad_data(f"entity id must be a URI, got {value!r}")
    return value


def check_name(name: Any) -> str:
    """An attribute name or type as written by the caller."""
    if not isinstance(name, str) or not name or len(name) > 256 or _FORBIDDEN.search(name):
        raise bad_data(f"invalid name {name!r}: empty, too long or with a forbidden character")
    return name


def expand_types(value: Any, ctx: Context) -> list[str]:
    """The entity's type(s) as IRIs (a string or a non-empty list of strings)."""
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) for n in names):
        raise bad_data("entity type must be a string or a non-empty list of strings")
    return list(dict.fromkeys(ctx.expand(check_name(n)) for n in names))


def check_scope(value: Any) -> list[str] | None:
    if value is None:
        return None
    scopes = value if isinstance(value, list) else [value]
    if not scopes or not all(isinstance(s, str) and _SCOPE.match(s) for s in scopes):
        raise bad_data("scope must be a path such as /Audun/Bins or a list of them")
    return scopes


class Expander:
    """Expands and checks the attributes of a payload; stamps system members."""

    def __init__(self, ctx: Context, now: str | None = None) -> None:
        self.ctx = ctx
        self.now = now or now_iso()

    def attributes(self, payload: dict[str, Any], *, allow_null: bool = False) -> dict[str, list]:
        out: dict[str, list] = {}
        for name, value in payload.items():
            if name in ENTITY_MEMBERS and name not in CORE_GEO:
                continue
            iri = self.ctx.expand(check_name(name))
            out[iri] = self.attribute(name, value, allow_null=allow_null)
        return out

    def attribute(self, name: str, value: Any, *, allow_null: bool = False) -> list[dict]:
        """One attribute (or a list of its instances) as a list of checked instances."""
        items = value if isinstance(value, list) and _is_instance_list(value) else [value]
        instances = [self.instance(name, item, allow_null=allow_null) for item in items]
        seen: set[str] = set()
        for instance in instances:
            key = instance.get("datasetId", "")
            if key in seen:
                shared = key or "(default)"
                raise bad_data(f"attribute {name}: two instances share datasetId {shared}")
            seen.add(key)
        return instances

    def instance(self, name: str, raw: Any, *, allow_null: bool = False) -> dict[str, Any]:
        if allow_null and (raw is None or raw == NULL):
            return {"type": PROPERTY, "value": NULL}
        data = _normalise(name, raw)
        kind = data.get("type")
        if kind not in ATTRIBUTE_TYPES:
            raise bad_data(f"attribute {name}: unsupported type {kind!r}", attribute=name)
        out: dict[str, Any] = {"type": kind}
        getattr(self, f"_{kind.lower()}")(name, data, out, allow_null)
        self._common(name, data, out)
        for member, sub in data.items():
            if member in CORE_MEMBERS:
                continue
            out[self.ctx.expand(check_name(member))] = self.attribute(
                f"{name}.{member}", sub, allow_null=allow_null
            )
        return out

    def _property(self, name: str, data: dict, out: dict, allow_null: bool) -> None:
        if "value" not in data:
            raise bad_data(f"attribute {name}: a Property needs a value", attribute=name)
        value = data["value"]
        if value is None and not allow_null:
            raise bad_data(f"attribute {name}: value must not be null", attribute=name)
        out["value"] = value

    def _relationship(self, name: str, data: dict, out: dict, allow_null: bool) -> None:
        target = data.get("object")
        targets = target if isinstance(target, list) else [target]
        if not targets or not all(is_uri(t) for t in targets):
            raise bad_data(f"attribute {name}: object must be a URI", attribute=name)
        out["object"] = target
        if "objectType" in data:
            out["objectType"] = self.ctx.expand(check_name(data["objectType"]))

    def _geoproperty(self, name: str, data: dict, out: dict, allow_null: bool) -> None:
        value = data.get("value")
        if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
            raise bad_data(f"attribute {name}: value must be a GeoJSON geometry", attribute=name)
        try:
            geoquery.parse_value(value)
        except geoquery.GeoQueryError as exc:
            raise bad_data(f"attribute {name}: {exc}", attribute=name) from None
        out["value"] = value

    def _languageproperty(self, name: str, data: dict, out: dict, allow_null: bool) -> None:
        texts = data.get("languageMap")
        if not isinstance(texts, dict) or not texts:
            raise bad_data(f"attribute {name}: languageMap must be a non-empty object")
        for lang, text in texts.items():
            strings = text if isinstance(text, list) else [text]
            if not _LANG.match(lang) or not all(isinstance(s, str) for s in strings):
                raise bad_data(f"attribute {name}: languageMap maps language tags to strings")
        out["languageMap"] = texts

    def _common(self, name: str, data: dict, out: dict) -> None:
        if "observedAt" in data:
            parse_datetime(data["observedAt"], f"{name}.observedAt")
            out["observedAt"] = data["observedAt"]
        if "unitCode" in data:
            if not isinstance(data["unitCode"], str) or not data["unitCode"]:
                raise bad_data(f"attribute {name}: unitCode must be a UN/CEFACT code string")
            out["unitCode"] = data["unitCode"]
        if "datasetId" in data:
            if not is_uri(data["datasetId"]):
                raise bad_data(f"attribute {name}: datasetId must be a URI", attribute=name)
            out["datasetId"] = data["datasetId"]
        out["createdAt"] = out["modifiedAt"] = self.now


def _is_instance_list(value: list) -> bool:
    # A list of attribute objects is a multi-attribute; any other list is a concise value.
    return bool(value) and all(
        isinstance(v, dict) and (v.get("type") in ATTRIBUTE_TYPES or "datasetId" in v)
        for v in value
    )  # fmt: skip


def _normalise(name: str, raw: Any) -> dict[str, Any]:
    """The normalized form of a normalized or concise attribute."""
    if isinstance(raw, dict):
        kind = raw.get("type")
        if kind in ATTRIBUTE_TYPES:
            return raw
        if kind in GEOMETRY_TYPES and "coordinates" in raw:
            return {"type": GEOPROPERTY, "value": raw}
        if "languageMap" in raw:
            return {"type": LANGUAGEPROPERTY, **raw}
        if "object" in raw:
            return {"type": RELATIONSHIP, **raw}
        if "value" in raw:
            value = raw["value"]
            geo = isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES
            return {"type": GEOPROPERTY if geo else PROPERTY, **raw}
        if kind is not None:
            raise bad_data(f"attribute {name}: unsupported type {kind!r}", attribute=name)
    if raw is None:
        raise bad_data(f"attribute {name}: value must not be null", attribute=name)
    return {"type": PROPERTY, "value": raw}


def find_instance(instances: list[dict], dataset_id: str | None) -> dict | None:
    for instance in instances:
        if instance.get("datasetId") == dataset_id:
            return instance
    return None


# --- Reading one attribute of a stored body ----------------------------------------------------
#
# The domain modules (lighting, waste, water...) read a few attributes of the entities they
# keep in the store. These functions are the one way to do it, so that they all agree on
# which instance counts and on what "the value" is.

HAS_VALUE = "https://uri.etsi.org/ngsi-ld/hasValue"
HAS_OBJECT = "https://uri.etsi.org/ngsi-ld/hasObject"


def local_name(iri: str) -> str:
    """The last segment of an IRI (after its last ``/`` or ``#``): ``fillingLevel`` for
    ``https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel``."""
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def default_instance(
    body: dict[str, Any],
    term: str,
    *,
    ctx: Context | None = None,
    by_local_name: bool = False,
    strict: bool = False,
) -> dict[str, Any] | None:
    """The default instance (the one without ``datasetId``) of attribute ``term`` in a
    stored, expanded entity body; None when the entity has no such attribute.

    ``term`` is looked up as ``ctx`` expands it (the core context when None), then under
    the core context's default vocabulary (what a client that sent no @context for the
    term wrote). With ``by_local_name``, any attribute whose IRI ends in ``/term`` or
    ``#term`` is then accepted: for entities that other writers create with whatever
    @context they like, where only the term is known.

    When every instance has a ``datasetId``, the first one is returned, as the best
    available reading; with ``strict``, None (for a caller that keeps its own state in
    the default instance and must not mistake another dataset's for it).
    """
    instances = _instances(body, term, ctx, by_local_name)
    found = next((i for i in instances if "datasetId" not in i), None)
    if found is None and instances and not strict:
        return instances[0]
    return found


def attribute_value(
    body: dict[str, Any],
    term: str,
    *,
    ctx: Context | None = None,
    by_local_name: bool = False,
    strict: bool = False,
) -> Any:
    """The plain value of attribute ``term`` (see ``default_instance`` for the lookup and
    the options; ``instance_value`` for what "plain" means); None when absent."""
    return instance_value(
        default_instance(body, term, ctx=ctx, by_local_name=by_local_name, strict=strict)
    )


def instance_value(instance: dict[str, Any] | None) -> Any:
    """The plain value of one attribute instance: a Relationship's ``object`` (a URI or a
    list of them), a Property's or a GeoProperty's ``value`` (a JSON-LD value object
    ``{"@value": ...}`` unwrapped, a compound value or a GeoJSON geometry as stored).

    Bodies written as fully expanded JSON-LD (``hasObject``/``hasValue`` arrays of
    ``{"@id"}``/``{"@value"}`` objects) are read too: a one-item array gives its item.
    None for no instance and for a LanguageProperty (its ``languageMap`` has no single
    value: read it from the instance).
    """
    if not isinstance(instance, dict):
        return None
    for member in ("object", HAS_OBJECT, "value", HAS_VALUE):
        if member in instance:
            found = instance[member]
            if member in (HAS_OBJECT, HAS_VALUE) and isinstance(found, list) and len(found) == 1:
                found = found[0]
            return _plain(found)
    return None


@cache
def _core() -> Context:
    return jsonld.resolve(None)


def _instances(
    body: dict[str, Any], term: str, ctx: Context | None, by_local_name: bool
) -> list[dict[str, Any]]:
    """The instances of the first matching attribute of ``body`` (see ``default_instance``)."""
    expanded = (ctx or _core()).expand(term)
    for key in dict.fromkeys((expanded, jsonld.DEFAULT_VOCAB + term)):
        if found := _as_instances(body.get(key)):
            return found
    if by_local_name:
        for key, instances in body.items():
            if local_name(key) == term and (found := _as_instances(instances)):
                return found
    return []


def _as_instances(stored: Any) -> list[dict[str, Any]]:
    items = stored if isinstance(stored, list) else [stored]
    return [i for i in items if isinstance(i, dict)]


def _plain(value: Any) -> Any:
    """A JSON-LD value object as its value, a node reference as its id, lists item-wise."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if "@value" in value:
            return value["@value"]
        if "@id" in value and set(value) <= {"@id", "@type"}:
            return value["@id"]
    return value


class Renderer:
    """Compacts stored entities for an answer (CIM 009 §4.5, §6.3.7, §6.3.8).

    ``fmt`` is "normalized", "concise" or "keyValues" (alias "simplified");
    ``attrs`` keeps only these attribute IRIs; ``pick``/``omit`` keep or drop
    entity members by their compacted name; ``lang`` turns LanguageProperties
    into a Property in that language (§4.15).
    """

    def __init__(
        self,
        ctx: Context,
        *,
        fmt: str = "normalized",
        sys_attrs: bool = False,
        attrs: set[str] | None = None,
        pick: set[str] | None = None,
        omit: set[str] | None = None,
        lang: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.fmt = fmt
        self.sys_attrs = sys_attrs
        self.attrs = attrs
        self.pick = pick
        self.omit = omit or set()
        self.lang = lang

    def _keep(self, member: str) -> bool:
        return (self.pick is None or member in self.pick) and member not in self.omit

    def entity(
        self, entity_id: str, types: list[str], body: dict[str, list], meta: dict[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._keep("id"):
            out["id"] = entity_id
        if self._keep("type"):
            compacted = [self.ctx.compact(t) for t in types]
            out["type"] = compacted[0] if len(compacted) == 1 else compacted
        if meta.get("scope") and self._keep("scope"):
            scope = meta["scope"]
            out["scope"] = scope[0] if len(scope) == 1 else scope
        if self.sys_attrs:
            out["createdAt"] = meta["createdAt"]
            out["modifiedAt"] = meta["modifiedAt"]
        for iri, instances in body.items():
            if self.attrs is not None and iri not in self.attrs:
                continue
            name = self.ctx.compact(iri)
            if not self._keep(name):
                continue
            out[name] = self.attribute(instances)
        return out

    def attribute(self, instances: list[dict]) -> Any:
        rendered = [self.instance(i) for i in instances]
        return rendered[0] if len(rendered) == 1 else rendered

    def instance(self, instance: dict[str, Any]) -> Any:
        if self.fmt == "keyValues":
            return self._key_value(instance)
        out: dict[str, Any] = {}
        concise = self.fmt == "concise"
        for member, value in instance.items():
            if member in SYSTEM_MEMBERS and not self.sys_attrs:
                continue
            if member == "type":
                if not concise:
                    out["type"] = value
            elif member == "objectType":
                out[member] = self.ctx.compact(value)
            elif member in CORE_MEMBERS:
                out[member] = value
            else:
                out[self.ctx.compact(member)] = self.attribute(value)
        if instance.get("type") == LANGUAGEPROPERTY and self.lang:
            out = self._in_language(out, instance["languageMap"], concise)
        if concise and set(out) == {"value"} and instance.get("type") != GEOPROPERTY:
            return out["value"]
        return out

    def _in_language(self, out: dict, texts: dict, concise: bool) -> dict:
        lang = _best_language(texts, self.lang)
        out.pop("languageMap", None)
        if not concise:
            out["type"] = PROPERTY
        out["value"] = texts[lang] if lang else None
        out["lang"] = lang
        return out

    def _key_value(self, instance: dict[str, Any]) -> Any:
        kind = instance.get("type")
        if kind == RELATIONSHIP:
            return instance.get("object")
        if kind == LANGUAGEPROPERTY:
            texts = instance["languageMap"]
            if self.lang:
                lang = _best_language(texts, self.lang)
                return texts[lang] if lang else None
            return {"languageMap": texts}
        return instance.get("value")


def _best_language(texts: dict[str, Any], wanted: str) -> str | None:
    """The languageMap key to answer with: the requested one, else @none, else any (§4.15)."""
    for candidate in [w.strip().split(";")[0] for w in wanted.split(",")]:
        if candidate == "*":
            break
        if candidate in texts:
            return candidate
        for key in texts:
            if key.split("-")[0] == candidate.split("-")[0]:
                return key
    if "@none" in texts:
        return "@none"
    return next(iter(texts), None)
