"""From devices to context: oneM2M contentInstances become entity attributes.

A ``DeviceMapping`` names a container path pattern and the entity, attribute
and unit its contentInstances feed. When a contentInstance is created (the
``instance_created`` event, after the device's transaction committed), the
entity is created or its attribute updated at once, with ``observedAt`` from
the contentInstance, so NGSI-LD subscribers are notified. The attribute's
history is not copied: the temporal API reads the container's instances
(``MappedSource``, docs/ngsi-ld.md).

Impossible messages are quarantined (``supervision.quarantine``) with their
reason instead of reaching the context, and left out of the history the
temporal API reads: a value outside the bounds the entity's Smart Data Model
gives (a fillingLevel below 0 or above 1), an observation time ``t`` more than
60 s after the message arrived, an unreadable content, a device whose entity
does not exist and cannot be created (it would not follow its data model: a
WasteContainer without a location), or a value the model refuses otherwise.
A valid ``t`` in a JSON content is the instance's ``observedAt``
(docs/supervision.md).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import transaction

from alzette.territory.ngsild import entities, jsonld, ldcontexts, notifier, store
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError, bad_data
from alzette.territory.ngsild.models import DeviceMapping, MappedSource
from alzette.territory.smartdatamodels import validation

logger = logging.getLogger(__name__)
DB = store.DB


class Refused(Exception):
    """A device message the context will not take; ``kind`` is a quarantine kind."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


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
    """The attribute instance a contentInstance row stands for (None if unreadable
    or refused: quarantined messages never show in the history)."""
    try:
        return checked_instance(mapping, resource)
    except Refused:
        return None


def checked_instance(mapping: DeviceMapping, resource: Any) -> dict[str, Any]:
    """The attribute instance of a contentInstance, or ``Refused`` with the reason."""
    try:
        value = value_of(mapping, resource.attrs.get("con"))
    except NgsiLdError as exc:
        raise Refused("unreadable", exc.detail) from None
    received = resource.ct.astimezone(UTC)
    observed = observed_at(resource.attrs.get("con"), received)
    _check_bounds(mapping, value)
    instance: dict[str, Any] = {"type": "Property", "value": value,
                                "observedAt": rep.iso(observed)}  # fmt: skip
    if mapping.unit_code:
        instance["unitCode"] = mapping.unit_code
    return instance


def observed_at(content: Any, received: datetime) -> datetime:
    """The content's ``t`` when it has one, else ``received``: the same rule as every
    other ingest (``supervision.ingest.observation_time``: an offset is required, no
    more than 60 s after the message arrived)."""
    from alzette.territory.supervision import ingest

    content = ingest.parse(content)
    raw = content.get("t") if isinstance(content, dict) else None
    try:
        return ingest.observation_time(raw, received)
    except ingest.Refused as exc:
        raise Refused(exc.kind, exc.reason) from None


def _check_bounds(mapping: DeviceMapping, value: Any) -> None:
    """A number outside the minimum/maximum the Smart Data Model gives the attribute."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    low, high = limits(entities.local_name(mapping.entity_type), mapping.attribute)
    if (low is not None and value < low) or (high is not None and value > high):
        raise Refused(
            "out_of_range",
            f"{mapping.attribute} = {value} is outside [{_bound(low)}, {_bound(high)}], "
            f"the range of the Smart Data Model {entities.local_name(mapping.entity_type)}",
        )


def _bound(value: float | None) -> str:
    return "-inf" if value is None else f"{value:g}"


@cache
def limits(entity_type: str, attribute: str) -> tuple[float | None, float | None]:
    """(minimum, maximum) of a numeric attribute in a Smart Data Model's schema."""
    path = validation.DATA / f"{entity_type}.schema.json"
    if not validation.has_schema(entity_type) or not path.is_file():
        return None, None
    schema = json.loads(path.read_text())
    parts = [schema, *schema.get("allOf", []), *schema.get("anyOf", [])]
    for part in parts:
        found = part.get("properties", {}).get(attribute) if isinstance(part, dict) else None
        if isinstance(found, dict) and ("minimum" in found or "maximum" in found):
            return found.get("minimum"), found.get("maximum")
    return None, None


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    for mapping in DeviceMapping.objects.using(DB).filter(enabled=True):
        wild = match(mapping.container, container_path)
        if wild is None:
            continue
        try:
            apply(mapping, instance, container_path, wild)
        except Refused as exc:
            _quarantine(instance, container_path, exc.kind, exc.reason)
        except NgsiLdError as exc:
            logger.warning("oneM2M %s not mapped by %s: %s", instance.ri, mapping.name, exc)
            _quarantine(instance, container_path, "other", f"mapping {mapping.name}: {exc}")
    notifier.flush()


def _quarantine(resource: Any, container_path: str, kind: str, reason: str) -> None:
    from alzette.territory.supervision.quarantine import quarantine

    segments = container_path.strip("/").split("/")
    device = segments[1] if len(segments) > 1 else segments[0]
    quarantine(device=device, path=container_path, content=resource.attrs.get("con"),
               reason=reason, received_at=resource.ct, kind=kind, source=resource.ri)  # fmt: skip


def apply(mapping: DeviceMapping, resource: Any, container_path: str, wild: list[str]) -> str:
    """Create or update the mapped entity's attribute from one contentInstance.

    ``Refused`` when the message is impossible or the entity cannot take it."""
    ctx = jsonld.resolve(mapping.context, ldcontexts.lookup)
    entity_id = entity_id_for(mapping, container_path, wild)
    attribute = checked_instance(mapping, resource)
    iri = ctx.expand(mapping.attribute)
    op = Op(tenant=mapping.tenant, ctx=ctx, actor="system:onem2m", no_history=frozenset({iri}))
    with transaction.atomic(using=DB):
        MappedSource.objects.using(DB).update_or_create(
            tenant=mapping.tenant, entity_id=entity_id, attribute=iri,
            defaults={"container_ri": resource.pi, "mapping": mapping},
        )  # fmt: skip
        if store.get(mapping.tenant, entity_id) is None:
            payload = {"id": entity_id, "type": mapping.entity_type, mapping.attribute: attribute}
            try:
                entities.create(op, payload)
            except NgsiLdError as exc:
                raise Refused("unknown_device",
                              f"unknown device: no entity {entity_id}, and a new one would "
                              f"not follow its data model ({_detail(exc)})") from None  # fmt: skip
        else:
            try:
                entities.append(op, entity_id, {mapping.attribute: attribute})
            except NgsiLdError as exc:
                raise Refused("model", _detail(exc)) from None
    return entity_id


def _detail(exc: NgsiLdError) -> str:
    return str(getattr(exc, "detail", "") or exc)


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
