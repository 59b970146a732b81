"""What level each streetlight should have, when: policies, the calendar and the sun.

A *night* is named by the date of its evening and runs from noon (local time) to
noon the next day. For a lamp at a moment, the level comes from, in order:

1. a calendar override covering the moment and the lamp's group (or its whole
   commune): its fixed level, or the steps of the policy it follows;
2. the enabled policy of highest priority whose scope (groups) and validity
   (dates, weekdays of the evening) include the lamp and the night;
3. the default: full power while it is dark (sunset to sunrise), off by day.

A policy's steps resolve to moments of the night: ``sunset``/``sunrise`` plus
their offset (sunset of the evening, sunrise of the next morning), or a local
clock time (``HH:MM``; 12:00 to 23:59 on the evening, 00:00 to 11:59 the next
morning, so daylight saving changes are followed). Outside the night the lamps
are off: a policy's levels only hold between sunset and sunrise, widened by its
own negative sunset offsets and positive sunrise offsets. Overrides apply as
given (a test of the lamps by day is an override).

The lamps and groups are read from the NGSI-LD store; ``run_schedule`` (the
``lighting-schedule`` job, every minute) hands the plan to the commands context,
which only sends where the wanted level changes, and keeps each StreetlightGroup
entity's own ``illuminanceLevel`` and ``activeProgramId`` on the plan
(``sync_groups``, written only when they change).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings

from alzette.territory.lighting import sun
from alzette.territory.lighting.models import CalendarOverride, Policy
from alzette.territory.ngsild import representation as rep

logger = logging.getLogger(__name__)
DB = "territory"
TENANT = ""
ACTOR = "system:lighting"
LAMP_PREFIX = "urn:ngsi-ld:Streetlight:"
GROUP_PREFIX = "urn:ngsi-ld:StreetlightGroup:"
CABINET_PREFIX = "urn:ngsi-ld:StreetlightControlCabinet:"
DEFAULT = "default"
NOON = 12
COMMUNE_CODE = re.compile(r"^\d[0-9AB]\d{3}$")
_LAMP_COMMUNE = re.compile(r"^streetlight-(\d[0-9AB]\d{3})-")
_GROUP_COMMUNE = re.compile(r"^(\d[0-9AB]\d{3})-")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Planned:
    """The level wanted (0..1), what decided it (``override:<id>``, ``policy:<id>`` or
    ``default``) and until when it holds (None: beyond what was looked at)."""

    level: float
    source: str
    until: datetime | None = None


class Segment(NamedTuple):
    start: datetime
    end: datetime
    level: float
    source: str


@dataclass(frozen=True)
class Target:
    """What a lookup names: a lamp, a group or a whole commune."""

    kind: str  # "lamp", "group" or "commune"
    id: str
    commune: str
    group: str | None  # the StreetlightGroup the level is decided for, None: commune-wide


# --- Time -----------------------------------------------------------------------------------


@cache
def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def night_of(moment: datetime) -> date:
    """The night (its evening's date) that ``moment`` belongs to."""
    local = moment.astimezone(zone())
    return local.date() if local.hour >= NOON else local.date() - timedelta(days=1)


def night_window(day: date) -> tuple[datetime, datetime]:
    """Noon of ``day`` to noon of the next day (local), in UTC."""
    noon = time(NOON, 0)
    start = datetime.combine(day, noon, tzinfo=zone())
    end = datetime.combine(day + timedelta(days=1), noon, tzinfo=zone())
    return start.astimezone(UTC), end.astimezone(UTC)


def clock(text: str) -> tuple[int, int] | None:
    found = _CLOCK.match(text or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def local_time(day: date, hour: int, minute: int) -> datetime:
    """``HH:MM`` of the night of ``day`` in UTC: afternoon and evening on ``day``, the small
    hours and morning on the next day. A time skipped when clocks go forward falls an hour
    later; a time met twice when they go back is the first one."""
    when = day if hour >= NOON else day + timedelta(days=1)
    return datetime.combine(when, time(hour, minute), tzinfo=zone()).astimezone(UTC)


def step_time(step: dict[str, Any], day: date, point: tuple[float, float]) -> datetime:
    """When a (valid) step takes effect in the night of ``day`` at ``point``."""
    at = step["at"]
    offset = timedelta(minutes=int(step.get("offset") or 0))
    if at == "sunset":
        return sun.sunset(day, *point) + offset
    if at == "sunrise":
        return sun.sunrise(day + timedelta(days=1), *point) + offset
    hour, minute = clock(at) or (0, 0)
    return local_time(day, hour, minute) + offset


def step_times(
    steps: list[dict[str, Any]], day: date, point: tuple[float, float]
) -> list[datetime]:
    return [step_time(step, day, point) for step in steps]


def dark_window(
    steps: list[dict[str, Any]], day: date, point: tuple[float, float]
) -> tuple[datetime, datetime]:
    """The part of the night where a policy's levels hold: sunset to sunrise, widened by the
    policy's own negative sunset offsets and positive sunrise offsets."""
    before = min((int(s.get("offset") or 0) for s in steps if s["at"] == "sunset"), default=0)
    after = max((int(s.get("offset") or 0) for s in steps if s["at"] == "sunrise"), default=0)
    start, end = sun.night(day, *point)
    return start + timedelta(minutes=min(before, 0)), end + timedelta(minutes=max(after, 0))


def policy_segments(
    steps: list[dict[str, Any]], day: date, point: tuple[float, float]
) -> list[tuple[datetime, datetime, float]]:
    """The levels a policy's steps give over the night of ``day``: (start, end, level) from
    noon to noon, off outside its dark window. Steps out of order on a given night (a clock
    time skipped by a change of time) take effect no earlier than the step before."""
    window_start, window_end = night_window(day)
    dark_start, dark_end = dark_window(steps, day, point)
    changes: list[tuple[datetime, float]] = []
    previous = window_start
    for step, moment in zip(steps, step_times(steps, day, point), strict=True):
        moment = min(max(moment, previous, window_start), window_end)
        changes.append((moment, float(step["level"])))
        previous = moment
    cuts = sorted({window_start, window_end, *(m for m, _ in changes),
                   min(max(dark_start, window_start), window_end),
                   min(max(dark_end, window_start), window_end)})  # fmt: skip
    out: list[tuple[datetime, datetime, float]] = []
    for start, end in pairwise(cuts):
        if start >= end:
            continue
        level = 0.0
        for moment, wanted in changes:
            if moment <= start:
                level = wanted
        if not dark_start <= start < dark_end:
            level = 0.0
        if out and out[-1][2] == level and out[-1][1] == start:
            out[-1] = (out[-1][0], end, level)
        else:
            out.append((start, end, level))
    return out


def policy_applies(policy: Policy, day: date) -> bool:
    """Whether the validity of ``policy`` (dates, weekdays) includes the night of ``day``."""
    if policy.valid_from and day < policy.valid_from:
        return False
    if policy.valid_to and day > policy.valid_to:
        return False
    return not policy.weekdays or day.weekday() in policy.weekdays


def in_scope(groups: list[str], group: str | None) -> bool:
    """Whether a policy or override for ``groups`` (empty: the whole commune) drives
    ``group`` (None: the commune as a whole, that is lamps without a group)."""
    return not groups or (group is not None and group in groups)


# --- Places ---------------------------------------------------------------------------------


def commune_point(code: str) -> tuple[float, float]:
    """(lon, lat) of a commune: its representative point, the territory's otherwise."""
    from alzette.core import spatial
    from alzette.territory.geo.models import TerritorialUnit

    unit = TerritorialUnit.objects.using(DB).filter(code=code).first()
    if unit is None or not unit.geometry:
        return sun.territory_point()
    inner = spatial.parse_geometry(unit.geometry).representative_point()
    return round(inner.x, 5), round(inner.y, 5)


# --- Resolution -----------------------------------------------------------------------------


class Resolver:
    """Policies and overrides read once, levels computed for many lamps and moments."""

    def __init__(
        self,
        communes: Iterable[str] | None = None,
        *,
        policies: list[Policy] | None = None,
        overrides: list[CalendarOverride] | None = None,
    ) -> None:
        wanted = set(communes) if communes is not None else None
        if policies is None:
            rows = Policy.objects.using(DB).filter(enabled=True)
            policies = list(rows if wanted is None else rows.filter(commune__in=wanted))
        if overrides is None:
            rows = CalendarOverride.objects.using(DB).select_related("policy")
            overrides = list(rows if wanted is None else rows.filter(commune__in=wanted))
        self.policies = sorted(policies, key=lambda p: (-p.priority, 0 if p.groups else 1, p.pk))
        self.overrides = sorted(overrides, key=lambda o: (o.start, o.pk))
        self._points: dict[str, tuple[float, float]] = {}
        self._segments: dict[tuple[int, date], list] = {}

    def point(self, commune: str) -> tuple[float, float]:
        if commune not in self._points:
            self._points[commune] = commune_point(commune)
        return self._points[commune]

    def segments(self, policy: Policy, day: date) -> list[tuple[datetime, datetime, float]]:
        key = (policy.pk, day)
        if key not in self._segments:
            self._segments[key] = policy_segments(policy.steps, day, self.point(policy.commune))
        return self._segments[key]

    def policy_level(self, policy: Policy, moment: datetime) -> float:
        for start, end, level in self.segments(policy, night_of(moment)):
            if start <= moment < end:
                return level
        return 0.0

    def candidates(self, commune: str, group: str | None, day: date) -> list[Policy]:
        return [p for p in self.policies if p.commune == commune
                and in_scope(p.groups, group) and policy_applies(p, day)]  # fmt: skip

    def override_at(
        self, commune: str, group: str | None, moment: datetime
    ) -> CalendarOverride | None:
        found = [o for o in self.overrides if o.commune == commune
                 and in_scope(o.groups, group) and o.start <= moment < o.end]  # fmt: skip
        return found[-1] if found else None

    def pick(self, commune: str, group: str | None, moment: datetime) -> tuple[float, str]:
        override = self.override_at(commune, group, moment)
        if override is not None:
            if override.level is not None:
                return float(override.level), override.source
            if override.policy is not None:
                return self.policy_level(override.policy, moment), override.source
        for policy in self.candidates(commune, group, night_of(moment)):
            return self.policy_level(policy, moment), policy.source
        return (1.0 if sun.is_dark(moment, *self.point(commune)) else 0.0), DEFAULT

    def timeline(self, commune: str, group: str | None, day: date) -> list[Segment]:
        start, end = night_window(day)
        cuts = {start, end}
        point = self.point(commune)
        cuts.update(sun.night(day, *point))
        for policy in self.candidates(commune, group, day):
            cuts.update(s for s, _e, _l in self.segments(policy, day))
        for override in self.overrides:
            if override.commune != commune or not in_scope(override.groups, group):
                continue
            if override.end <= start or override.start >= end:
                continue
            cuts.update((override.start, override.end))
            if override.policy is not None:
                cuts.update(s for s, _e, _l in self.segments(override.policy, day))
        ordered = sorted(c for c in cuts if start <= c <= end)
        out: list[Segment] = []
        for a, b in pairwise(ordered):
            if a >= b:
                continue
            level, source = self.pick(commune, group, a)
            if out and out[-1].level == level and out[-1].source == source:
                out[-1] = out[-1]._replace(end=b)
            else:
                out.append(Segment(a, b, level, source))
        return out

    def at(self, commune: str, group: str | None, moment: datetime) -> Planned:
        """The level at ``moment`` and until when it holds (None: no change until the end of
        the next night)."""
        level, source = self.pick(commune, group, moment)
        day = night_of(moment)
        for night in (day, day + timedelta(days=1)):
            for segment in self.timeline(commune, group, night):
                if segment.end > moment and (segment.level, segment.source) != (level, source):
                    return Planned(level, source, segment.start)
        return Planned(level, source, None)


# --- Lamps and groups in the context ---------------------------------------------------------


def _refs(body: dict[str, Any], term: str) -> list[str]:
    """The entity ids a relationship (or a property holding ids) points to, whatever the
    @context its writer used (groups and lamps come from other writers too)."""
    value = rep.attribute_value(body, term, by_local_name=True, strict=True)
    found: list[str] = []
    for ref in value if isinstance(value, list) else [value]:
        if isinstance(ref, str) and ref not in found:
            found.append(ref)
    return found


def _text(body: dict[str, Any], term: str) -> str:
    refs = _refs(body, term)
    return refs[0] if refs else ""


def commune_of(entity_id: str) -> str:
    """The INSEE code in a lamp's or a group's id, or ""."""
    name = entity_id.rsplit(":", 1)[-1]
    found = _LAMP_COMMUNE.match(name) or _GROUP_COMMUNE.match(name)
    return found.group(1) if found else ""


@dataclass(frozen=True)
class Group:
    id: str
    commune: str
    name: str
    lamps: tuple[str, ...]
    cabinet: str


def _rows(prefix: str) -> Any:
    from alzette.territory.ngsild.models import Entity

    return Entity.objects.using(DB).filter(tenant=TENANT, entity_id__startswith=prefix)


def groups(commune: str | None = None) -> list[Group]:
    """The StreetlightGroups of the context (of ``commune``), by id."""
    prefix = GROUP_PREFIX + (f"{commune}-" if commune else "")
    out = []
    for row in _rows(prefix).order_by("entity_id").iterator(chunk_size=500):
        out.append(Group(id=row.entity_id, commune=commune_of(row.entity_id),
                         name=_text(row.body, "name") or row.entity_id.rsplit(":", 1)[-1],
                         lamps=tuple(_refs(row.body, "refStreetlight")),
                         cabinet=_text(row.body, "refStreetlightControlCabinet")))  # fmt: skip
    return out


def lamps(commune: str | None = None) -> dict[str, str | None]:
    """Every Streetlight of the context (of ``commune``) with its group (None if none)."""
    prefix = LAMP_PREFIX + (f"streetlight-{commune}-" if commune else "")
    by_ref = {lamp: g.id for g in groups(commune) for lamp in g.lamps}
    out: dict[str, str | None] = {}
    for row in _rows(prefix).order_by("entity_id").iterator(chunk_size=2000):
        own = _text(row.body, "refStreetlightGroup")
        out[row.entity_id] = own or by_ref.get(row.entity_id)
    return out


def target_of(entity_id: str) -> Target | None:
    """A lamp id, a group id or a commune's INSEE code as a lookup target, None if unknown."""
    from alzette.territory.ngsild import store

    entity_id = (entity_id or "").strip()
    if COMMUNE_CODE.match(entity_id):
        from alzette.territory.geo.models import TerritorialUnit, UnitKind

        units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)
        if units.exists() and not units.filter(code=entity_id).exists():
            return None
        return Target("commune", entity_id, entity_id, None)
    if entity_id.startswith(GROUP_PREFIX):
        if store.get(TENANT, entity_id) is None or not commune_of(entity_id):
            return None
        return Target("group", entity_id, commune_of(entity_id), entity_id)
    if entity_id.startswith(LAMP_PREFIX):
        row = store.get(TENANT, entity_id)
        commune = commune_of(entity_id)
        if row is None or not commune:
            return None
        group = _text(row.body, "refStreetlightGroup") or next(
            (g.id for g in groups(commune) if entity_id in g.lamps), None
        )
        return Target("lamp", entity_id, commune, group)
    return None


# --- The functions others call -----------------------------------------------------------------


def level_at(entity_id: str, moment: datetime | None = None) -> Planned:
    """The level planned for a lamp, a group or a commune at ``moment`` (now by default).
    LookupError when the id names nothing known."""
    target = target_of(entity_id)
    if target is None:
        raise LookupError(entity_id)
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return Resolver([target.commune]).at(target.commune, target.group, moment)


def plan(moment: datetime | None = None, resolver: Resolver | None = None) -> dict[str, Planned]:
    """Every lamp of the context with the level wanted at ``moment`` (now by default)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    resolver = resolver or Resolver()
    decided: dict[tuple[str, str | None], Planned] = {}
    out: dict[str, Planned] = {}
    for lamp, group in lamps().items():
        commune = commune_of(lamp)
        if not commune:
            continue
        key = (commune, group)
        if key not in decided:
            decided[key] = resolver.at(commune, group, moment)
        out[lamp] = decided[key]
    return out


def timeline(target: str, night: date) -> list[Segment]:
    """The levels over the night of ``night`` (noon to noon) for a group, a lamp or a
    commune (its lamps without a group): (start, end, level, source) in UTC."""
    found = target_of(target)
    if found is None:
        raise LookupError(target)
    return Resolver([found.commune]).timeline(found.commune, found.group, night)


def group_state(body: dict[str, Any]) -> tuple[float | None, str | None]:
    """A StreetlightGroup entity's own ``illuminanceLevel`` and ``activeProgramId``."""
    # strict: the default instance is the one ``sync_groups`` writes; another dataset's
    # level is not the group's own state.
    level = rep.attribute_value(body, "illuminanceLevel", by_local_name=True, strict=True)
    program = rep.attribute_value(body, "activeProgramId", by_local_name=True, strict=True)
    numeric = isinstance(level, int | float) and not isinstance(level, bool)
    return (float(level) if numeric else None), (program if isinstance(program, str) else None)


def sync_groups(moment: datetime | None = None, resolver: Resolver | None = None) -> int:
    """Keep each StreetlightGroup entity's ``illuminanceLevel`` (the level planned for its
    lamps) and ``activeProgramId`` (what decides it: ``policy:<id>``, ``override:<id>`` or
    ``default``) current; how many groups were written.

    Only a change is written, through the NGSI-LD entity operations (actor
    ``system:lighting``), so the group's history and subscriptions see it and an unchanged
    plan adds nothing to them. A group that refuses the write is logged and skipped: its
    lamps' commands matter more than its own state."""
    from alzette.territory.lighting.demo import context
    from alzette.territory.ngsild import entities, notifier
    from alzette.territory.ngsild.errors import NgsiLdError

    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    resolver = resolver or Resolver()
    op = entities.Op(tenant=TENANT, ctx=context(), actor=ACTOR)
    written = 0
    for row in _rows(GROUP_PREFIX).order_by("entity_id").iterator(chunk_size=500):
        commune = commune_of(row.entity_id)
        if not commune:
            continue
        level, source = resolver.pick(commune, row.entity_id, moment)
        current_level, current_program = group_state(row.body)
        if (current_program == source and current_level is not None
                and abs(current_level - level) < 1e-6):  # fmt: skip
            continue
        attributes = {"illuminanceLevel": {"type": "Property", "value": float(level)},
                      "activeProgramId": {"type": "Property", "value": source}}  # fmt: skip
        try:
            entities.append(op, row.entity_id, attributes)
        except NgsiLdError as exc:
            logger.warning("group %s not updated: %s", row.entity_id, exc)
            continue
        written += 1
    if written:
        notifier.flush()
    return written


def run_schedule(now: datetime | None = None) -> str:
    """The job: hand the current plan to the commands context and keep the groups' own
    level and programme current; a one-line summary."""
    from alzette.territory.lighting.commands.services import apply_plan

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    resolver = Resolver()
    planned = plan(moment, resolver)
    if not planned:
        return "no streetlight in the context"
    sent = apply_plan({lamp: p.level for lamp, p in planned.items()},
                      source={lamp: p.source for lamp, p in planned.items()},
                      actor=ACTOR)  # fmt: skip
    groups_written = sync_groups(moment, resolver)
    sources = sorted({p.source for p in planned.values()})
    return (f"{len(planned)} lamps planned ({', '.join(sources)}), {len(sent)} commands sent, "
            f"{groups_written} groups updated")  # fmt: skip
