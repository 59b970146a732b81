"""Faults in the lighting devices' oneM2M reports: alerts and repairs.

Connected to ``onem2m.events.instance_created`` (after the device's transaction
committed), like the waste ingest. A lamp's ``state`` report and a cabinet's
``meter`` report are read here whole; the ``DeviceMapping`` feeds the entities
separately. Reading the raw report (not an NGSI-LD change hook) because a
cabinet's ``fault`` is not an attribute of the Smart Data Models cabinet, and the
lamp-out test needs the report's own time and its three values together.

- lamp ``status`` other than ``ok`` (defectiveLamp, columnIssue, brokenLantern):
  a ``lighting.lamp-fault`` alert and the lamp's repair;
- lamp ``powerState`` "on" at a level above 0 drawing 0 W after dark: "lampOut";
- cabinet ``fault`` (breaker-tripped, door-open, meter-error, ...): a
  ``lighting.cabinet-fault`` alert and the cabinet's repair;
- a report without a fault closes the asset's open alert.

A report that cannot be read (not JSON, an unknown status, an unknown device) is
quarantined with its reason, never silently dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from alzette.territory.lighting.repairs import services
from alzette.territory.supervision import ingest
from alzette.territory.supervision.ingest import Message, Refused

logger = logging.getLogger(__name__)
STATUSES = ("ok", *services.LAMP_FAULTS)


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="lighting-repairs-faults")


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    ingest.dispatch(instance, container_path, HANDLERS)


def lamp_fault(content: dict[str, Any], moment: datetime) -> str | None:
    """The lamp's fault in a report, None when it reports none."""
    from alzette.territory.lighting import sun

    status = content.get("status", "ok")
    if status not in STATUSES:
        raise Refused(f"unknown lamp status {status!r}", "model")
    if status != "ok":
        return str(status)
    level, power = content.get("illuminanceLevel"), content.get("powerConsumption")
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (level, power))
    # "low" is a lit state too (the model's enum: bootingUp, low, off, on).
    lit = content.get("powerState") in ("on", "low") and numbers and level > 0
    if lit and power == 0 and sun.is_dark(moment):
        return services.LAMP_OUT
    return None


def lamp_report(message: Message) -> None:
    content = message.content
    if not isinstance(content, dict):
        raise Refused("a lamp's state is a JSON object", "unreadable")
    moment = ingest.observed_time(message)
    fault = lamp_fault(content, moment)
    entity = services.entity_id(message.device)
    found = services.asset(entity)
    if found is None:
        raise Refused(f"no Streetlight entity {entity}", "unknown_device")
    if fault == services.LAMP_OUT and services.cabinet_down(found.cabinet):
        return  # its cabinet is down: the cabinet's alert and repair cover it
    if fault:
        services.device_fault(entity, fault, at=moment, value=fault)
    else:
        services.device_ok(entity)


def cabinet_report(message: Message) -> None:
    content = message.content
    if not isinstance(content, dict):
        raise Refused("a cabinet's meter report is a JSON object", "unreadable")
    moment = ingest.observed_time(message)
    fault = content.get("fault")
    if fault is not None and (not isinstance(fault, str) or not fault.strip()):
        raise Refused(f"unreadable cabinet fault {fault!r}", "model")
    entity = services.entity_id(message.device)
    if services.asset(entity) is None:
        raise Refused(f"no StreetlightControlCabinet entity {entity}", "unknown_device")
    if fault:
        services.device_fault(entity, fault.strip()[:40], at=moment, value=fault)
    else:
        services.device_ok(entity)


HANDLERS: dict[tuple[str, str], ingest.Handler] = {
    ("streetlight", "state"): lamp_report,
    ("cabinet", "meter"): cabinet_report,
}
