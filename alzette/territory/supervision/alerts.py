"""The alert engine: rules agents wrote, tested when an entity changes or falls silent.

``on_change`` is one of the NGSI-LD ``entities.change_hooks``: it runs inside the
transaction of every entity write (the API, batch operations, the oneM2M
mapping), so an alert exists exactly when the change that raised it committed.
Only rules whose attribute changed in that write are tested. ``check_no_data``
is run by the worker (``alzette supervision check``) for "no data" rules.

An alert is fired once per (rule, entity) while one is open (firing or
acknowledged): a partial unique constraint guards it even across processes.
Threshold, geofence and "no data" alerts close themselves when a new reading shows
the condition has cleared (``closed_by`` "system"); a rate alert marks an event and
stays until an agent closes it.
``alert_fired(sender, alert)`` is sent after the commit (``alerts_fired(sender,
alerts)`` for a burst); the personal side mails the agents
(``alzette.personal.accounts.alertmail``).
"""

from __future__ import annotations

import fnmatch
import logging
import operator
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild import store
from alzette.territory.ngsild.entities import local_name
from alzette.territory.ngsild.models import Entity, EntityType
from alzette.territory.supervision import services
from alzette.territory.supervision.models import Alert, AlertRule

logger = logging.getLogger(__name__)
DB = "territory"

#: Sent after the commit of a new alert: ``alert_fired.send(sender=Alert, alert=alert)``.
alert_fired = Signal()
#: Sent instead, after the commit of a burst fired together ("no data" on an outage):
#: ``alerts_fired.send(sender=Alert, alerts=[...])``; receivers connect to both.
alerts_fired = Signal()
#: Alerts fired or closed together by one insert and one ledger append.
BURST = 500

OPERATORS = {
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt,
    "le": operator.le, "eq": operator.eq, "ne": operator.ne,
}  # fmt: skip
SYMBOLS = dict(AlertRule.Operator.choices)
#: Other processes see a changed rule after this many seconds at most.
RULES_TTL = 10.0
_rules_cache: dict[str, Any] = {"at": 0.0, "rules": None}


def forget_rules() -> None:
    """Drop the cached rules (called when a rule is saved in this process)."""
    _rules_cache["at"] = 0.0


def _rules() -> list[AlertRule]:
    now = time.monotonic()
    if _rules_cache["rules"] is None or now - _rules_cache["at"] > RULES_TTL:
        _rules_cache["rules"] = list(
            AlertRule.objects.using(DB)
            .filter(enabled=True)
            .exclude(kind__in=(AlertRule.Kind.NODATA, AlertRule.Kind.DETECTOR))
        )
        _rules_cache["at"] = now
    return _rules_cache["rules"]


# --- entry points ----------------------------------------------------------------------


def on_change(op: Any, writes: list[store.Write], deleted: list[Entity]) -> None:
    """``entities.change_hooks``: test the rules on the entities this write changed, and
    close the open alerts of the entities it deleted (nothing left to watch)."""
    rules = _rules()
    if not (rules and writes) and not deleted:
        return
    try:
        with transaction.atomic(using=DB):  # a savepoint: a failure here leaves the write whole
            for write in writes if rules else []:
                _evaluate(op.tenant, write.row, rules, _changed(write))
            for row in deleted:
                _close_deleted(row.entity_id)
    except Exception:  # an alert never fails the write that raised it
        logger.exception("alert rules could not be evaluated")


def _close_deleted(entity_id: str) -> None:
    """Close every open alert (rules and detectors) of an entity deleted from the context."""
    open_rules = (
        Alert.objects.using(DB).filter(entity_id=entity_id, state__in=Alert.OPEN)
        .values_list("rule_id", flat=True)
    )  # fmt: skip
    comment = _back(gettext_noop("Closed: %(entity)s was deleted."), entity=entity_id)
    for rule in AlertRule.objects.using(DB).filter(pk__in=list(open_rules)):
        _close_open(rule, entity_id, comment, by="deletion")


def evaluate_entity(tenant: str, entity_id: str) -> list[Alert]:
    """Test every enabled rule on one entity as it is now; the alerts fired."""
    row = store.get(tenant, entity_id)
    if row is None:
        return []
    forget_rules()
    return _evaluate(tenant, row, _rules(), None)


def check_no_data(now: datetime | None = None) -> list[Alert]:
    """Fire "no data" rules for entities whose attribute was not observed for N minutes,
    and close the alerts of those heard from again."""
    now = now or datetime.now(UTC)
    fired: list[Alert] = []
    for rule in AlertRule.objects.using(DB).filter(enabled=True, kind=AlertRule.Kind.NODATA):
        fired += _check_silence(rule, now)
    return fired


def _check_silence(rule: AlertRule, now: datetime) -> list[Alert]:
    """One "no data" rule over its entities. A network outage silences thousands of
    devices at once (and brings them back at once): alerts are fired and closed by
    batches of ``BURST``, each one insert, one ledger append and one signal."""
    cutoff = now - timedelta(minutes=rule.minutes or 60)
    open_ids = set(
        Alert.objects.using(DB).filter(rule=rule, state__in=Alert.OPEN)
        .values_list("entity_id", flat=True)
    )  # fmt: skip
    fired: list[Alert] = []
    due: list[tuple[str, Any, str]] = []
    heard: dict[str, str] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for row in _entities_of_type(rule.entity_type):
            if not _selected(rule, row):
                continue
            last = _last_observed(row, rule.attribute)
            if last is not None and last >= cutoff:
                if row.entity_id in open_ids:
                    heard[row.entity_id] = gettext("%(attribute)s observed again at %(at)s.") % {
                        "attribute": rule.attribute, "at": rep.iso(last)}  # fmt: skip
                    if len(heard) >= BURST:
                        _close_many(rule, heard, by="rule")
                        heard = {}
                continue
            if row.entity_id not in open_ids:
                due.append((row.entity_id, rep.iso(last) if last else None,
                            _silence(rule, last, now)))  # fmt: skip
                if len(due) >= BURST:
                    fired += _fire_many(rule, due, now)
                    due = []
    _close_many(rule, heard, by="rule")
    return fired + _fire_many(rule, due, now)


def _silence(rule: AlertRule, last: datetime | None, now: datetime) -> str:
    """The message of a "no data" alert (in the active language)."""
    if last is None:
        return gettext("No %(attribute)s received yet.") % {"attribute": rule.attribute}
    minutes = int((now - last).total_seconds() // 60)
    return gettext("No %(attribute)s for %(minutes)d minutes (limit %(limit)d).") % {
        "attribute": rule.attribute, "minutes": minutes, "limit": rule.minutes}  # fmt: skip


# --- detectors ---------------------------------------------------------------------------


def detector_rule(
    key: str,
    *,
    name: str,
    entity_type: str,
    attribute: str,
    severity: str = AlertRule.Severity.WARNING,
) -> AlertRule:
    """The rule a platform detector fires through, created (enabled) the first time.

    Agents see it among the rules and may disable it or change its severity; its
    test lives in the detector's code (docs/supervision.md, "Detectors")."""
    rule = AlertRule.objects.using(DB).filter(detector=key).first()
    if rule is not None:
        return rule
    try:
        with transaction.atomic(using=DB):
            return AlertRule.objects.using(DB).create(
                detector=key, name=name, entity_type=entity_type, attribute=attribute,
                kind=AlertRule.Kind.DETECTOR, severity=severity, created_by="system",
                unit=services.EPCI,
            )  # fmt: skip
    except IntegrityError:  # another process created it a moment ago
        return AlertRule.objects.using(DB).get(detector=key)


def raise_detected(
    rule: AlertRule, entity_id: str, value: Any, message: str, at: datetime | None = None
) -> Alert | None:
    """Fire the detector's alert for ``entity_id`` (None when the rule is disabled or an
    alert is already open for it). Call inside or outside a transaction."""
    if not rule.enabled:
        return None
    return _fire(rule, entity_id, value, message, at or datetime.now(UTC))


def clear_detected(rule: AlertRule, entity_id: str, comment: str) -> int:
    """Close the detector's open alert on ``entity_id`` once its condition has cleared;
    how many were closed (recorded in the ledger like an agent's closing)."""
    return _close_open(rule, entity_id, comment, by="detector")


def _close_open(rule: AlertRule, entity_id: str, comment: str, by: str = "rule") -> int:
    """Close the open alerts of ``rule`` on ``entity_id`` as the system (the condition
    cleared), recorded in the ledger like an agent's closing; how many."""
    now = datetime.now(UTC)
    closed = 0
    for alert in Alert.objects.using(DB).filter(rule=rule, entity_id=entity_id,
                                                state__in=Alert.OPEN):  # fmt: skip
        alert.state, alert.closed_at, alert.closed_by = Alert.State.CLOSED, now, "system"
        alert.comment = (alert.comment + "\n" + comment).strip()[:2000]
        alert.save(using=DB, update_fields=["state", "closed_at", "closed_by", "comment"])
        payload = {"alert": alert.pk, "by": by, "comment": comment[:200]}
        services.record("alert.closed", "system:supervision", f"alert:{alert.pk}", payload)
        closed += 1
    return closed


def _close_many(rule: AlertRule, comments: dict[str, str], by: str) -> int:
    """Close the open alerts of ``rule`` on many entities at once (``{entity_id:
    comment}``): one update per batch and one ledger append; how many."""
    if not comments:
        return 0
    now = datetime.now(UTC)
    with transaction.atomic(using=DB):
        found = list(
            Alert.objects.using(DB).select_for_update()
            .filter(rule=rule, entity_id__in=list(comments), state__in=Alert.OPEN)
        )  # fmt: skip
        for alert in found:
            comment = comments[alert.entity_id]
            alert.state, alert.closed_at, alert.closed_by = Alert.State.CLOSED, now, "system"
            alert.comment = (alert.comment + "\n" + comment).strip()[:2000]
        # The same state for all in one statement; only the comments differ per row.
        Alert.objects.using(DB).filter(pk__in=[a.pk for a in found]).update(
            state=Alert.State.CLOSED, closed_at=now, closed_by="system"
        )
        Alert.objects.using(DB).bulk_update(found, ["comment"], batch_size=BURST)
        services.record_many("alert.closed", "system:supervision", [
            (f"alert:{a.pk}", {"alert": a.pk, "by": by,
                               "comment": comments[a.entity_id][:200]})
            for a in found
        ])  # fmt: skip
    return len(found)


def _back(text: str, **values: Any) -> str:
    """A "back to normal" comment, in the platform's language like the alerts' messages."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text) % values


# --- evaluation --------------------------------------------------------------------------


def _changed(write: store.Write) -> set[str] | None:
    """Local names of the attributes this write changed (None: all, a new entity)."""
    if write.before is None:
        return None
    body = write.row.body
    names = {iri for iri in set(body) | set(write.before) if body.get(iri) != write.before.get(iri)}
    return {local_name(iri) for iri in names}


def _evaluate(
    tenant: str, row: Entity, rules: list[AlertRule], changed: set[str] | None
) -> list[Alert]:
    types = {local_name(t) for t in row.types}
    fired = []
    for rule in rules:
        if rule.entity_type not in types or rule.kind == AlertRule.Kind.NODATA:
            continue
        if changed is not None and rule.attribute not in changed:
            continue
        if not _selected(rule, row):
            continue
        instance = _instance(row, rule.attribute)
        if instance is None:
            continue
        verdict = TESTS[rule.kind](tenant, row, rule, instance)
        if verdict is None:
            cleared = CLEARED.get(rule.kind)
            comment = cleared(rule, row, instance) if cleared else None
            if comment:
                _close_open(rule, row.entity_id, comment)
            continue
        value, message = verdict
        alert = _fire(rule, row.entity_id, value, message, datetime.now(UTC))
        if alert is not None:
            fired.append(alert)
    return fired


def _selected(rule: AlertRule, row: Entity) -> bool:
    if rule.entity_pattern and not fnmatch.fnmatchcase(row.entity_id, rule.entity_pattern):
        return False
    return not rule.commune or in_commune(row, rule.commune)


def _instance(row: Entity, attribute: str) -> dict[str, Any] | None:
    for iri, instances in row.body.items():
        if local_name(iri) == attribute and instances:
            return instances[0]
    return None


def _number(instance: dict[str, Any]) -> float | None:
    value = instance.get("value")
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _threshold(tenant: str, row: Entity, rule: AlertRule, instance: dict) -> tuple | None:
    value = _number(instance)
    if value is None or rule.value is None or not OPERATORS[rule.operator](value, rule.value):
        return None
    with translation.override(settings.LANGUAGE_CODE):
        message = gettext("%(attribute)s is %(value)s (rule: %(operator)s %(limit)s).") % {
            "attribute": rule.attribute, "value": _fmt(value),
            "operator": SYMBOLS[rule.operator], "limit": _fmt(rule.value),
        }  # fmt: skip
    return value, message


def _rate(tenant: str, row: Entity, rule: AlertRule, instance: dict) -> tuple | None:
    from alzette.territory.ngsild import temporal

    now = _number(instance)
    iri = next(iri for iri in row.body if local_name(iri) == rule.attribute)
    if now is None or rule.value is None or not rule.minutes:
        return None
    end = _observed(instance) or datetime.now(UTC)
    start = end - timedelta(minutes=rule.minutes)
    found = temporal.history(tenant, [row.entity_id], {iri}, temporal.TimeQuery("after", start))
    points = [(_observed(i), _number(i)) for i in found[row.entity_id].attributes.get(iri, [])]
    points = [(t, v) for t, v in points if t is not None and v is not None and t <= end]
    points.append((end, now))
    points.sort(key=lambda p: p[0])
    first_t, first_v = points[0]
    hours = (end - first_t).total_seconds() / 3600
    if hours < 1 / 60:  # under a minute apart: no meaningful rate
        return None
    rate = (now - first_v) / hours
    if not OPERATORS[rule.operator](rate, rule.value):
        return None
    with translation.override(settings.LANGUAGE_CODE):
        message = gettext(
            "%(attribute)s changes by %(rate)s per hour (rule: %(operator)s %(limit)s)."
        ) % {"attribute": rule.attribute, "rate": _fmt(rate),
             "operator": SYMBOLS[rule.operator], "limit": _fmt(rule.value)}  # fmt: skip
    return round(rate, 6), message


def _geofence(tenant: str, row: Entity, rule: AlertRule, instance: dict) -> tuple | None:
    from alzette.core import spatial

    try:
        where = spatial.parse_geometry(instance.get("value"))
    except spatial.SpatialError:
        return None
    area = _area(rule)
    if area is None:
        return None
    inside = area.intersects(where)
    if inside == (rule.direction == AlertRule.Direction.LEAVES):
        return None
    with translation.override(settings.LANGUAGE_CODE):
        message = (
            gettext("%(entity)s is outside its area.")
            if rule.direction == AlertRule.Direction.LEAVES
            else gettext("%(entity)s entered the watched area.")
        ) % {"entity": row.entity_id}
    return instance.get("value"), message


TESTS = {
    AlertRule.Kind.THRESHOLD: _threshold,
    AlertRule.Kind.RATE: _rate,
    AlertRule.Kind.GEOFENCE: _geofence,
}


def _threshold_cleared(rule: AlertRule, row: Entity, instance: dict) -> str | None:
    """The comment closing a threshold alert, when the value is known and back in range."""
    value = _number(instance)
    if value is None or rule.value is None or OPERATORS[rule.operator](value, rule.value):
        return None
    return _back(gettext_noop("Back to normal: %(attribute)s is %(value)s."),
                 attribute=rule.attribute, value=_fmt(value))  # fmt: skip


def _geofence_cleared(rule: AlertRule, row: Entity, instance: dict) -> str | None:
    """The comment closing a geofence alert, when the location is known and fine again."""
    from alzette.core import spatial

    area = _area(rule)
    try:
        where = spatial.parse_geometry(instance.get("value"))
    except spatial.SpatialError:
        return None
    if area is None or area.intersects(where) != (rule.direction == AlertRule.Direction.LEAVES):
        return None
    if rule.direction == AlertRule.Direction.LEAVES:
        return _back(gettext_noop("Back to normal: %(entity)s is inside its area again."),
                     entity=row.entity_id)  # fmt: skip
    return _back(gettext_noop("Back to normal: %(entity)s left the watched area."),
                 entity=row.entity_id)  # fmt: skip


#: Rule kinds whose alert closes itself when a reading shows the condition cleared.
CLEARED = {AlertRule.Kind.THRESHOLD: _threshold_cleared, AlertRule.Kind.GEOFENCE: _geofence_cleared}


def _fire(rule: AlertRule, entity_id: str, value: Any, message: str, at: datetime) -> Alert | None:
    """A new alert, unless one is open for this rule and entity."""
    found = Alert.objects.using(DB)
    if found.filter(rule=rule, entity_id=entity_id, state__in=Alert.OPEN).exists():
        return None
    try:
        with transaction.atomic(using=DB):
            alert = found.create(rule=rule, entity_id=entity_id, value=value,
                                 message=message[:500], fired_at=at)  # fmt: skip
    except IntegrityError:  # another process fired it a moment ago
        return None
    services.record("alert.fired", "system:supervision", f"alert:{alert.pk}", _fired(alert))
    transaction.on_commit(lambda: _announce([alert]), using=DB)
    return alert


def _fire_many(rule: AlertRule, due: list[tuple[str, Any, str]], at: datetime) -> list[Alert]:
    """New alerts of ``rule`` for ``(entity_id, value, message)`` not open yet (the
    caller checked): one insert, one ledger append, one ``alerts_fired`` signal. If
    another process fired some meanwhile, the batch falls back to one by one."""
    if len(due) <= 1:
        return [a for e, v, m in due if (a := _fire(rule, e, v, m, at)) is not None]
    try:
        with transaction.atomic(using=DB):
            alerts = Alert.objects.using(DB).bulk_create(
                [Alert(rule=rule, entity_id=e, value=v, message=m[:500], fired_at=at)
                 for e, v, m in due],
                batch_size=BURST,
            )  # fmt: skip
            services.record_many("alert.fired", "system:supervision",
                                 [(f"alert:{a.pk}", _fired(a)) for a in alerts])  # fmt: skip
    except IntegrityError:  # the partial unique constraint: someone was quicker
        return [a for e, v, m in due if (a := _fire(rule, e, v, m, at)) is not None]
    transaction.on_commit(lambda: _announce(alerts), using=DB)
    return alerts


def _fired(alert: Alert) -> dict[str, Any]:
    """The ledger payload of a fired alert (a geometry is only named)."""
    value = alert.value if not isinstance(alert.value, dict) else "geometry"
    return {"alert": alert.pk, "rule": alert.rule_id, "entity": alert.entity_id, "value": value}


def _announce(alerts: list[Alert]) -> None:
    """Tell the receivers, after the commit: ``alert_fired`` for a single alert,
    ``alerts_fired`` for a burst (never both)."""
    if len(alerts) == 1:
        sent = alert_fired.send_robust(sender=Alert, alert=alerts[0])
    else:
        sent = alerts_fired.send_robust(sender=Alert, alerts=alerts)
    for receiver, result in sent:
        if isinstance(result, Exception):
            logger.error("receiver %r of an alert signal failed: %r", receiver, result)


# --- places and times ---------------------------------------------------------------------


def in_commune(row: Entity, code: str) -> bool:
    """Whether the entity lies in the commune: by its location, else by its id
    (device names carry the INSEE code: bin-57038-001)."""
    from alzette.core import spatial

    location = _instance(row, "location")
    commune = _commune_geometry(code)
    if location is not None and commune is not None:
        try:
            return commune.intersects(spatial.parse_geometry(location.get("value")))
        except spatial.SpatialError:
            pass
    return f"-{code}-" in row.entity_id or row.entity_id.endswith(f"-{code}")


_communes: dict[str, Any] = {}


def _commune_geometry(code: str) -> Any:
    """A commune's outline (kept once found: communes do not move)."""
    from alzette.core import spatial
    from alzette.territory.geo.models import TerritorialUnit

    if code in _communes:
        return _communes[code]
    unit = TerritorialUnit.objects.filter(code=code).first()
    if unit is None or not unit.geometry:
        return None
    try:
        _communes[code] = spatial.parse_geometry(unit.geometry)
    except spatial.SpatialError:
        return None
    return _communes[code]


def _area(rule: AlertRule) -> Any:
    from alzette.core import spatial

    if rule.area_commune:
        return _commune_geometry(rule.area_commune)
    try:
        return spatial.parse_geometry(rule.area)
    except spatial.SpatialError:
        return None


def _observed(instance: dict[str, Any]) -> datetime | None:
    for member in ("observedAt", "modifiedAt", "createdAt"):
        text = instance.get(member)
        if isinstance(text, str):
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _last_observed(row: Entity, attribute: str) -> datetime | None:
    instance = _instance(row, attribute)
    return _observed(instance) if instance is not None else None


def _entities_of_type(name: str) -> Any:
    """Entities of a type given by its short name, in chunks (only what is needed)."""
    from django.db.models import Q

    iris = EntityType.objects.using(DB).filter(
        Q(type_iri=name) | Q(type_iri__endswith=f"/{name}") | Q(type_iri__endswith=f"#{name}")
    )
    rows = Entity.objects.using(DB).filter(pk__in=iris.values("entity_id"))
    return rows.only("entity_id", "types", "body").iterator(chunk_size=500)


def _fmt(number: float) -> str:
    return f"{number:.4g}"
