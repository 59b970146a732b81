"""What streetlights write back: acknowledgements (``ack``) and reports (``state``).

Connected to ``onem2m.events.instance_created`` (after the lamp's transaction
committed). An acknowledgement names the command it answers; one that names no
command of this lamp, is unreadable, or is dated in the future is quarantined
with its reason, never silently dropped. The Streetlight entity itself is fed
from ``state`` by the lighting DeviceMappings; here only the lamp's
``LampState`` (what the command pages show) is updated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from alzette.territory.lighting.commands import services
from alzette.territory.lighting.commands.models import Command, LampState

DB = services.DB
FUTURE_TOLERANCE = timedelta(seconds=60)
RESULTS = ("ok", "refused", "error")
POWER_STATES = ("on", "off", "low", "bootingUp")


class Refused(Exception):
    def __init__(self, reason: str, kind: str = "other") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass
class Message:
    ri: str
    device: str
    container: str
    path: str
    content: Any
    created: datetime


def on_instance(sender: Any, instance: Any, container_path: str, **kwargs: Any) -> None:
    """Receiver of ``onem2m.events.instance_created``."""
    segments = container_path.strip("/").split("/")
    if len(segments) != 3:
        return
    _, device, container = segments
    if not device.startswith("streetlight-") or container not in ("ack", "state"):
        return
    message = Message(ri=instance.ri, device=device, container=container, path=container_path,
                      content=_parse(instance.attrs.get("con")), created=instance.ct)  # fmt: skip
    try:
        if container == "ack":
            record_ack(message)
        else:
            record_state(message)
    except Refused as exc:
        from alzette.territory.supervision.quarantine import quarantine

        quarantine(device=message.device, path=message.path, content=message.content,
                   reason=exc.reason, received_at=message.created, kind=exc.kind)  # fmt: skip


def _parse(content: Any) -> Any:
    if isinstance(content, str):
        try:
            return json.loads(content)
        except ValueError:
            return content
    return content


def observed_time(message: Message) -> datetime:
    content = message.content
    raw = content.get("t") if isinstance(content, dict) else None
    if raw is None:
        return message.created
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"unreadable time {raw!r}", "invalid_time") from None
    if moment.tzinfo is None:
        raise Refused(f"time {raw!r} has no time zone", "invalid_time")
    if moment > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise Refused(f"time {raw} is in the future", "future_time")
    return moment


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


def _number(content: dict, name: str, low: float, high: float) -> float | None:
    value = content.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise Refused(f"{name} {value!r} is out of range ({low:g}-{high:g})", "out_of_range")
    return float(value)


def record_state(message: Message) -> LampState:
    content = message.content
    if not isinstance(content, dict):
        raise Refused("a lamp's state is a JSON object", "unreadable")
    at = observed_time(message)
    level = _number(content, "illuminanceLevel", 0.0, 1.0)
    power = _number(content, "powerConsumption", 0.0, 10_000.0)
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


def connect() -> None:
    from alzette.territory.onem2m import events

    events.instance_created.connect(on_instance, dispatch_uid="lighting-commands-ingest")
