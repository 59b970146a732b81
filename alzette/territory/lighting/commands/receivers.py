"""What streetlights write back: acknowledgements (``ack``) and reports (``state``).

Connected to ``onem2m.events.instance_created`` (after the lamp's transaction
committed). An acknowledgement names the command it answers; one that names no
command of this lamp, is unreadable, or is dated in the future is quarantined
with its reason, never silently dropped. The Streetlight entity itself is fed
from ``state`` by the lighting DeviceMappings; here only the lamp's
``LampState`` (what the command pages show) is updated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from alzette.territory.lighting.commands import services
from alzette.territory.lighting.commands.models import Command, LampState
from alzette.territory.supervision import ingest
from alzette.territory.supervision.ingest import Message, Refused, observed_time

DB = services.DB
RESULTS = ("ok", "refused", "error")
POWER_STATES = ("on", "off", "low", "bootingUp")


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    ingest.dispatch(instance, container_path, HANDLERS)


def _lamp_id(device: str) -> str:
    return services.LAMP_PREFIX + device


def _seen(device: str, at: datetime) -> LampState:
    lamp_id = _lamp_id(device)
    row, _ = (
        LampState.objects.using(DB)
        .select_for_update()
        .get_or_create(
            lamp_id=lamp_id, defaults={"ae": device, "commune": services.commune_of(lamp_id)}
        )
    )
    if row.last_seen is None or at > row.last_seen:
        row.last_seen = at
    return row


def record_ack(message: Message) -> Command | None:
    content = message.content
    if not isinstance(content, dict):
        raise Refused("an acknowledgement is a JSON object", "unreadable")
    command_id, result = content.get("id"), content.get("result")
    if not isinstance(command_id, str) or result not in RESULTS:
        raise Refused('an acknowledgement has an "id" and a "result" (ok, refused, error)',
                      "unreadable")  # fmt: skip
    at = observed_time(message)
    command = Command.objects.using(DB).filter(pk=command_id[:32], ae=message.device).first()
    if command is None:
        raise Refused(f"no command {command_id[:40]!r} was sent to {message.device}",
                      "other")  # fmt: skip
    with transaction.atomic(using=DB):
        state = _seen(message.device, message.created)
        state.save(using=DB)
    if command.acked_at is not None or command.state == Command.State.ACKNOWLEDGED:
        return command  # a repeated acknowledgement changes nothing
    if result == "ok":
        services.acknowledge(command, at)
    elif command.state in (Command.State.SENT, Command.State.FAILED):
        reason = content.get("reason")
        detail = str(reason)[:400] if reason else f"the lamp answered {result}"
        services.fail(command, services.REFUSED if result == "refused" else services.DEVICE_ERROR,
                      detail)  # fmt: skip
    return command


def record_state(message: Message) -> LampState:
    content = message.content
    if not isinstance(content, dict):
        raise Refused("a lamp's state is a JSON object", "unreadable")
    at = observed_time(message)
    level = ingest.number(content, "illuminanceLevel", low=0.0, high=1.0)
    power = ingest.number(content, "powerConsumption", low=0.0, high=10_000.0, unit="W")
    power_state = content.get("powerState")
    if power_state is not None and power_state not in POWER_STATES:
        raise Refused(f"powerState {str(power_state)[:40]!r} is unknown", "out_of_range")
    status = content.get("status")
    if status is not None and (not isinstance(status, str) or len(status) > 40):
        raise Refused("status is a short text", "unreadable")
    with transaction.atomic(using=DB):
        state = _seen(message.device, message.created)
        if state.reported_at is None or at >= state.reported_at:
            state.reported_at = at
            if level is not None:
                state.illuminance_level = level
            if power is not None:
                state.power_consumption = power
            if power_state is not None:
                state.power_state = power_state
            if status is not None:
                state.status = status
        state.save(using=DB)
    return state


HANDLERS: dict[tuple[str, str], ingest.Handler] = {
    ("streetlight", "ack"): record_ack,
    ("streetlight", "state"): record_state,
}


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="lighting-commands-ingest")
