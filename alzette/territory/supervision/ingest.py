"""Device messages as the territory's contexts read them: one way to route, parse,
date and refuse a oneM2M contentInstance.

Several contexts listen to ``onem2m.events.instance_created`` (waste lifts, water
meters, streetlight acknowledgements, energy and faults). Each used to repeat the
same steps; they live here so that every context applies the same rules:

- ``dispatch`` routes a container path ``<cse>/<device>/<container>`` to the handler
  registered for (device kind, container), the device kind being the AE name up to
  its first ``-`` (``streetlight-57038-001`` is a ``streetlight``);
- ``Message.content`` is the parsed JSON, or the raw content when it is not JSON;
- ``observed_time``: ``t`` in the content (ISO 8601 with an offset), else the
  contentInstance's creation; a time without an offset, unreadable, or more than
  ``FUTURE_TOLERANCE`` after the message arrived is refused;
- a handler refuses a message by raising ``Refused(reason, kind)``: the message is
  quarantined (``supervision.quarantine``) with its reason, never silently dropped.
  The quarantine is keyed by the contentInstance: when several contexts refuse the
  same message, agents see one entry with every reason (docs/supervision.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)
#: A device clock a little ahead of ours is tolerated.
FUTURE_TOLERANCE = timedelta(seconds=60)


class Refused(Exception):
    """A device message that cannot be applied; ``kind`` is a quarantine kind."""

    def __init__(self, reason: str, kind: str = "other") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class Message:
    """A contentInstance as a context reads it."""

    ri: str  # the contentInstance's resource id: applying it twice changes nothing
    device: str  # the AE's resource name, "streetlight-57038-001"
    path: str  # the container path, "alzette/streetlight-57038-001/state"
    content: Any  # parsed JSON, or the raw content when it is not JSON
    created: datetime  # when the platform received it

    @property
    def container(self) -> str:
        """The container's resource name: "state", "ack", "index"..."""
        return self.path.strip("/").rsplit("/", 1)[-1]

    @property
    def kind(self) -> str:
        """The device kind: its name up to the first ``-``."""
        return self.device.split("-", 1)[0]


Handler = Callable[[Message], Any]


def message(instance: Any, container_path: str) -> Message | None:
    """The message of a contentInstance posted to ``<cse>/<device>/<container>``."""
    segments = container_path.strip("/").split("/")
    if len(segments) != 3:
        return None
    return Message(ri=instance.ri, device=segments[1], path=container_path,
                   content=parse(instance.attrs.get("con")), created=instance.ct)  # fmt: skip


def dispatch(instance: Any, container_path: str,
             handlers: Mapping[tuple[str, str], Handler]) -> Any:  # fmt: skip
    """Apply the handler of (device kind, container); quarantine what it refuses."""
    found = message(instance, container_path)
    if found is None:
        return None
    handle = handlers.get((found.kind, found.container))
    if handle is None:
        return None
    try:
        return handle(found)
    except Refused as exc:
        quarantine(found, exc)
        return None


def parse(content: Any) -> Any:
    """JSON text parsed; anything else as it came."""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    if isinstance(content, str):
        try:
            return json.loads(content)
        except ValueError:
            return content
    return content


def observed_time(found: Message) -> datetime:
    """``t`` in the content, else the contentInstance's creation (UTC)."""
    content = found.content
    raw = content.get("t") if isinstance(content, dict) else None
    return observation_time(raw, found.created)


def observation_time(raw: Any, received: datetime) -> datetime:
    """A device's ``t``: ISO 8601 with an offset, not after ``received`` + tolerance."""
    if raw is None or raw == "":
        return received.astimezone(UTC)
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"unreadable observation time {str(raw)[:64]!r}", "invalid_time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        # Local time without an offset is ambiguous twice a year: refused, not guessed.
        raise Refused(f"observation time {str(raw)[:64]!r} has no time zone", "invalid_time")
    if moment - received > FUTURE_TOLERANCE:
        seconds = int((moment - received).total_seconds())
        raise Refused(f"observation time {raw} is in the future ({seconds} s after the "
                      f"message arrived)", "future_time")  # fmt: skip
    return moment.astimezone(UTC)


def number(content: Mapping[str, Any], key: str, *, low: float | None = None,
           high: float | None = None, unit: str = "") -> float | None:  # fmt: skip
    """``content[key]`` as a float within [low, high]; None when absent."""
    raw = content.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise Refused(f"{key} {str(raw)[:32]!r} is not a number", "unreadable")
    if (low is not None and raw < low) or (high is not None and raw > high):
        unit = f" {unit}" if unit else ""
        raise Refused(f"{key} = {raw}{unit} is out of range ({_bound(low)} to {_bound(high)})",
                      "out_of_range")  # fmt: skip
    return float(raw)


def _bound(value: float | None) -> str:
    return "…" if value is None else f"{value:g}"


def announce(signal: Any, sender: type, about: str, **kwargs: Any) -> None:
    """Send a signal to the other repository's receivers after the message was applied:
    their failure is logged, never undoes what was applied (nor quarantines it)."""
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error("receiver %r of %s failed on %s: %r", receiver, sender.__name__,
                         about, result)  # fmt: skip


def quarantine(found: Message, exc: Refused) -> None:
    """Keep a refused message with its reason (one entry per contentInstance)."""
    from alzette.territory.supervision.quarantine import quarantine as keep

    keep(device=found.device, path=found.path, content=found.content, reason=exc.reason,
         received_at=found.created, kind=exc.kind, source=found.ri)  # fmt: skip
