"""Commands to streetlights through oneM2M (docs/lighting-commands.md).

The lighting application is the oneM2M AE ``Clighting`` (``alzette/lighting``),
registered in-process. A command is a contentInstance it writes in the lamp's
``cmd`` container, ``{"id", "action", "level", "t"}``; the lamp's own access
control policy decides whether ``Clighting`` may write there. The lamp answers in
``ack`` (``receivers.py``). A command not acknowledged within
``ALZETTE_LIGHTING_ACK_SECONDS`` is re-sent (same id, a new instance) by
``run_retry`` up to ``ALZETTE_LIGHTING_MAX_ATTEMPTS`` attempts, then failed with a
supervision alert on the lamp. Every outcome is recorded in the ledger.

No HTTP framework here: the pages and the API call these functions.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from alzette.ledger.services import record_opening
from alzette.territory.lighting.commands.models import Command, LampState, LedgerRecord

logger = logging.getLogger(__name__)

DB = "territory"
TENANT = ""
AE_ID = "Clighting"
AE_NAME = "lighting"
AE_API = "Nalzette-lighting"
CSE = "alzette"
EPCI = "CCPHVA"
LAMP_PREFIX = "urn:ngsi-ld:Streetlight:"
GROUP_PREFIX = "urn:ngsi-ld:StreetlightGroup:"
ACTOR = "system:lighting"
DETECTOR = "lighting.command-failed"

#: Error codes, shown to agents and given by the API.
UNKNOWN_DEVICE, OFFLINE, INVALID_LEVEL, NOT_ALLOWED = (
    "unknown_device", "offline", "invalid_level", "not_allowed",
)  # fmt: skip
NO_ACK, REFUSED, DEVICE_ERROR, CSE_ERROR = "no_ack", "refused", "device_error", "cse_error"
INVALID_HOLD = "invalid_hold"
#: An agent's command holds its lamps for at least a minute and at most a day.
MIN_HOLD, MAX_HOLD = timedelta(minutes=1), timedelta(days=1)

_rqi = itertools.count()


class CommandError(Exception):
    """A command that cannot be made; ``code`` is one of the codes above."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def ack_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "ALZETTE_LIGHTING_ACK_SECONDS", 120))


def max_attempts() -> int:
    return max(1, int(getattr(settings, "ALZETTE_LIGHTING_MAX_ATTEMPTS", 3)))


def resend_failed_after() -> timedelta:
    """How long ``apply_plan`` waits before trying again a lamp whose command failed."""
    return timedelta(minutes=getattr(settings, "ALZETTE_LIGHTING_RESEND_FAILED_MINUTES", 30))


# --- Who may command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    agent: bool = False
    #: The commune an agent acts for; None for the EPCI's agents and administrators.
    commune: str | None = None
    ref: str = ACTOR


def actor_of(user: Any) -> Actor:
    """The territory's view of a signed-in person, read by attributes."""
    if not getattr(user, "is_authenticated", False):
        return Actor()
    role = getattr(user, "role", "")
    unit = getattr(getattr(user, "unit", None), "code", None)
    commune = unit if role == "agent" and unit and unit != EPCI else None
    return Actor(agent=role in ("agent", "administrator"), commune=commune,
                 ref=getattr(user, "pseudonym", "") or ACTOR)  # fmt: skip


def abilities(actor: Actor, commune: str | None = None) -> dict[str, bool]:
    """What ``actor`` may do with the lamps of ``commune`` (None: the pages themselves).
    Every agent sees every lamp; a commune's agents command their commune's lamps, the
    EPCI's agents and administrators every lamp."""
    commands = actor.agent and (actor.commune is None or actor.commune == commune)
    return {"view": actor.agent, "command": bool(commands)}


# --- Lamps and devices --------------------------------------------------------------------


def ae_of(lamp_id: str) -> str:
    """The oneM2M AE name of a lamp: urn:ngsi-ld:Streetlight:streetlight-57038-001 →
    streetlight-57038-001."""
    return lamp_id.rsplit(":", 1)[-1]


def commune_of(lamp_id: str) -> str:
    from alzette.territory.supervision.health import commune_of as from_name

    return from_name(ae_of(lamp_id))


def lamp_exists(lamp_id: str) -> bool:
    from alzette.territory.ngsild import store

    return lamp_id.startswith(LAMP_PREFIX) and store.get(TENANT, lamp_id) is not None


def unknown_lamps(lamp_ids: Iterable[str]) -> list[str]:
    """The ids that name no Streetlight entity."""
    return [lamp_id for lamp_id in lamp_ids if not lamp_exists(lamp_id)]


def _local(key: str) -> str:
    return key.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def group_lamps(group_id: str) -> list[str] | None:
    """The lamps of a StreetlightGroup (its ``refStreetlight``), or None if no such group."""
    from alzette.territory.ngsild import store

    row = store.get(TENANT, group_id) if group_id.startswith(GROUP_PREFIX) else None
    if row is None:
        return None
    found: list[str] = []
    for key, instances in row.body.items():
        if _local(key) != "refStreetlight":
            continue
        for instance in instances or []:
            objects = instance.get("object") if isinstance(instance, dict) else None
            if objects is None and isinstance(instance, dict):
                objects = instance.get("https://uri.etsi.org/ngsi-ld/hasObject")
            for item in objects if isinstance(objects, list) else [objects]:
                ref = item.get("@id") if isinstance(item, dict) else item
                if isinstance(ref, str) and ref not in found:
                    found.append(ref)
    return found


def _device(ae: str) -> Any:
    from alzette.territory.onem2m.models import Resource

    return Resource.objects.using(DB).filter(ty=2, rn=ae).first()


def _offline(ae: str, now: datetime) -> bool:
    from alzette.territory.supervision import health

    found = health.devices(now=now, only=ae)
    return bool(found) and found[0].status == health.OFFLINE


# --- The oneM2M application ---------------------------------------------------------------


def _request(op: int, to: str, ty: int | None = None, pc: dict | None = None) -> Any:
    from alzette.territory.onem2m.constants import Operation
    from alzette.territory.onem2m.primitives import Request
    from alzette.territory.onem2m.security import INTERNAL

    return Request(op=Operation(op), to=to, fr=AE_ID, rqi=f"lighting-{next(_rqi)}", rvi="3",
                   ty=ty, pc=pc, principal=INTERNAL, binding="internal")  # fmt: skip


def ensure_application() -> str:
    """Register the lighting application (AE ``Clighting``) once; its AE-ID."""
    from alzette.territory.onem2m import cse
    from alzette.territory.onem2m.models import Resource

    if Resource.objects.using(DB).filter(ri=AE_ID, ty=2).exists():
        return AE_ID
    body = {"m2m:ae": {"rn": AE_NAME, "api": AE_API, "rr": False, "srv": ["3"],
                       "lbl": ["alzette:lighting"]}}  # fmt: skip
    response = cse.handle(_request(1, CSE, ty=2, pc=body))
    if response.rsc not in (2001, 4105, 4117):
        raise CommandError(CSE_ERROR, f"cannot register the lighting application: {response.pc}")
    return AE_ID


def _write(ae: str, command: Command, now: datetime, deferred: list) -> str:
    """Write the command as a contentInstance in ``alzette/<ae>/cmd``; its ri."""
    from alzette.territory.onem2m import cse

    content = {"id": command.id, "action": command.action, "level": command.level,
               "t": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    body = {"m2m:cin": {"con": json.dumps(content), "cnf": "application/json:0"}}
    response = cse.handle(_request(1, f"{CSE}/{ae}/cmd", ty=4, pc=body), deferred)
    if response.rsc == 2001:
        return response.pc["m2m:cin"]["ri"]
    detail = (response.pc or {}).get("m2m:dbg", "") if isinstance(response.pc, dict) else ""
    if response.rsc == 4103:
        raise CommandError(NOT_ALLOWED, f"{ae} gives {AE_ID} no right to write its commands")
    if response.rsc == 4004:
        raise CommandError(UNKNOWN_DEVICE, f"{ae} has no cmd container")
    raise CommandError(CSE_ERROR, f"the CSE answered {response.rsc}: {detail}"[:500])


# --- Sending ------------------------------------------------------------------------------


def action_of(level: Any) -> str:
    """off for 0, on for 1, dim between; CommandError invalid_level otherwise."""
    if isinstance(level, bool) or not isinstance(level, int | float) or not math.isfinite(level):
        raise CommandError(INVALID_LEVEL, f"level {level!r} is not a number")
    if not 0 <= level <= 1:
        raise CommandError(INVALID_LEVEL, f"level {level} is outside 0..1")
    return "off" if level == 0 else "on" if level == 1 else "dim"


def _record(kind: str, command: Command, actor: str, **extra: Any) -> None:
    payload = {"lamp": command.lamp_id, "action": command.action, "level": command.level,
               "source": command.source, "attempt": command.attempts, **extra}  # fmt: skip
    record_opening(LedgerRecord, kind, actor, f"command:{command.id}", payload, using=DB,
                   object_ref=f"command:{command.id}")  # fmt: skip


def _state_row(lamp_id: str) -> LampState:
    row, _ = (
        LampState.objects.using(DB)
        .select_for_update()
        .get_or_create(
            lamp_id=lamp_id, defaults={"ae": ae_of(lamp_id), "commune": commune_of(lamp_id)}
        )
    )
    return row


def _send_one(lamp_id: str, level: float, action: str, source: str, actor: str,
              now: datetime, hold: timedelta | None = None) -> Command:  # fmt: skip
    ae = ae_of(lamp_id)
    deferred: list = []
    with transaction.atomic(using=DB):
        state = _state_row(lamp_id)
        command = Command(lamp_id=lamp_id, ae=ae, action=action, level=float(level),
                          source=source[:80], actor=actor[:80], attempts=1)  # fmt: skip
        # A newer command supersedes what the lamp has not acknowledged yet.
        Command.objects.using(DB).filter(lamp_id=lamp_id, state=Command.State.SENT).update(
            state=Command.State.SUPERSEDED
        )
        error: CommandError | None = None
        if not lamp_exists(lamp_id) or _device(ae) is None:
            error = CommandError(UNKNOWN_DEVICE, f"no streetlight or no device {ae}")
        elif _offline(ae, now):
            error = CommandError(OFFLINE, f"{ae} has not been heard from recently")
        else:
            try:
                with transaction.atomic(using=DB):
                    command.instance_ri = _write(ae, command, now, deferred)
            except CommandError as exc:
                error = exc
                deferred.clear()
        if error is None:
            command.state, command.sent_at = Command.State.SENT, now
            command.save(using=DB, force_insert=True)
            _record("device.command_sent", command, actor)
        else:
            command.state, command.failed_at = Command.State.FAILED, now
            command.error_code, command.error_detail = error.code, error.detail[:500]
            command.save(using=DB, force_insert=True)
            _record("device.command_refused", command, actor, error=error.code)
        state.wanted_level, state.wanted_source = float(level), source[:80]
        state.held_until = now + hold if hold else None
        state.last_command = command
        state.save(using=DB)
    if deferred:
        from alzette.territory.onem2m import cse

        cse.after_commit(deferred)
    return command


def send(lamp_ids: Iterable[str], level: Any, *, source: str, actor: str,
         hold: timedelta | None = None) -> list[Command]:  # fmt: skip
    """Send ``level`` (0..1) to each lamp; one Command per lamp, whatever its outcome.

    ``hold``: how long the schedule leaves the lamps at this level (an agent's command;
    ``manual_hold()`` when they do not say), after which the plan takes them back."""
    action = action_of(level)
    if hold is not None and not MIN_HOLD <= hold <= MAX_HOLD:
        raise CommandError(INVALID_HOLD, f"hold a command between {MIN_HOLD} and {MAX_HOLD}")
    lamp_ids = list(dict.fromkeys(lamp_ids))
    ensure_application()
    now = datetime.now(UTC)
    return [_send_one(lamp_id, level, action, source, actor, now, hold) for lamp_id in lamp_ids]


def manual_hold() -> timedelta:
    """How long an agent's command holds when they do not say (the page's default)."""
    minutes = int(getattr(settings, "ALZETTE_LIGHTING_MANUAL_HOLD_MINUTES", 60))
    return min(max(timedelta(minutes=minutes), MIN_HOLD), MAX_HOLD)


def apply_plan(
    plan: dict[str, float], *, source: str | dict[str, str], actor: str
) -> list[Command]:
    """Send each lamp the level ``plan`` wants when it differs from the last wanted one
    (or when its last command failed a while ago); ``source`` per lamp or for all."""
    for level in plan.values():
        action_of(level)
    if not plan:
        return []
    states = lamp_states(list(plan))
    now = datetime.now(UTC)
    due: list[tuple[str, float, str]] = []
    for lamp_id, level in plan.items():
        why = source.get(lamp_id, "plan") if isinstance(source, dict) else source
        state = states.get(lamp_id)
        if state is not None and state.held_until is not None and state.held_until > now:
            continue  # an agent's command holds it; the plan takes it back afterwards
        if (
            state is not None
            and state.wanted_level is not None
            and (abs(state.wanted_level - level) < 1e-6)
        ):
            last = state.last_command
            failed_long_ago = (
                last is not None and last.state == Command.State.FAILED
                and last.failed_at is not None and now - last.failed_at >= resend_failed_after()
            )  # fmt: skip
            if not failed_long_ago:
                if state.wanted_source != why:
                    LampState.objects.using(DB).filter(pk=state.pk).update(wanted_source=why[:80])
                continue
        due.append((lamp_id, level, why))
    if not due:
        return []
    ensure_application()
    return [_send_one(lamp_id, level, action_of(level), why, actor, now)
            for lamp_id, level, why in due]  # fmt: skip


# --- Acknowledgements and failures --------------------------------------------------------


def _rule() -> Any:
    from alzette.territory.supervision import alerts

    return alerts.detector_rule(DETECTOR, name="Streetlight command failed",
                                entity_type="Streetlight", attribute="illuminanceLevel",
                                severity="warning")  # fmt: skip


def fail(command: Command, code: str, detail: str, actor: str = ACTOR) -> None:
    """Mark a sent command failed, record it and raise the lamp's alert."""
    from alzette.territory.supervision import alerts

    now = datetime.now(UTC)
    with transaction.atomic(using=DB):
        command.state, command.failed_at = Command.State.FAILED, now
        command.error_code, command.error_detail = code, detail[:500]
        command.save(using=DB)
        _record("device.command_failed", command, actor, error=code)
    try:
        alerts.raise_detected(_rule(), command.lamp_id, command.level,
                              f"{command.ae}: {code} {detail}"[:500], at=now)  # fmt: skip
    except Exception:  # an alert that cannot be raised never undoes the failure
        logger.exception("cannot raise the alert of command %s", command.id)


def acknowledge(command: Command, at: datetime, actor: str = ACTOR) -> None:
    from alzette.territory.supervision import alerts

    with transaction.atomic(using=DB):
        command.acked_at = at
        if command.state in (Command.State.SENT, Command.State.FAILED):
            command.state = Command.State.ACKNOWLEDGED
            command.error_code = command.error_detail = ""
        command.save(using=DB)
        _record("device.command_acknowledged", command, actor)
    try:
        alerts.clear_detected(_rule(), command.lamp_id, f"{command.ae} acknowledged a command")
    except Exception:
        logger.exception("cannot clear the alert of command %s", command.id)


def run_retry(now: datetime | None = None) -> str:
    """Job: re-send commands not acknowledged in time; fail them after the last attempt."""
    now = now or datetime.now(UTC)
    due = Command.objects.using(DB).filter(state=Command.State.SENT, sent_at__lte=now - ack_after())
    resent = failed = 0
    for command in list(due.order_by("sent_at")[:1000]):
        if command.attempts >= max_attempts():
            fail(command, NO_ACK, f"no acknowledgement after {command.attempts} attempts")
            failed += 1
            continue
        deferred: list = []
        try:
            with transaction.atomic(using=DB):
                locked = Command.objects.using(DB).select_for_update().get(pk=command.pk)
                if locked.state != Command.State.SENT:
                    continue
                locked.instance_ri = _write(locked.ae, locked, now, deferred)
                locked.attempts += 1
                locked.sent_at = now
                locked.save(using=DB)
                _record("device.command_sent", locked, ACTOR)
        except CommandError as exc:
            fail(command, exc.code, exc.detail)
            failed += 1
            continue
        if deferred:
            from alzette.territory.onem2m import cse

            cse.after_commit(deferred)
        resent += 1
    return f"{resent} command(s) re-sent, {failed} failed"


# --- Reading ------------------------------------------------------------------------------


def lamp_states(lamp_ids: Iterable[str] | None = None) -> dict[str, LampState]:
    rows = LampState.objects.using(DB).select_related("last_command")
    if lamp_ids is not None:
        rows = rows.filter(lamp_id__in=list(lamp_ids))
    return {row.lamp_id: row for row in rows}


def display_state(state: LampState | None) -> str:
    """commanded, acknowledged, failed, superseded, or "" when never commanded."""
    command = state.last_command if state is not None else None
    if command is None:
        return ""
    return "commanded" if command.state == Command.State.SENT else command.state


def commands(lamp: str | None = None, state: str | None = None, limit: int = 200) -> list[Command]:
    rows = Command.objects.using(DB).all()
    if lamp:
        rows = rows.filter(lamp_id=lamp)
    if state:
        rows = rows.filter(state=Command.State.SENT if state == "commanded" else state)
    return list(rows.order_by("-created_at")[:limit])


def lamps(commune: str | None = None) -> list[str]:
    """Every Streetlight entity id (of ``commune`` when given), by id."""
    from alzette.territory.ngsild.models import Entity

    rows = Entity.objects.using(DB).filter(tenant=TENANT, entity_id__startswith=LAMP_PREFIX)
    if commune:
        rows = rows.filter(entity_id__startswith=f"{LAMP_PREFIX}streetlight-{commune}-")
    return list(rows.order_by("entity_id").values_list("entity_id", flat=True))
