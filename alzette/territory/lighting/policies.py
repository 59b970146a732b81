"""Lighting policies and calendar overrides: validation, conflicts, changes (docs/lighting.md).

Every change goes through here, whatever asked for it (pages, API, demo): the data
is checked field by field (``ValidationError`` with a message per field, steps
named ``steps.<n>.<field>``), a schedule that would conflict with another is
refused (``Conflict`` naming the other one), the authorisation is checked
(``authz.NotAllowed``) and the change is recorded in the ledger
(``lighting_policy.changed``, ``lighting_override.changed``) in the same
transaction. No HTTP framework here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from alzette.territory.lighting import schedule
from alzette.territory.lighting.authz import Actor, check
from alzette.territory.lighting.models import CalendarOverride, LedgerRecord, Policy

DB = "territory"
ANCHORS = ("sunset", "sunrise")
MAX_STEPS = 12
MAX_OFFSET = 240  # minutes either side
PRIORITIES = (-100, 100)
MAX_OVERRIDE = timedelta(days=62)
POLICY_FIELDS = ("name", "commune", "groups", "priority", "enabled", "valid_from", "valid_to",
                 "weekdays", "steps")  # fmt: skip
OVERRIDE_FIELDS = ("commune", "groups", "start", "end", "level", "policy", "reason")
#: The year whose nights check a policy without dates (a common, non-leap year).
REFERENCE_YEAR = 2027


class Conflict(Exception):
    """The schedule would conflict with another policy or override (``other``)."""

    def __init__(self, other: Policy | CalendarOverride, message: str) -> None:
        super().__init__(message)
        self.other = other
        self.message = message

    @property
    def other_ref(self) -> str:
        kind = "policy" if isinstance(self.other, Policy) else "override"
        return f"{kind}:{self.other.pk}"


class InUse(Conflict):
    """A policy that calendar overrides follow cannot be deleted."""


# --- Reading ---------------------------------------------------------------------------------


def communes() -> dict[str, str]:
    """INSEE code → name of the territory's communes, by name."""
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE).order_by("name")
    return dict(units.values_list("code", "name"))


def policies(commune: str | None = None) -> list[Policy]:
    rows = Policy.objects.using(DB).all()
    return list(rows.filter(commune=commune) if commune else rows)


def overrides(
    commune: str | None = None, start: datetime | None = None, end: datetime | None = None
) -> list[CalendarOverride]:
    """Overrides (of ``commune``) that meet [start, end), by start."""
    rows = CalendarOverride.objects.using(DB).select_related("policy")
    if commune:
        rows = rows.filter(commune=commune)
    if start is not None:
        rows = rows.filter(end__gt=start)
    if end is not None:
        rows = rows.filter(start__lt=end)
    return list(rows.order_by("start", "pk"))


def step_label(step: dict[str, Any]) -> str:
    """``sunset + 15 min``, ``sunrise - 10 min``, ``23:00``: how a step reads."""
    offset = int(step.get("offset") or 0)
    at = step.get("at", "")
    base = {"sunset": _("sunset"), "sunrise": _("sunrise")}.get(at, at)
    if not offset:
        return base
    sign = "+" if offset > 0 else "-"
    return _("%(at)s %(sign)s %(minutes)s min") % {"at": base, "sign": sign, "minutes": abs(offset)}


# --- Validation ------------------------------------------------------------------------------


def _errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _commune(value: Any, errors: dict[str, list[str]]) -> str:
    code = str(value or "").strip()
    if not schedule.COMMUNE_CODE.match(code):
        _add(errors, "commune", _("Give the commune's INSEE code (5 characters)."))
        return code
    known = communes()
    if known and code not in known:
        _add(errors, "commune", _("%(code)s is not a commune of the territory.") % {"code": code})
    return code


def _groups(value: Any, commune: str, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(g, str) for g in value):
        _add(errors, "groups", _("Give a list of StreetlightGroup ids."))
        return []
    wanted = list(dict.fromkeys(g.strip() for g in value if g.strip()))
    known = {g.id for g in schedule.groups(commune)} if commune else set()
    for group in wanted:
        if group not in known:
            _add(errors, "groups", _("%(group)s is not a streetlight group of commune %(commune)s.")
                 % {"group": group, "commune": commune})  # fmt: skip
    return wanted


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _level(value: Any) -> float | None:
    """A level 0..1, or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        level = float(value)
    except (TypeError, ValueError):
        return None
    return level if 0 <= level <= 1 else None


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _add(errors, field, _("Give a date as YYYY-MM-DD."))
        return None


def clean_steps(value: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each step's fields, checked one by one; order is checked with the commune."""
    if not isinstance(value, list | tuple) or not value:
        _add(errors, "steps", _("Give at least one step."))
        return []
    if len(value) > MAX_STEPS:
        _add(errors, "steps", _("Give at most %(n)s steps.") % {"n": MAX_STEPS})
        return []
    steps: list[dict[str, Any]] = []
    for n, raw in enumerate(value):
        where = f"steps.{n}"
        if not isinstance(raw, dict):
            _add(errors, where, _("Step %(n)s is not an object.") % {"n": n + 1})
            continue
        at = str(raw.get("at") or "").strip().lower()
        if at not in ANCHORS and schedule.clock(at) is None:
            _add(errors, f"{where}.at", _('Step %(n)s: "at" is sunset, sunrise or a time as '
                                          "HH:MM (00:00 to 23:59).") % {"n": n + 1})  # fmt: skip
        offset = _integer(raw.get("offset", 0) if raw.get("offset") not in (None, "") else 0)
        if offset is None or not -MAX_OFFSET <= offset <= MAX_OFFSET:
            _add(errors, f"{where}.offset",
                 _("Step %(n)s: the offset is a whole number of minutes between -%(max)s and "
                   "%(max)s.") % {"n": n + 1, "max": MAX_OFFSET})  # fmt: skip
        level = _level(raw.get("level"))
        if level is None:
            _add(errors, f"{where}.level",
                 _("Step %(n)s: the level is a number between 0 (off) and 1 (full power).")
                 % {"n": n + 1})  # fmt: skip
        steps.append({"at": at, "offset": offset or 0, "level": level if level is not None else 0})
    return steps


def sample_nights(valid_from: date | None, valid_to: date | None) -> list[date]:
    """Nights to check a policy's step order on: its own (weekly) within a validity under a
    year, otherwise the 1st, 11th and 21st of each month of a reference year."""
    if valid_from and valid_to and (valid_to - valid_from).days <= 366:
        days = (valid_to - valid_from).days
        return sorted({valid_from + timedelta(days=d) for d in range(0, days + 1, 7)} | {valid_to})
    return [date(REFERENCE_YEAR, month, day) for month in range(1, 13) for day in (1, 11, 21)]


def check_order(
    steps: list[dict[str, Any]], commune: str, nights: list[date], errors: dict[str, list[str]]
) -> None:
    """Each step must come after the one before it on every night checked."""
    point = schedule.commune_point(commune) if commune else schedule.sun.territory_point()
    for night in nights:
        times = schedule.step_times(steps, night, point)
        for n in range(1, len(steps)):
            if times[n] <= times[n - 1]:
                _add(errors, f"steps.{n}.at",
                     _("Step %(n)s (%(this)s) does not come after step %(m)s (%(previous)s) on "
                       "the night of %(night)s: put the steps in the order of the night.")
                     % {"n": n + 1, "this": step_label(steps[n]), "m": n,
                        "previous": step_label(steps[n - 1]),
                        "night": night.isoformat()})  # fmt: skip
                return


def clean_policy(data: dict[str, Any]) -> dict[str, Any]:
    """The policy's fields, checked; ValidationError with a message per field otherwise."""
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        _add(errors, "name", _("Give the policy a name."))
    elif len(name) > 200:
        _add(errors, "name", _("The name is at most 200 characters."))
    commune = _commune(data.get("commune"), errors)
    groups = _groups(data.get("groups"), commune, errors)
    priority = _integer(data.get("priority", 0) if data.get("priority") not in (None, "") else 0)
    if priority is None or not PRIORITIES[0] <= priority <= PRIORITIES[1]:
        _add(errors, "priority", _("The priority is a whole number between %(low)s and %(high)s.")
             % {"low": PRIORITIES[0], "high": PRIORITIES[1]})  # fmt: skip
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        _add(errors, "enabled", _("Enabled is true or false."))
    valid_from = _date(data.get("valid_from"), "valid_from", errors)
    valid_to = _date(data.get("valid_to"), "valid_to", errors)
    if valid_from and valid_to and valid_to < valid_from:
        _add(errors, "valid_to", _("The last night comes before the first one."))
    weekdays_raw = data.get("weekdays") or []
    weekdays: list[int] = []
    if not isinstance(weekdays_raw, list | tuple):
        _add(errors, "weekdays", _("Give the weekdays as numbers from 0 (Monday) to 6 (Sunday)."))
    else:
        for value in weekdays_raw:
            day = _integer(value)
            if day is None or not 0 <= day <= 6:
                _add(errors, "weekdays",
                     _("Give the weekdays as numbers from 0 (Monday) to 6 (Sunday)."))  # fmt: skip
                break
            weekdays.append(day)
    steps = clean_steps(data.get("steps"), errors)
    if steps and not any(k.startswith("steps") for k in errors) and "commune" not in errors:
        check_order(steps, commune, sample_nights(valid_from, valid_to), errors)
    _errors(errors)
    return {"name": name, "commune": commune, "groups": groups, "priority": priority,
            "enabled": enabled, "valid_from": valid_from, "valid_to": valid_to,
            "weekdays": sorted(set(weekdays)), "steps": steps}  # fmt: skip


def _groups_overlap(a: list[str], b: list[str]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def nights_overlap(a: Any, b: Any) -> bool:
    """Whether two validities (valid_from, valid_to, weekdays) share a night."""
    start = max(a.valid_from or date.min, b.valid_from or date.min)
    end = min(a.valid_to or date.max, b.valid_to or date.max)
    if start > end:
        return False
    common = (set(a.weekdays) or set(range(7))) & (set(b.weekdays) or set(range(7)))
    if not common:
        return False
    span = (end - start).days
    if span >= 6:
        return True
    return any((start + timedelta(days=d)).weekday() in common for d in range(span + 1))


def policy_conflict(candidate: Policy) -> Policy | None:
    """The enabled policy of equal priority whose groups and nights overlap ``candidate``'s."""
    if not candidate.enabled:
        return None
    others = (
        Policy.objects.using(DB)
        .filter(commune=candidate.commune, priority=candidate.priority, enabled=True)
        .exclude(pk=candidate.pk)
    )
    for other in others.order_by("pk"):
        if _groups_overlap(candidate.groups, other.groups) and nights_overlap(candidate, other):
            return other
    return None


def _policy_conflict_message(other: Policy) -> str:
    return _("This policy conflicts with the policy “%(name)s” (#%(id)s): same priority "
             "(%(priority)s), overlapping streets and nights. Change the priority, the groups, "
             "the dates or the weekdays of one of them.") % {
        "name": other.name, "id": other.pk, "priority": other.priority}  # fmt: skip


# --- Ledger ----------------------------------------------------------------------------------


def _record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=DB, object_ref=object_ref
    )


def _policy_payload(policy: Policy, action: str) -> dict[str, Any]:
    return {
        "action": action, "policy": policy.pk, "commune": policy.commune,
        "groups": list(policy.groups), "priority": policy.priority, "enabled": policy.enabled,
        "valid_from": policy.valid_from.isoformat() if policy.valid_from else None,
        "valid_to": policy.valid_to.isoformat() if policy.valid_to else None,
        "weekdays": list(policy.weekdays), "steps": list(policy.steps),
    }  # fmt: skip


def _override_payload(override: CalendarOverride, action: str) -> dict[str, Any]:
    return {
        "action": action, "override": override.pk, "commune": override.commune,
        "groups": list(override.groups), "start": override.start.astimezone(UTC).isoformat(),
        "end": override.end.astimezone(UTC).isoformat(), "level": override.level,
        "policy": override.policy_id, "reason": override.reason,
    }  # fmt: skip


# --- Policy changes --------------------------------------------------------------------------


def save_policy(actor: Actor, data: dict[str, Any], policy: Policy | None = None) -> Policy:
    """Create a policy (``policy`` None) or change one; checked, conflict-free, recorded."""
    if policy is not None:
        check(actor, policy.commune)
    base = {} if policy is None else {f: getattr(policy, f) for f in POLICY_FIELDS}
    clean = clean_policy({**base, **data})
    check(actor, clean["commune"])
    with transaction.atomic(using=DB):
        if policy is not None:
            policy = Policy.objects.using(DB).select_for_update().get(pk=policy.pk)
        action = "created" if policy is None else "updated"
        policy = policy or Policy(created_by=actor.ref)
        for field, value in clean.items():
            setattr(policy, field, value)
        other = policy_conflict(policy)
        if other is not None:
            raise Conflict(other, _policy_conflict_message(other))
        policy.save(using=DB)
        _record("lighting_policy.changed", actor.ref, f"lighting_policy:{policy.pk}",
                _policy_payload(policy, action))  # fmt: skip
    return policy


def set_enabled(actor: Actor, policy: Policy, enabled: bool) -> Policy:
    """Disable a policy, or enable it again (checked for conflicts)."""
    check(actor, policy.commune)
    with transaction.atomic(using=DB):
        policy = Policy.objects.using(DB).select_for_update().get(pk=policy.pk)
        if policy.enabled == enabled:
            return policy
        policy.enabled = enabled
        other = policy_conflict(policy)
        if other is not None:
            raise Conflict(other, _policy_conflict_message(other))
        policy.save(using=DB, update_fields=["enabled", "updated_at"])
        _record("lighting_policy.changed", actor.ref, f"lighting_policy:{policy.pk}",
                _policy_payload(policy, "enabled" if enabled else "disabled"))  # fmt: skip
    return policy


def delete_policy(actor: Actor, policy: Policy) -> None:
    """Delete a policy no override follows (InUse naming the override otherwise)."""
    check(actor, policy.commune)
    with transaction.atomic(using=DB):
        follower = CalendarOverride.objects.using(DB).filter(policy=policy).order_by("pk").first()
        if follower is not None:
            raise InUse(follower, _("The calendar override “%(reason)s” (#%(id)s) follows this "
                                    "policy: delete it first, or disable the policy.")
                        % {"reason": follower.reason, "id": follower.pk})  # fmt: skip
        payload = _policy_payload(policy, "deleted")
        ref = f"lighting_policy:{policy.pk}"
        Policy.objects.using(DB).filter(pk=policy.pk).delete()
        _record("lighting_policy.changed", actor.ref, ref, payload)


# --- Calendar overrides ----------------------------------------------------------------------


def _moment(value: Any, field: str, errors: dict[str, list[str]]) -> datetime | None:
    if value in (None, ""):
        _add(errors, field, _("Give a date and time."))
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            _add(errors, field, _("Give a date and time as YYYY-MM-DDTHH:MM."))
            return None
    if not isinstance(value, datetime):
        _add(errors, field, _("Give a date and time as YYYY-MM-DDTHH:MM."))
        return None
    if value.tzinfo is None:  # a local wall-clock time
        value = value.replace(tzinfo=schedule.zone())
    return value.astimezone(UTC)


@dataclass
class _Scope:
    commune: str
    groups: list[str]
    start: datetime
    end: datetime


def clean_override(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    commune = _commune(data.get("commune"), errors)
    groups = _groups(data.get("groups"), commune, errors)
    start = _moment(data.get("start"), "start", errors)
    end = _moment(data.get("end"), "end", errors)
    if start and end:
        if end <= start:
            _add(errors, "end", _("The end comes after the start."))
        elif end - start > MAX_OVERRIDE:
            _add(errors, "end", _("An override lasts at most %(days)s days.")
                 % {"days": MAX_OVERRIDE.days})  # fmt: skip
    raw_level = data.get("level")
    raw_policy = data.get("policy")
    if isinstance(raw_policy, Policy):
        raw_policy = raw_policy.pk
    level = policy = None
    if raw_level in (None, "") and raw_policy in (None, ""):
        _add(errors, "level", _("Give a level, or a policy to follow."))
    elif raw_level not in (None, "") and raw_policy not in (None, ""):
        _add(errors, "policy", _("Give either a level or a policy to follow, not both."))
    elif raw_level not in (None, ""):
        level = _level(raw_level)
        if level is None:
            _add(errors, "level", _("The level is a number between 0 (off) and 1 (full power)."))
    else:
        pk = _integer(raw_policy)
        policy = Policy.objects.using(DB).filter(pk=pk).first() if pk is not None else None
        if policy is None:
            _add(errors, "policy", _("No such policy."))
        elif commune and policy.commune != commune:
            _add(errors, "policy", _("The policy followed must be one of the same commune."))
    reason = str(data.get("reason") or "").strip()
    if not reason:
        _add(errors, "reason", _("Say why (for instance: Christmas market, 14 July)."))
    elif len(reason) > 200:
        _add(errors, "reason", _("The reason is at most 200 characters."))
    _errors(errors)
    return {"commune": commune, "groups": groups, "start": start, "end": end, "level": level,
            "policy": policy, "reason": reason}  # fmt: skip


def override_conflict(candidate: Any, exclude: int | None = None) -> CalendarOverride | None:
    """An override of the same commune whose groups and time overlap ``candidate``'s."""
    rows = CalendarOverride.objects.using(DB).filter(
        commune=candidate.commune, start__lt=candidate.end, end__gt=candidate.start
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    for other in rows.order_by("start", "pk"):
        if _groups_overlap(candidate.groups, other.groups):
            return other
    return None


def save_override(actor: Actor, data: dict[str, Any]) -> CalendarOverride:
    """Create a calendar override; checked, conflict-free, recorded."""
    clean = clean_override(data)
    check(actor, clean["commune"])
    with transaction.atomic(using=DB):
        other = override_conflict(_Scope(clean["commune"], clean["groups"], clean["start"],
                                         clean["end"]))  # fmt: skip
        if other is not None:
            zone = schedule.zone()
            raise Conflict(other, _(
                "This override overlaps the override “%(reason)s” (#%(id)s, %(start)s to %(end)s) "
                "on the same streets: change the dates or the groups, or delete that one first."
            ) % {"reason": other.reason, "id": other.pk,
                 "start": other.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                 "end": other.end.astimezone(zone).strftime("%Y-%m-%d %H:%M")})  # fmt: skip
        override = CalendarOverride(created_by=actor.ref, **clean)
        override.save(using=DB)
        _record("lighting_override.changed", actor.ref, f"lighting_override:{override.pk}",
                _override_payload(override, "created"))  # fmt: skip
    return override


def delete_override(actor: Actor, override: CalendarOverride) -> None:
    check(actor, override.commune)
    with transaction.atomic(using=DB):
        payload = _override_payload(override, "deleted")
        ref = f"lighting_override:{override.pk}"
        CalendarOverride.objects.using(DB).filter(pk=override.pk).delete()
        _record("lighting_override.changed", actor.ref, ref, payload)
