"""From devices to context: oneM2M contentInstances become entity attributes.

A ``DeviceMapping`` names a container path pattern and the entity, attribute
and unit its contentInstances feed. When a contentInstance is created (the
``instance_created`` event, after the device's transaction committed), the
entity is created or its attribute updated at once, with ``observedAt`` from
the contentInstance, so NGSI-LD subscribers are notified. The attribute's
history is not copied: the temporal API reads the container's instances
(``MappedSource``, docs/ngsi-ld.md).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
from datetime import UTC
from typing import Any

from django.db import transaction

from alzette.territory.ngsild import entities, jsonld, ldcontexts, notifier, store
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError, bad_data
from alzette.territory.ngsild.models import DeviceMapping, MappedSource

logger = logging.getLogger(__name__)
DB = store.DB


def match(pattern: str, container_path: str) -> list[str] | None:
    """The segments ``*`` matched, or None when the path does not fit the pattern."""
    want = pattern.strip("/").split("/")
    have = container_path.strip("/").split("/")
    if len(want) != len(have):
        return None
    wild = []
    for w, h in zip(want, have, strict=True):
        if not fnmatch.fnmatchcase(h, w):
            return None
        if any(c in w for c in "*?["):
            wild.append(h)
    return wild


def entity_id_for(mapping: DeviceMapping, container_path: str, wild: list[str]) -> str:
    segments = container_path.strip("/").split("/")
    names = {"ae": segments[1] if len(segments) > 1 else "", "container": segments[-1]}
    try:
        entity_id = mapping.entity_id.format(*wild, **names)
    except (IndexError, KeyError, ValueError) as exc:
        raise bad_data(f"mapping {mapping.name}: entity id template: {exc}") from None
    return rep.check_entity_id(entity_id)


def value_of(mapping: DeviceMapping, content: Any) -> Any:
    """The attribute value in a content: JSON is parsed, ``value_path`` picks a member."""
    value = content
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    for key in [k for k in mapping.value_path.split(".") if k]:
        if not isinstance(value, dict) or key not in value:
            raise bad_data(f"mapping {mapping.name}: the content has no {mapping.value_path}")
        value = value[key]
    return value


def instance_of(mapping: DeviceMapping, resource: Any) -> dict[str, Any] | None:
    """The attribute instance a contentInstance row stands for (None if unreadable)."""
    try:
        value = value_of(mapping, resource.attrs.get("con"))
    except NgsiLdError:
        return None
    instance: dict[str, Any] = {"type": "Property", "value": value,
                                "observedAt": rep.iso(resource.ct.astimezone(UTC))}  # fmt: skip
    if mapping.unit_code:
        instance["unitCode"] = mapping.unit_code
    return instance


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    for mapping in DeviceMapping.objects.using(DB).filter(enabled=True):
        wild = match(mapping.container, container_path)
        if wild is None:
            continue
        try:
            apply(mapping, instance, container_path, wild)
        except NgsiLdError as exc:
            logger.warning("oneM2M %s not mapped by %s: %s", instance.ri, mapping.name, exc)
    notifier.flush()


def apply(mapping: DeviceMapping, resource: Any, container_path: str, wild: list[str]) -> str:
    """Create or update the mapped entity's attribute from one contentInstance."""
    ctx = jsonld.resolve(mapping.context, ldcontexts.lookup)
    entity_id = entity_id_for(mapping, container_path, wild)
    attribute = instance_of(mapping, resource)
    if attribute is None:
        raise bad_data(f"contentInstance {resource.ri} has no usable value")
    iri = ctx.expand(mapping.attribute)
    op = Op(tenant=mapping.tenant, ctx=ctx, actor="system:onem2m", no_history=frozenset({iri}))
    with transaction.atomic(using=DB):
        MappedSource.objects.using(DB).update_or_create(
            tenant=mapping.tenant, entity_id=entity_id, attribute=iri,
            defaults={"container_ri": resource.pi, "mapping": mapping},
        )  # fmt: skip
        if store.get(mapping.tenant, entity_id) is None:
            payload = {"id": entity_id, "type": mapping.entity_type, mapping.attribute: attribute}
            entities.create(op, payload)
        else:
            entities.append(op, entity_id, {mapping.attribute: attribute})
    return entity_id


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="ngsild-mapping")


def define(
    *,
    name: str,
    container: str,
    entity_type: str,
    entity_id: str,
    attribute: str,
    value_path: str = "",
    unit_code: str = "",
    context: Any = None,
    tenant: str = "",
) -> DeviceMapping:
    """Create or replace a mapping, checked (terms expand, the id template works)."""
    try:
        ctx = jsonld.resolve(context, ldcontexts.lookup)
        ctx.expand(rep.check_name(attribute))
        ctx.expand(rep.check_name(entity_type))
        if not container.strip("/") or "//" in container:
            raise bad_data("container is a path pattern such as alzette/Cbin-*/fill")
        stars = container.count("*")
        sample = entity_id.format(*(["x"] * stars), ae="ae", container="cnt")
        rep.check_entity_id(sample)
    except (NgsiLdError, IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"invalid mapping: {exc}") from None
    row, _ = DeviceMapping.objects.using(DB).update_or_create(
        name=name,
        defaults={"container": container.strip("/"), "entity_type": entity_type,
                  "entity_id": entity_id, "attribute": attribute, "value_path": value_path,
                  "unit_code": unit_code, "context": context, "tenant": tenant, "enabled": True},
    )  # fmt: skip
    return row
