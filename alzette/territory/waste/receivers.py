"""Ingest of waste devices' messages: truck lifts and drop-point openings.

Connected to ``onem2m.events.instance_created`` (after the device's transaction
committed). Fill levels are not handled here: a ``DeviceMapping`` turns them into
the containers' ``fillingLevel`` (``demo.ensure_mappings``). A message this code
cannot apply (an unknown RFID tag, a negative weight, a time in the future, an
unreadable content) is quarantined with its reason, never silently dropped. A
contentInstance is applied once: its resource id is unique in ``Lift`` and
``Opening``, so a replayed message changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from alzette.territory.ngsild import entities, notifier, store
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.ngsild.models import AttributeIndex, Entity
from alzette.territory.supervision import ingest
from alzette.territory.supervision.ingest import Message, Refused, observed_time
from alzette.territory.waste import services, signals
from alzette.territory.waste.models import Lift, Opening

logger = logging.getLogger(__name__)
DB = services.DB
ACTOR = "system:waste"
#: Heavier than any household bin with its contents: a reader or scale fault.
MAX_WEIGHT_KG = 500.0
OBSERVED_PREFIX = "urn:ngsi-ld:WasteObserved:"


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    ingest.dispatch(instance, container_path, HANDLERS)


# --- Lifts ---------------------------------------------------------------------------------


def record_lift(message: Message) -> Lift | None:
    """A truck lifted a bin: store the lift, empty the bin, add the weight to the
    commune's day, then tell the personal side (``signals.lift_recorded``)."""
    if Lift.objects.using(DB).filter(source_ri=message.ri).exists():
        return None
    content = message.content
    if not isinstance(content, dict) or not isinstance(content.get("tag"), str):
        raise Refused("a lift is a JSON object with a tag", "unreadable")
    weight = ingest.number(content, "weight", low=0, high=MAX_WEIGHT_KG, unit="kg")
    lifted_at = observed_time(message)
    row = bin_by_tag(content["tag"])
    if row is None:
        raise Refused(f"unknown RFID tag {content['tag'][:64]!r}", "unknown_device")
    view = services.view_of(row)
    try:
        with transaction.atomic(using=DB):
            lift = Lift.objects.using(DB).create(
                bin_id=row.entity_id, lifted_at=lifted_at, weight_kg=weight,
                truck=message.device, source_ri=message.ri,
            )  # fmt: skip
            _empty(row, lifted_at)
            if view is not None:
                _observe(view, lifted_at, weight, message.device)
    except IntegrityError:  # the same message, applied by another process meanwhile
        return None
    except NgsiLdError as exc:
        raise Refused(f"the bin's entity refused the lift: {exc}", "model") from None
    notifier.flush()
    ingest.announce(signals.lift_recorded, Lift, f"lift {lift.pk}", bin_id=lift.bin_id,
                    lifted_at=lift.lifted_at, weight_kg=lift.weight_kg,
                    lift_id=lift.pk)  # fmt: skip
    return lift


def bin_by_tag(tag: str) -> Entity | None:
    """The WasteContainer whose RFID attribute is ``tag`` (through the value index)."""
    if not tag or len(tag) > 255:
        return None
    hits = AttributeIndex.objects.using(DB).filter(
        attribute__in=services.iris("RFID"), text=tag, entity__in=services.container_rows()
    )
    entity_pk = hits.values_list("entity_id", flat=True).first()
    return Entity.objects.using(DB).get(pk=entity_pk) if entity_pk else None


def _empty(row: Entity, at: datetime) -> None:
    """fillingLevel 0 and dateLastEmptying, unless the lift is older than what the
    entity already knows (a late message must not hide a newer fill reading)."""
    level = rep.default_instance(row.body, "fillingLevel", ctx=services.context())
    current = services.parse_moment(level.get("observedAt")) if level else None
    emptied = services.parse_moment(services.attribute_value(row.body, "dateLastEmptying"))
    stamp = rep.iso(at)
    attributes: dict[str, Any] = {}
    if current is None or at >= current:
        attributes["fillingLevel"] = {"type": "Property", "value": 0.0, "unitCode": "P1",
                                      "observedAt": stamp}  # fmt: skip
    if emptied is None or at > emptied:
        attributes["dateLastEmptying"] = {"type": "Property", "value": stamp}
    if attributes:
        op = Op(tenant=services.TENANT, ctx=services.context(), actor=ACTOR)
        entities.append(op, row.entity_id, attributes)


def observed_id(commune: str, waste_kind: str, day: datetime) -> str:
    return f"{OBSERVED_PREFIX}{commune or 'none'}-{waste_kind or 'other'}-{day:%Y%m%d}"


def _observe(view: services.ContainerView, at: datetime, weight: float | None, truck: str) -> None:
    """Add a lift's weight to its commune's WasteObserved of the (local) day."""
    day = timezone.localtime(at).replace(hour=0, minute=0, second=0, microsecond=0)
    eid = observed_id(view.commune, view.waste_kind, day)
    op = Op(tenant=services.TENANT, ctx=services.context(), actor=ACTOR)
    row = store.get(services.TENANT, eid, lock=True)
    if row is None:
        try:
            entities.create(op, {
                "id": eid,
                "type": "WasteObserved",
                "name": {"type": "Property", "value": f"{view.commune} {view.waste_kind} {day:%F}"},
                "dateObserved": {"type": "Property", "value": rep.iso(day)},
                "weight": {"type": "Property", "value": round(weight or 0.0, 3), "unitCode": "KGM"},
                "location": {"type": "GeoProperty", "value": _centroid(view)},
            })  # fmt: skip
            return
        except (IntegrityError, NgsiLdError) as exc:
            # Another lift of the same commune and day created it meanwhile: add to it.
            if isinstance(exc, NgsiLdError) and exc.kind != "AlreadyExists":
                raise
            row = store.get(services.TENANT, eid, lock=True)
    if weight:
        total = float(services.attribute_value(row.body, "weight") or 0.0) + weight
        weight_attribute = {"type": "Property", "value": round(total, 3), "unitCode": "KGM",
                            "observedAt": rep.iso(at)}  # fmt: skip
        entities.append(op, eid, {"weight": weight_attribute})


def _centroid(view: services.ContainerView) -> dict[str, Any]:
    """Where a commune's collection is placed: the commune's representative point."""
    from alzette.core import spatial
    from alzette.territory.geo.models import TerritorialUnit

    unit = TerritorialUnit.objects.using(DB).filter(code=view.commune).first()
    if unit is None:
        return {"type": "Point", "coordinates": [view.lon, view.lat]}
    inner = spatial.parse_geometry(unit.geometry).representative_point()
    return {"type": "Point", "coordinates": [round(inner.x, 5), round(inner.y, 5)]}


# --- Drop-point openings ------------------------------------------------------------------


def record_opening(message: Message) -> Opening | None:
    """A badge opened a drop-point column: keep the anonymous opening, hand the badge
    to the personal side (``signals.badge_opening``)."""
    if Opening.objects.using(DB).filter(source_ri=message.ri).exists():
        return None
    content = message.content
    badge = content.get("badge") if isinstance(content, dict) else None
    if not isinstance(badge, str) or not badge or len(badge) > 100:
        raise Refused("an opening is a JSON object with a badge", "unreadable")
    opened_at = observed_time(message)
    container_id = services.entity_id(message.device)
    if store.get(services.TENANT, container_id) is None:
        raise Refused(f"no WasteContainer {message.device}", "unknown_device")
    try:
        with transaction.atomic(using=DB):
            opening = Opening.objects.using(DB).create(
                container_id=container_id, opened_at=opened_at, source_ri=message.ri
            )
    except IntegrityError:
        return None
    ingest.announce(signals.badge_opening, Opening, message.ri, container_id=container_id,
                    badge=badge, opened_at=opened_at)  # fmt: skip
    return opening


HANDLERS: dict[tuple[str, str], ingest.Handler] = {
    ("truck", "lifts"): record_lift,
    ("pav", "openings"): record_opening,
}


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="waste-ingest")
