"""Validate an NGSI-LD entity against its Smart Data Model schema.

The schemas describe the key-values form of an entity; a normalized entity
(``{"type": "Property", "value": ...}``) is reduced to it first. Their ``$ref``
to the common definitions (and the Device and GTFS commons) resolve to the
copies in ``data/``; any other remote reference is refused, never fetched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

DATA = Path(__file__).parent / "data"
_SHARED = ("common-schema.json", "device-schema.json", "gtfs-schema.json")
_SYSTEM = {"id", "type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"}


@dataclass
class ModelError(Exception):
    """An entity does not follow its data model; ``attribute`` names what is wrong."""

    entity_type: str
    attribute: str
    message: str

    def __str__(self) -> str:
        return f"{self.entity_type}.{self.attribute}: {self.message}"


def _refuse(uri: str) -> Resource:
    raise NoSuchResource(ref=uri)


@cache
def _registry() -> Registry:
    resources = []
    for name in _SHARED:
        contents = json.loads((DATA / name).read_text())
        # Some declare "$schema": "http://json-schema.org/schema#" (no draft):
        # read them all as the 2020-12 draft the models are written for.
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        resources.append((contents["$id"], resource))
    return Registry(retrieve=_refuse).with_resources(resources)


@cache
def _validator(entity_type: str) -> Draft202012Validator | None:
    path = DATA / f"{entity_type}.schema.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    # Formats are asserted: some models choose between branches by format
    # (an IP address is ipv4 or ipv6).
    return Draft202012Validator(
        schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def _fast(entity_type: str) -> jsonschema_rs.Draft202012Validator:
    """A compiled (Rust) validator that says only whether an entity is valid.

    Most writes are valid: this answers them in microseconds. An entity it
    refuses goes through ``jsonschema``, whose errors name the faulty attribute
    best. It also asserts the date-time and uri formats, which ``jsonschema``
    skips without optional packages: its verdict is the one that counts.
    """
    path = DATA / f"{entity_type}.schema.json"
    shared = {}
    for name in _SHARED:
        contents = json.loads((DATA / name).read_text())
        shared[contents["$id"].split("#")[0]] = contents

    def retrieve(uri: str) -> dict:
        found = shared.get(uri.split("#")[0])
        if found is None:
            raise ValueError(f"remote schema {uri} is never fetched")
        return found

    schema = json.loads(path.read_text())
    return jsonschema_rs.Draft202012Validator(schema, validate_formats=True, retriever=retrieve)


@cache
def _known() -> tuple[str, ...]:
    return tuple(sorted(p.name.removesuffix(".schema.json") for p in DATA.glob("*.schema.json")))


def known_types() -> list[str]:
    return list(_known())


def has_schema(entity_type: str) -> bool:
    return entity_type in _known()


def key_values(entity: dict[str, Any]) -> dict[str, Any]:
    """The key-values form of a normalized NGSI-LD entity (first instance of each
    attribute; sub-attributes and metadata dropped)."""
    simplified: dict[str, Any] = {}
    for name, attribute in entity.items():
        if name in ("@context", "scope"):
            continue
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], dict):
            attribute = attribute[0]  # a multi-attribute: its first instance
        simplified[name] = _value(attribute) if name not in _SYSTEM else attribute
    return simplified


def _value(attribute: Any) -> Any:
    if not isinstance(attribute, dict) or "type" not in attribute:
        return attribute  # already a key-values value
    kind = attribute["type"]
    if kind == "Relationship":
        # The NGSI-LD layer insists on "object"; some published examples say "value".
        return attribute.get("object", attribute.get("value"))
    if kind == "LanguageProperty":
        languages = attribute.get("languageMap", {})
        return next(iter(languages.values()), None)
    if kind in ("Property", "GeoProperty"):
        value = attribute.get("value")
        # A typed value ({"@type": "DateTime", "@value": "..."}) is its @value.
        if isinstance(value, dict) and "@value" in value:
            return value["@value"]
        return value
    return attribute  # a GeoJSON geometry given directly


def validate(entity: dict[str, Any]) -> None:
    """Raise ``ModelError`` if ``entity`` breaks its type's schema; entity types
    without a shipped schema are not checked."""
    entity_type = entity.get("type")
    if not isinstance(entity_type, str):
        return
    validator = _validator(entity_type)
    if validator is None:
        return
    instance = key_values(entity)
    fast = _fast(entity_type)
    if fast.is_valid(instance):
        return
    located = [e for e in fast.iter_errors(instance) if e.instance_path]
    if located:
        error = min(located, key=lambda e: (len(e.instance_path), e.message))
        raise ModelError(entity_type, str(error.instance_path[0]), error.message)
    # Errors about the entity as a whole (a required attribute, a oneOf): jsonschema
    # digs into the failed branches to name the attribute.
    slow = _first_error(validator, instance)
    if slow is not None:
        raise ModelError(entity_type, _attribute(slow), slow.message)
    raise ModelError(entity_type, "(entity)", next(iter(fast.iter_errors(instance))).message)


def _first_error(validator: Draft202012Validator, instance: dict) -> ValidationError | None:
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (len(e.absolute_path), e.message)
    )
    if not errors:
        return None
    error = errors[0]
    # oneOf/anyOf failures name the attribute in their context: take the deepest.
    while error.context and not error.absolute_path:
        error = min(error.context, key=lambda e: len(e.absolute_path))
    return error


def _attribute(error: ValidationError) -> str:
    if error.absolute_path:
        return str(error.absolute_path[0])
    if error.validator == "required":
        return error.message.split("'")[1] if "'" in error.message else "(entity)"
    return "(entity)"
