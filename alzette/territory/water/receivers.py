"""Ingest of water devices' messages (docs/water.md).

Connected to ``onem2m.events.instance_created``. District devices (``dmeter-*``
``flow``, ``pressure-*`` ``pressure``, ``quality-*`` ``quality``) update their
NGSI-LD entity after the checks the Smart Data Models do not make (a negative
flow, a pressure outside 0-16 bar, a pH outside 0-14...). Household meters
(``hmeter-<serial>`` ``index``) update the meter's last index and its district's
anonymous hourly total, then hand the reading to the personal side
(``signals.meter_reading``). Anything impossible is quarantined with its reason.
A contentInstance is applied once (``Reading`` keeps its resource id).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from alzette.core import metering
from alzette.territory.ngsild import entities, notifier, store
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.supervision import ingest
from alzette.territory.supervision.ingest import Message, Refused, observed_time
from alzette.territory.water import services, signals
from alzette.territory.water.models import Meter, Reading

logger = logging.getLogger(__name__)
DB = services.DB
ACTOR = "system:water"
#: More than a household can draw in an hour (5 m³): a meter fault or a replaced meter.
MAX_LITRES_PER_HOUR = 5000
#: A district meter's flow cannot be larger than this (L/h): a fault.
MAX_FLOW = 1_000_000
PRESSURE_RANGE = (0.0, 16.0)
QUALITY_RANGES: dict[str, tuple[float, float]] = {
    "pH": (0.0, 14.0),
    "temperature": (-5.0, 60.0),
    "conductivity": (0.0, 10_000.0),
    "turbidity": (0.0, 4_000.0),
    "freeChlorine": (0.0, 10.0),
}
#: A gap longer than this shares its litres over its last week only (older days are judged).
MAX_SPREAD = timedelta(days=7)
#: How long the ids of applied messages are kept (a replay later than that is unlikely).
KEEP_READINGS = timedelta(days=3)


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    ingest.dispatch(instance, container_path, HANDLERS)


def _number(content: dict, key: str, low: float, high: float, unit: str) -> float | None:
    return ingest.number(content, key, low=low, high=high, unit=unit)


def _applied_before(message: Message) -> bool:
    return Reading.objects.using(DB).filter(source_ri=message.ri).exists()


def _mark(message: Message) -> None:
    Reading.objects.using(DB).create(source_ri=message.ri, received_at=message.created)


def _write(message: Message, entity_id: str, attributes: dict[str, Any]) -> None:
    """Append the attributes to the device's entity (which the demo or an agent created)."""
    if store.get(services.TENANT, entity_id) is None:
        raise Refused(f"unknown device: no entity {entity_id}", "unknown_device")
    op = Op(tenant=services.TENANT, ctx=services.context(), actor=ACTOR)
    try:
        with transaction.atomic(using=DB):
            _mark(message)
            entities.append(op, entity_id, attributes)
    except IntegrityError:
        return
    except NgsiLdError as exc:
        raise Refused(f"the entity refused the reading: {getattr(exc, 'detail', exc)}",
                      "model") from None  # fmt: skip
    notifier.flush()


def _prop(number: float, at: datetime, unit: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": number, "observedAt": rep.iso(at)}
    if unit:
        out["unitCode"] = unit
    return out


def record_flow(message: Message) -> None:
    """``{"index": m³ cumulative, "flow": L/h, "t"}`` of a district inflow meter."""
    if _applied_before(message):
        return
    content = message.content
    if not isinstance(content, dict) or ("index" not in content and "flow" not in content):
        raise Refused("a flow reading is a JSON object with index and flow", "unreadable")
    index = _number(content, "index", 0, 1e12, "m³")
    flow = _number(content, "flow", 0, MAX_FLOW, "L/h")
    at = observed_time(message)
    slug = message.device.removeprefix("dmeter-")
    attributes: dict[str, Any] = {}
    if index is not None:
        attributes["waterConsumption"] = _prop(int(index), at, "MTQ")
        attributes["inflowIndex"] = _prop(round(index, 3), at, "MTQ")
    if flow is not None:
        attributes["flow"] = _prop(round(flow, 1), at, "E32")
    _write(message, services.inflow_id(slug), attributes)


def record_pressure(message: Message) -> None:
    """``{"bar": 3.4, "t"}`` of a district pressure sensor."""
    if _applied_before(message):
        return
    content = message.content
    if not isinstance(content, dict) or "bar" not in content:
        raise Refused("a pressure reading is a JSON object with bar", "unreadable")
    bar = _number(content, "bar", *PRESSURE_RANGE, "bar")
    at = observed_time(message)
    slug = message.device.removeprefix("pressure-")
    attributes = {"numValue": _prop(bar, at, "BAR"),
                  "dateObserved": {"type": "Property", "value": rep.iso(at)}}  # fmt: skip
    _write(message, services.pressure_id(slug), attributes)


def record_quality(message: Message) -> None:
    """``{"pH": 7.6, "temperature": 12.1, "conductivity": 540, "turbidity": 0.3,
    "freeChlorine": 0.2, "t"}`` of a district quality sensor (any of them)."""
    if _applied_before(message):
        return
    content = message.content
    if not isinstance(content, dict) or not any(k in content for k in QUALITY_RANGES):
        raise Refused("a quality reading is a JSON object with pH, temperature, "
                      "conductivity, turbidity or freeChlorine", "unreadable")  # fmt: skip
    values = {k: _number(content, k, low, high, services.QUALITY_UNITS.get(k, ""))
              for k, (low, high) in QUALITY_RANGES.items()}  # fmt: skip
    at = observed_time(message)
    units = {"temperature": "CEL", "conductivity": "H61", "turbidity": "NTU",
             "freeChlorine": "M1"}  # fmt: skip
    attributes = {k: _prop(v, at, units.get(k, "")) for k, v in values.items() if v is not None}
    slug = message.device.removeprefix("quality-")
    _write(message, services.quality_id(slug), attributes)


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def record_index(message: Message) -> Meter | None:
    """``{"index": litres cumulative, "t"}`` of a household meter, hourly."""
    if _applied_before(message):
        return None
    serial = message.device.removeprefix("hmeter-")
    content = message.content
    raw = content.get("index") if isinstance(content, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
        raise Refused("an index reading is a JSON object with an integer index (litres)",
                      "unreadable")  # fmt: skip
    index = int(raw)
    if index < 0:
        raise Refused(f"index {index} L is negative", "out_of_range")
    at = observed_time(message)
    try:
        with transaction.atomic(using=DB):
            meter = Meter.objects.using(DB).select_for_update().filter(serial=serial).first()
            if meter is None or meter.removed_on is not None:
                raise Refused(f"unknown household meter {serial[:40]}", "unknown_device")
            used = _use(meter, index, at)
            _mark(message)
            since, meter.last_index, meter.last_at = meter.last_at, index, at
            if used is not None:
                # Before _flag marks the hour: a meter counts once among the hour's meters.
                first_in_hour = not services.counted_in_hour(meter, at)
                _flag(meter, at, used)
                if meter.district_id is not None:
                    _add_hours(meter.district_id, since, at, used, first_in_hour)
            meter.save(using=DB)
    except IntegrityError:
        return None
    ingest.announce(signals.meter_reading, Meter, message.ri, meter=serial, at=at,
                    index_litres=index, source_ri=message.ri)  # fmt: skip
    return meter


def _use(meter: Meter, index: int, at: datetime) -> int | None:
    """Litres since the meter's last reading; None for its first reading or a late one."""
    if meter.last_index is None or meter.last_at is None:
        return None
    if at <= meter.last_at:
        if index > meter.last_index:
            raise Refused(f"index {index} L at {rep.iso(at)} is above the later index "
                          f"{meter.last_index} L", "out_of_range")  # fmt: skip
        return None  # an older reading: already counted between its neighbours
    used = index - meter.last_index
    if used < 0:
        raise Refused(f"index went backwards ({meter.last_index} L to {index} L)",
                      "out_of_range")  # fmt: skip
    hours = max((at - meter.last_at).total_seconds() / 3600.0, 1.0)
    if used > MAX_LITRES_PER_HOUR * hours:
        raise Refused(f"{used} L in {hours:g} h is more than a household can draw "
                      f"({MAX_LITRES_PER_HOUR} L/h)", "out_of_range")  # fmt: skip
    return used


def _flag(meter: Meter, at: datetime, used: int) -> None:
    """Keep the litres of the last hours (rolling) for the continuous-flow detector."""
    from alzette.territory.water import detection

    key = rep.iso(hour_of(at))
    hours = dict(meter.recent_hours or {})
    hours[key] = hours.get(key, 0) + used
    oldest = hour_of(at) - timedelta(hours=detection.window_hours() + 2)
    meter.recent_hours = {k: v for k, v in hours.items() if rep.parse_datetime(k, "t") >= oldest}


def _add_hours(district_id: int, since: datetime, at: datetime, used: int,
               first_in_hour: bool) -> None:  # fmt: skip
    """The district's hours get the litres since the meter's previous reading, shared
    over the hours a gap spans (not all in the last one: a false night peak); the meter
    counts among each gap hour's meters, since its litres are in them."""
    since = max(since, at - MAX_SPREAD)
    parts = metering.apportion(used, since, at, metering.next_hour,
                               lambda start, end: hour_of(end))  # fmt: skip
    last = hour_of(at)
    for hour, litres in sorted(parts.items()):
        new_meter = first_in_hour if hour == last else True
        services.add_hour_use(district_id, hour, litres, new_meter=new_meter)


def prune(now: datetime | None = None) -> int:
    """Forget the ids of messages applied long ago."""
    now = now or datetime.now(UTC)
    deleted, _ = Reading.objects.using(DB).filter(received_at__lt=now - KEEP_READINGS).delete()
    return deleted


HANDLERS = {
    ("dmeter", "flow"): record_flow,
    ("pressure", "pressure"): record_pressure,
    ("quality", "quality"): record_quality,
    ("hmeter", "index"): record_index,
}


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="water-ingest")
