"""Ingest of the lamps' ``state`` reports and the cabinets' ``meter`` readings.

Connected to ``onem2m.events.instance_created`` (after the device's transaction
committed), beside the NGSI-LD mapping that keeps the entities current. A reading is
applied once (its contentInstance id is unique); a second report of the same lamp
for the same instant is a duplicate and changes nothing. Impossible values (negative
power, power above ``MAX_RATING_FACTOR`` x the lamp's powerRating, a time in the
future, an unreadable content, an unknown lamp) are quarantined with their reason,
never silently dropped. Each reading recomputes the nights it touches, so readings
arriving out of order give the same figures as in order.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from alzette.territory.lighting.energy import services
from alzette.territory.lighting.energy.models import CabinetReading, LampReading
from alzette.territory.supervision import ingest
from alzette.territory.supervision.ingest import Message, Refused, observed_time

logger = logging.getLogger(__name__)
DB = services.DB
POWER_STATES = {"on", "off", "low", "bootingUp"}


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    ingest.dispatch(instance, container_path, HANDLERS)


def _number(raw: Any, name: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise Refused(f"{name} {str(raw)[:32]!r} is not a number", "unreadable")
    return float(raw)


# --- Lamps -----------------------------------------------------------------------------------


def record_state(message: Message) -> LampReading | None:
    """Keep a lamp's report and recompute the nights it touches."""
    rows = LampReading.objects.using(DB)
    if rows.filter(source_ri=message.ri).exists():
        return None
    content = message.content
    if not isinstance(content, dict):
        raise Refused("a lamp state is a JSON object", "unreadable")
    commune = services.commune_of(message.device)
    if not commune:
        raise Refused(f"{message.device[:64]} is not named streetlight-<INSEE>-<n>",
                      "unknown_device")  # fmt: skip
    at = observed_time(message)
    state = content.get("powerState")
    if state is not None and state not in POWER_STATES:
        raise Refused(f"powerState {str(state)[:32]!r} is not one of on, off, low, bootingUp",
                      "model")  # fmt: skip
    level = ingest.number(content, "illuminanceLevel", low=0, high=1)
    entity_id = services.lamp_id(message.device)
    found = services.lamp(entity_id)
    if found is None:
        raise Refused(f"no Streetlight entity {message.device[:64]}", "unknown_device")
    raw = content.get("powerConsumption")
    if raw is None and state == "off":
        raw = 0.0
    if raw is None:
        return None  # powerConsumption is optional in the model: not an energy reading
    power = _number(raw, "powerConsumption")
    if power < 0:
        raise Refused(f"powerConsumption {power} W is negative", "out_of_range")
    ceiling = (found.rating_w * services.MAX_RATING_FACTOR if found.rating_w
               else services.MAX_POWER_W)  # fmt: skip
    if power > ceiling:
        factor = services.MAX_RATING_FACTOR
        raise Refused(f"powerConsumption {power} W is above {ceiling:.0f} W "
                      f"({factor:.0f} x the rated power)", "out_of_range")  # fmt: skip
    same = rows.filter(lamp_id=entity_id, at=at).first()
    if same is not None:
        if same.power_w == power:
            return None  # the same report again (a retry under a new id)
        raise Refused(f"a different report of this lamp for {at.isoformat()} was already "
                      f"applied ({same.power_w} W)", "other")  # fmt: skip
    try:
        with transaction.atomic(using=DB):
            reading = rows.create(
                lamp_id=entity_id, commune=commune, at=at, power_w=power, level=level,
                power_state=str(state or "")[:12], status=str(content.get("status") or "")[:20],
                night=services.night_of(at), source_ri=message.ri,
            )  # fmt: skip
            for night in sorted(services.nights_touched(at)):
                services.recompute_lamp_night(entity_id, night, found=found)
    except IntegrityError:  # applied by another process meanwhile
        return None
    return reading


# --- Cabinets --------------------------------------------------------------------------------


def record_meter(message: Message) -> CabinetReading | None:
    """Keep a cabinet's meter index and recompute the nights it touches."""
    rows = CabinetReading.objects.using(DB)
    if rows.filter(source_ri=message.ri).exists():
        return None
    content = message.content
    if not isinstance(content, dict):
        raise Refused("a cabinet meter reading is a JSON object", "unreadable")
    commune = services.commune_of(message.device)
    if not commune:
        raise Refused(f"{message.device[:64]} is not named cabinet-<INSEE>-<n>",
                      "unknown_device")  # fmt: skip
    if content.get("energyConsumed") is None:
        return None  # a fault or power-only report (docs/lighting-repairs.md): no index
    index = _number(content.get("energyConsumed"), "energyConsumed")
    if index < 0:
        raise Refused(f"energyConsumed {index} kWh is negative", "out_of_range")
    at = observed_time(message)
    entity_id = services.cabinet_id(message.device)
    if rows.filter(cabinet_id=entity_id, at=at).exists():
        return None
    try:
        with transaction.atomic(using=DB):
            reading = rows.create(cabinet_id=entity_id, commune=commune, at=at,
                                  energy_kwh=index, night=services.night_of(at),
                                  source_ri=message.ri)  # fmt: skip
            # The next reading's step now starts here: its night changes too.
            following = rows.filter(cabinet_id=entity_id, at__gt=at).order_by("at").first()
            nights = {reading.night} | ({following.night} if following else set())
            for night in sorted(nights):
                services.recompute_cabinet_night(entity_id, night)
    except IntegrityError:
        return None
    return reading


HANDLERS: dict[tuple[str, str], ingest.Handler] = {
    ("streetlight", "state"): record_state,
    ("cabinet", "meter"): record_meter,
}


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="lighting-energy-ingest")
