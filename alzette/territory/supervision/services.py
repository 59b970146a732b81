"""Alert rules and alerts: writing them, acknowledging and closing, all recorded.

Every change goes to the ledger (``alert_rule.changed``, ``alert.acknowledged``,
``alert.closed``; ``alert.fired`` is written by the engine, ``alerts.py``) and its
opening is kept here in ``LedgerRecord``, which is also the history the pages show.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from alzette.territory.supervision.models import Alert, AlertRule, LedgerRecord

DB = "territory"
_OBJECT = re.compile(r"[a-z][a-z0-9_.-]{0,47}:[A-Za-z0-9_.:-]{1,150}")
EPCI = "CCPHVA"


def record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    """A ledger entry and its opening (payload and salt) kept beside the data."""
    from alzette.ledger import services as ledger

    object_ref = _spelt(object_ref)
    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=DB,
        object_ref=object_ref, actor=actor,
    )  # fmt: skip


def record_many(kind: str, actor: str, entries: list[tuple[str, dict[str, Any]]]) -> None:
    """``record`` for a burst of ``(object_ref, payload)``: one ledger append and one
    insert of the openings."""
    from alzette.ledger import services as ledger

    items = []
    for object_ref, payload in entries:
        ref = _spelt(object_ref)
        items.append((kind, actor, ref, payload, {"object_ref": ref, "actor": actor}))
    ledger.record_openings(LedgerRecord, items, using=DB)


def _spelt(object_ref: str) -> str:
    """The object as the ledger can spell it: its hash when the name does not fit."""
    if _OBJECT.fullmatch(object_ref):
        return object_ref
    prefix = object_ref.split(":", 1)[0] if ":" in object_ref else "object"
    return f"{prefix}:{hashlib.sha256(object_ref.encode()).hexdigest()[:40]}"


# --- Who may do what -------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """The territory's view of a signed-in person (read by attributes)."""

    agent: bool = False
    unit: str = ""
    ref: str = ""

    @property
    def epci(self) -> bool:
        return self.unit == EPCI


def actor_of(user: Any) -> Actor:
    if not getattr(user, "is_authenticated", False):
        return Actor()
    role = getattr(user, "role", "")
    unit = getattr(getattr(user, "unit", None), "code", "") or ""
    if role == "administrator":
        unit = unit or EPCI
    return Actor(agent=role in ("agent", "administrator"), unit=unit,
                 ref=getattr(user, "pseudonym", "") or "")  # fmt: skip


def rule_abilities(actor: Actor, rule: AlertRule | None = None) -> dict[str, bool]:
    """Agents see every rule; they change those of their unit (the EPCI's agents, all)."""
    mine = actor.agent and (rule is None or actor.epci or rule.unit == actor.unit)
    # A detector's rule is the platform's: its test is code; agents turn it off or on.
    edit = mine and not (rule is not None and rule.detector)
    return {"view": actor.agent, "create": actor.agent, "change": mine, "edit": edit}


def alert_abilities(actor: Actor, alert: Alert) -> dict[str, bool]:
    mine = actor.agent and (actor.epci or alert.rule.unit == actor.unit)
    return {
        "view": actor.agent,
        "acknowledge": mine and alert.state == Alert.State.FIRING,
        "close": mine and alert.state != Alert.State.CLOSED,
    }


class NotAllowed(Exception):
    pass


# --- Rules -------------------------------------------------------------------------------

RULE_FIELDS = ("name", "entity_type", "attribute", "entity_pattern", "commune", "kind",
               "operator", "value", "minutes", "area", "area_commune", "direction",
               "severity", "enabled")  # fmt: skip
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,199}$")
_INSEE = re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$")


def check_rule(data: dict[str, Any]) -> dict[str, Any]:
    """The rule's fields, completed and checked; ValidationError names each fault."""
    errors: dict[str, str] = {}
    out = {name: data.get(name) for name in RULE_FIELDS}
    for name in ("entity_pattern", "commune", "operator", "area_commune", "direction"):
        out[name] = (out[name] or "").strip()
    out["name"] = (out["name"] or "").strip()
    out["severity"] = out["severity"] or AlertRule.Severity.WARNING
    out["enabled"] = True if out["enabled"] is None else bool(out["enabled"])
    if not out["name"]:
        errors["name"] = _("Give the rule a name.")
    for name in ("entity_type", "attribute"):
        out[name] = (out[name] or "").strip()
    if not _NAME.match(out["entity_type"]):
        errors["entity_type"] = _("An entity type is a name such as WasteContainer.")
    kind = out["kind"]
    if kind == AlertRule.Kind.GEOFENCE and not out["attribute"]:
        out["attribute"] = "location"
    if not _NAME.match(out["attribute"]):
        errors["attribute"] = _("An attribute is a name such as fillingLevel.")
    if out["entity_pattern"] and not out["entity_pattern"].startswith(("urn:", "*")):
        errors["entity_pattern"] = _(
            "A pattern is an entity id where * stands for any text, such as "
            "urn:ngsi-ld:WasteContainer:bin-57038-*."
        )
    if out["commune"] and not _INSEE.match(out["commune"]):
        errors["commune"] = _("A commune is given by its INSEE code (5 characters).")
    if out["severity"] not in AlertRule.Severity.values:
        errors["severity"] = _("Choose a severity.")
    if kind not in AlertRule.Kind.values or kind == AlertRule.Kind.DETECTOR:
        errors["kind"] = _("Choose the kind of rule.")
    elif kind in (AlertRule.Kind.THRESHOLD, AlertRule.Kind.RATE):
        if out["operator"] not in AlertRule.Operator.values:
            errors["operator"] = _("Choose how the value is compared.")
        if not isinstance(out["value"], int | float) or isinstance(out["value"], bool):
            errors["value"] = _("Give the number the value is compared with.")
        if kind == AlertRule.Kind.RATE and not _positive(out["minutes"]):
            errors["minutes"] = _("Give the window, in minutes, over which the change is measured.")
    elif kind == AlertRule.Kind.NODATA:
        if not _positive(out["minutes"]):
            errors["minutes"] = _("Give how many minutes without data raise the alert.")
    elif kind == AlertRule.Kind.GEOFENCE:
        _check_area(out, errors)
    if kind != AlertRule.Kind.GEOFENCE:
        out.update(area=None, area_commune="", direction="")
    if kind in (AlertRule.Kind.NODATA, AlertRule.Kind.GEOFENCE):
        out.update(operator="", value=None)
    if kind in (AlertRule.Kind.THRESHOLD, AlertRule.Kind.GEOFENCE):
        out["minutes"] = None
    if errors:
        raise ValidationError(errors)
    return out


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 525_600


def _check_area(out: dict[str, Any], errors: dict[str, str]) -> None:
    from alzette.core import spatial

    if out["direction"] not in AlertRule.Direction.values:
        errors["direction"] = _("Say whether the alert fires when leaving or entering the area.")
    if out["area_commune"]:
        if not _INSEE.match(out["area_commune"]):
            errors["area_commune"] = _("A commune is given by its INSEE code (5 characters).")
        out["area"] = None
        return
    area = out["area"]
    if not area:
        errors["area"] = _("Give the area: a commune, or a polygon in GeoJSON.")
        return
    try:
        geometry = spatial.parse_geometry(area)
    except spatial.SpatialError as exc:
        errors["area"] = str(exc)
        return
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        errors["area"] = _("The area must be a Polygon or a MultiPolygon.")


def save_rule(actor: Actor, data: dict[str, Any], rule: AlertRule | None = None) -> AlertRule:
    """Create a rule (for the actor's unit) or change one; recorded in the ledger."""
    if not rule_abilities(actor, rule)["edit" if rule else "create"]:
        raise NotAllowed
    fields = check_rule(data)
    with transaction.atomic(using=DB):
        if rule is None:
            rule = AlertRule(created_by=actor.ref, unit=actor.unit or EPCI)
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.save(using=DB)
    from alzette.territory.supervision import alerts

    alerts.forget_rules()
    payload = {name: getattr(rule, name) for name in RULE_FIELDS}
    record("alert_rule.changed", _ref(actor), f"alert_rule:{rule.pk}", payload)
    return rule


def set_enabled(actor: Actor, rule: AlertRule, enabled: bool) -> AlertRule:
    if rule.detector:
        return _toggle_detector(actor, rule, enabled)
    fields = {name: getattr(rule, name) for name in RULE_FIELDS}
    return save_rule(actor, {**fields, "enabled": enabled}, rule)


def _toggle_detector(actor: Actor, rule: AlertRule, enabled: bool) -> AlertRule:
    if not rule_abilities(actor, rule)["change"]:
        raise NotAllowed
    rule.enabled = enabled
    rule.save(using=DB, update_fields=["enabled", "updated_at"])
    from alzette.territory.supervision import alerts

    alerts.forget_rules()
    payload = {"detector": rule.detector, "enabled": enabled}
    record("alert_rule.changed", _ref(actor), f"alert_rule:{rule.pk}", payload)
    return rule


# --- Alerts -------------------------------------------------------------------------------


def acknowledge(actor: Actor, alert_id: int, comment: str = "") -> Alert:
    with transaction.atomic(using=DB):
        alert = _locked(alert_id)
        if not alert_abilities(actor, alert)["acknowledge"]:
            raise NotAllowed
        alert.state = Alert.State.ACKNOWLEDGED
        alert.acknowledged_at = datetime.now(UTC)
        alert.acknowledged_by = actor.ref
        alert.comment = _comment(alert.comment, comment)
        alert.save(using=DB)
    record("alert.acknowledged", _ref(actor), f"alert:{alert.pk}",
           {"alert": alert.pk, "rule": alert.rule_id, "comment": comment})  # fmt: skip
    return alert


def close(actor: Actor, alert_id: int, comment: str = "") -> Alert:
    with transaction.atomic(using=DB):
        alert = _locked(alert_id)
        if not alert_abilities(actor, alert)["close"]:
            raise NotAllowed
        alert.state = Alert.State.CLOSED
        alert.closed_at = datetime.now(UTC)
        alert.closed_by = actor.ref
        alert.comment = _comment(alert.comment, comment)
        alert.save(using=DB)
    record("alert.closed", _ref(actor), f"alert:{alert.pk}",
           {"alert": alert.pk, "rule": alert.rule_id, "comment": comment})  # fmt: skip
    return alert


def _locked(alert_id: int) -> Alert:
    found = Alert.objects.using(DB).select_for_update().select_related("rule")
    return found.get(pk=alert_id)


def _comment(before: str, added: str) -> str:
    added = (added or "").strip()[:2000]
    return f"{before}\n{added}".strip() if added else before


def _ref(actor: Actor) -> str:
    return actor.ref if re.fullmatch(r"[0-9a-f]{32}", actor.ref) else "system:supervision"


def unacknowledged_count() -> int:
    """Firing alerts (not yet acknowledged): for a header badge."""
    return Alert.objects.using(DB).filter(state=Alert.State.FIRING).count()


def history(object_ref: str) -> list[LedgerRecord]:
    return list(LedgerRecord.objects.using(DB).filter(object_ref=object_ref))


def matches_pattern(pattern: str, entity_id: str) -> bool:
    return not pattern or fnmatch.fnmatchcase(entity_id, pattern)
