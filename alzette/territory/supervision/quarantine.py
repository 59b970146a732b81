"""Setting device messages aside: refused, kept with the reason, shown in supervision.

Any ingest code that refuses a device message calls ``quarantine``: the NGSI-LD
mapping (impossible values, future timestamps, unknown devices), the waste
app (an unknown RFID tag)... The message is never applied anywhere else.

A message is kept once: when several contexts refuse the same contentInstance
(``source``, its resource id), the first entry gains the other reasons.

The ledger gets one ``device.quarantined`` entry per device and hour at most:
a faulty sensor posting every minute would otherwise flood the public log with
entries that say nothing more than the first one (docs/supervision.md).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from alzette.territory.supervision.models import QuarantinedMessage

logger = logging.getLogger(__name__)
DB = "territory"
LEDGER_EVERY = timedelta(hours=1)

Kind = QuarantinedMessage.Kind
#: When several contexts refuse one message, the entry keeps the most fundamental kind:
#: an unknown device explains a missing field, not the other way round.
PRECEDENCE = (Kind.UNKNOWN_DEVICE, Kind.UNREADABLE, Kind.INVALID_TIME, Kind.FUTURE_TIME,
              Kind.MODEL, Kind.OUT_OF_RANGE, Kind.OTHER)  # fmt: skip


def quarantine(
    *,
    device: str,
    path: str,
    content: Any,
    reason: str,
    received_at: datetime | None = None,
    kind: str = Kind.OTHER,
    source: str = "",
) -> None:
    """Keep a refused device message with the reason it was refused."""
    received_at = received_at or datetime.now(UTC)
    if kind not in Kind.values:
        kind = Kind.OTHER
    with transaction.atomic(using=DB):
        rows = QuarantinedMessage.objects.using(DB)
        if source and _add_reason(rows, source[:255], reason, kind):
            return
        recent = rows.filter(device=device, received_at__gte=received_at - LEDGER_EVERY).exists()
        rows.create(
            device=device[:255], path=path[:1024], content=_jsonable(content),
            kind=kind, reason=reason[:500], received_at=received_at, source=source[:255],
        )  # fmt: skip
    logger.info("quarantined a message of %s (%s): %s", device, path, reason)
    if not recent:
        _record(device, kind, received_at)


def _add_reason(rows: Any, source: str, reason: str, kind: str) -> bool:
    """Add a reason to the entry of the same contentInstance; False when there is none."""
    kept = rows.select_for_update().filter(source=source).first()
    if kept is None:
        return False
    if PRECEDENCE.index(kind) < PRECEDENCE.index(kept.kind):
        kept.kind = kind
    if reason not in kept.reason:
        kept.reason = f"{kept.reason} · {reason}"[:500]
    kept.save(using=DB, update_fields=["reason", "kind"])
    logger.info("quarantined message %s refused again: %s", source, reason)
    return True


def _jsonable(content: Any) -> Any:
    """The content as JSON: parsed when it is a JSON string, kept as text otherwise."""
    import json

    from alzette.territory.supervision.ingest import parse

    content = parse(content)
    if isinstance(content, str):
        return content
    try:
        json.dumps(content)
    except (TypeError, ValueError):
        return repr(content)
    return content


def _record(device: str, kind: str, at: datetime) -> None:
    from alzette.territory.supervision import services

    try:
        services.record("device.quarantined", "system:supervision", f"device:{device}",
                        {"device": device, "kind": kind, "at": at.isoformat()})  # fmt: skip
    except Exception:  # the ledger refusing an odd device name never loses the message
        logger.exception("ledger entry for the quarantine of %s failed", device)
