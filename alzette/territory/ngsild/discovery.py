"""Type and attribute discovery (CIM 009 §5.7.5-§5.7.10): /types and /attributes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from alzette.territory.ngsild.errors import not_found
from alzette.territory.ngsild.jsonld import Context
from alzette.territory.ngsild.models import AttributeIndex, EntityType

DB = "territory"


def _type_attributes(tenant: str) -> dict[str, dict[str, set[str]]]:
    """type IRI -> attribute IRI -> attribute types."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    types = EntityType.objects.using(DB).filter(tenant=tenant)
    for type_iri in types.values_list("type_iri", flat=True).distinct():
        out[type_iri]
    pairs = (
        AttributeIndex.objects.using(DB)
        .filter(entity__tenant=tenant, entity__type_rows__tenant=tenant)
        .values_list("entity__type_rows__type_iri", "attribute", "kind")
        .distinct()
    )
    for type_iri, attribute, kind in pairs:
        out[type_iri][attribute].add(kind)
    return out


def types(tenant: str, ctx: Context, *, details: bool) -> Any:
    found = _type_attributes(tenant)
    if not details:
        return {
            "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
            "type": "EntityTypeList",
            "typeList": sorted(ctx.compact(t) for t in found),
        }
    return [
        {
            "id": type_iri,
            "type": "EntityType",
            "typeName": ctx.compact(type_iri),
            "attributeNames": sorted(ctx.compact(a) for a in attributes),
        }
        for type_iri, attributes in sorted(found.items())
    ]


def type_info(tenant: str, ctx: Context, name: str) -> dict[str, Any]:
    iri = ctx.expand(name)
    count = EntityType.objects.using(DB).filter(tenant=tenant, type_iri=iri).count()
    if not count:
        raise not_found(f"no entity of type {name}")
    attributes = _type_attributes(tenant).get(iri, {})
    return {
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": ctx.compact(iri),
        "entityCount": count,
        "attributeDetails": [
            {
                "id": a,
                "type": "Attribute",
                "attributeName": ctx.compact(a),
                "attributeTypes": sorted(kinds),
            }
            for a, kinds in sorted(attributes.items())
        ],
    }


def _attributes(tenant: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for type_iri, attributes in _type_attributes(tenant).items():
        for attribute, kinds in attributes.items():
            entry = out.setdefault(attribute, {"kinds": set(), "types": set()})
            entry["kinds"] |= kinds
            entry["types"].add(type_iri)
    return out


def _count(tenant: str, attribute: str) -> int:
    rows = AttributeIndex.objects.using(DB).filter(entity__tenant=tenant, attribute=attribute)
    return rows.values("entity_id").distinct().count()


def _attribute(tenant: str, ctx: Context, iri: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": iri,
        "type": "Attribute",
        "attributeName": ctx.compact(iri),
        "attributeCount": _count(tenant, iri),
        "attributeTypes": sorted(entry["kinds"]),
        "typeNames": sorted(ctx.compact(t) for t in entry["types"]),
    }


def attributes(tenant: str, ctx: Context, *, details: bool) -> Any:
    found = _attributes(tenant)
    if not details:
        return {
            "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
            "type": "AttributeList",
            "attributeList": sorted(ctx.compact(a) for a in found),
        }
    return [_attribute(tenant, ctx, iri, entry) for iri, entry in sorted(found.items())]


def attribute_info(tenant: str, ctx: Context, name: str) -> dict[str, Any]:
    iri = ctx.expand(name)
    entry = _attributes(tenant).get(iri)
    if entry is None:
        raise not_found(f"no attribute {name}")
    return _attribute(tenant, ctx, iri, entry)
