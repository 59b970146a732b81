"""Streetlight faults and repairs, the domain.

Three sources open a repair on an asset (a lamp, or a control cabinet): the device
itself (a fault in its oneM2M reports, ``receivers``), an agent, and citizens,
whose reports arrive anonymised as ``TerritoryEvent`` rows the bridge wrote (kind
``streetlight_fault``, the lamp's entity id in ``asset_ref``). An asset has at most
one open repair: another report joins it. Agents plan, start and close repairs;
closing one closes the citizens' events it holds (the bridge's ``close_event`` is
then a no-op). Every change is recorded in the ledger (``lighting_repair.changed``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.core.repositories import TERRITORY
from alzette.territory.events.models import TerritoryEvent
from alzette.territory.lighting.repairs.models import EVENT_KIND, LedgerRecord, Repair

DB = TERRITORY
TENANT = ""
STREETLIGHTING_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/"
    "master/context.jsonld"
)
LAMP_PREFIX = "urn:ngsi-ld:Streetlight:streetlight-"
CABINET_PREFIX = "urn:ngsi-ld:StreetlightControlCabinet:cabinet-"
EPCI = "CCPHVA"
#: The number on a pole: the commune's INSEE code and the lamp's number, ``57038-001``.
POLE_NUMBER = re.compile(r"^\s*(\d[0-9AB]\d{3})\s*[- ]\s*(\d{1,4})\s*$")
#: Lamp faults (SDM Streetlight ``status``) and the one this module infers.
LAMP_FAULTS = ("defectiveLamp", "columnIssue", "brokenLantern")
LAMP_OUT = "lampOut"
#: What citizens may say is wrong (the procedure's choices).
CITIZEN_FAULTS = ("off", "flickering", "on-by-day", "damaged")
LAMP_RULE = "lighting.lamp-fault"
CABINET_RULE = "lighting.cabinet-fault"


class UnknownLamp(ValidationError):
    """No Streetlight (or cabinet) entity of that id or number."""


class TransitionError(ValidationError):
    pass


# --- Assets ----------------------------------------------------------------------------------


@cache
def context() -> Any:
    from alzette.territory.ngsild import jsonld

    return jsonld.resolve(STREETLIGHTING_CONTEXT)


@dataclass(frozen=True)
class Asset:
    id: str  # the full NGSI-LD entity id
    kind: str  # "lamp" or "cabinet"
    number: str  # "57038-001" (the pole's number) or "57038-1" (a cabinet)
    commune: str
    lon: float | None
    lat: float | None
    address: str
    status: str
    cabinet: str = ""  # the lamp's control cabinet (refStreetlightControlCabinet)


def entity_id(reference: str) -> str:
    """The entity id of a pole number (``57038-001``), a device name or an entity id;
    the reference unchanged when it is none of them."""
    reference = (reference or "").strip()
    found = POLE_NUMBER.match(reference)
    if found:
        return f"{LAMP_PREFIX}{found.group(1)}-{int(found.group(2)):03d}"
    if reference.startswith(("streetlight-", "cabinet-")):
        kind = (
            "Streetlight" if reference.startswith("streetlight-") else "StreetlightControlCabinet"
        )
        return f"urn:ngsi-ld:{kind}:{reference}"
    return reference


def asset(reference: str) -> Asset | None:
    """The lamp or cabinet named by ``reference`` (see ``entity_id``), None if unknown."""
    from alzette.territory.ngsild import representation as rep
    from alzette.territory.ngsild import store

    full = entity_id(reference)
    if not full.startswith((LAMP_PREFIX, CABINET_PREFIX)):
        return None
    row = store.get(TENANT, full)
    if row is None:
        return None
    kind = "lamp" if full.startswith(LAMP_PREFIX) else "cabinet"
    wanted = "Streetlight" if kind == "lamp" else "StreetlightControlCabinet"
    if not any(rep.local_name(t) == wanted for t in row.types):
        return None
    ctx = context()
    point = rep.attribute_value(row.body, "location", ctx=ctx) or {}
    try:
        lon, lat = (float(c) for c in point["coordinates"][:2])
    except (TypeError, KeyError, ValueError):
        lon = lat = None
    address = rep.attribute_value(row.body, "address", ctx=ctx)
    if isinstance(address, dict):
        address = address.get("streetAddress") or ""
    number = full.rsplit(":", 1)[-1].split("-", 1)[1]
    status = rep.attribute_value(row.body, "status", ctx=ctx)
    cabinet = rep.attribute_value(row.body, "refStreetlightControlCabinet", ctx=ctx)
    return Asset(full, kind, number, number.split("-", 1)[0], lon, lat, str(address or ""),
                 str(status or ""), cabinet if isinstance(cabinet, str) else "")  # fmt: skip


def lamp_exists(number: str) -> bool:
    """Whether ``number`` names a Streetlight entity (the procedure's form check)."""
    found = asset(number)
    return found is not None and found.kind == "lamp"


# --- Who may do what -------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    agent: bool = False
    commune: str | None = None  # None for the EPCI's agents and administrators
    ref: str = "system:lighting-repairs"


def actor_of(user: Any) -> Actor:
    """The territory's view of a signed-in person, read by attributes."""
    if not getattr(user, "is_authenticated", False):
        return Actor()
    role = getattr(user, "role", "")
    unit = getattr(getattr(user, "unit", None), "code", None)
    commune = unit if role == "agent" and unit and unit != EPCI else None
    return Actor(agent=role in ("agent", "administrator"), commune=commune,
                 ref=getattr(user, "pseudonym", "") or "system:lighting-repairs")  # fmt: skip


def abilities(actor: Actor, commune: str | None = None) -> dict[str, bool]:
    """What ``actor`` may do on a repair in ``commune`` (None: the pages themselves, where
    any agent may be shown the forms). Agents of the lamp's commune and of the EPCI
    report and act; every agent sees. The one source of truth for pages and API."""
    acts = actor.agent and (actor.commune is None or commune is None or actor.commune == commune)
    return {"view": actor.agent, "report": acts, "plan": acts, "start": acts,
            "close": acts, "cancel": acts}  # fmt: skip


# --- Opening repairs -------------------------------------------------------------------------


def open_repair(asset_id: str) -> Repair | None:
    return Repair.objects.using(DB).filter(asset_id=asset_id, status__in=Repair.OPEN).first()


def _open(found: Asset, *, source: str, fault: str, actor: str,
          event: TerritoryEvent | None = None, at: datetime | None = None) -> Repair:  # fmt: skip
    """The asset's open repair, or a new one; ``event`` joins it."""
    with transaction.atomic(using=DB):
        repair = open_repair(found.id)
        created = repair is None
        if created:
            repair = Repair(asset_id=found.id, commune_code=found.commune, source=source,
                            fault=fault, reported_at=at or timezone.now(), event=event,
                            updated_by=actor)  # fmt: skip
            try:
                with transaction.atomic(using=DB):
                    repair.save(using=DB)
            except IntegrityError:  # opened a moment ago by another process
                repair = open_repair(found.id)
                created = False
        if event is not None:
            repair.events.add(event)
            if repair.event_id is None:
                repair.event = event
                repair.save(using=DB, update_fields=["event", "updated_at"])
        if created or event is not None:
            _changed(repair, actor, "opened" if created else "joined")
    return repair


def device_fault(asset_id: str, fault: str, *, at: datetime | None = None,
                 value: Any = None) -> Repair:  # fmt: skip
    """A device reports a fault: alert on the asset, and its repair (one while open)."""
    from alzette.territory.supervision import alerts

    found = asset(asset_id)
    if found is None:
        raise UnknownLamp(_("No streetlight or cabinet %(id)s.") % {"id": asset_id})
    rule = lamp_rule() if found.kind == "lamp" else cabinet_rule()
    message = _fault_message(found, fault)
    with transaction.atomic(using=DB):
        alerts.raise_detected(rule, found.id, value if value is not None else fault, message, at)
        return _open(found, source=Repair.Source.DEVICE, fault=fault,
                     actor="system:lighting-repairs", at=at)  # fmt: skip


def device_ok(asset_id: str) -> int:
    """The device reports no fault any more: its alert closes (the repair stays as
    agents left it: they close it with its outcome)."""
    from alzette.territory.supervision import alerts

    rule = cabinet_rule() if asset_id.startswith(CABINET_PREFIX) else lamp_rule()
    return alerts.clear_detected(rule, asset_id, "the device reports no fault")


def cabinet_down(cabinet_id: str) -> bool:
    """Whether the cabinet has an open fault alert (its lamps are dark, not out)."""
    from alzette.territory.supervision.models import Alert

    return (
        bool(cabinet_id)
        and Alert.objects.using(DB)
        .filter(rule__detector=CABINET_RULE, entity_id=cabinet_id, state__in=Alert.OPEN)
        .exists()
    )


def lamp_rule() -> Any:
    from alzette.territory.supervision import alerts

    return alerts.detector_rule(LAMP_RULE, name=str(_("Streetlight fault")),
                                entity_type="Streetlight", attribute="status")  # fmt: skip


def cabinet_rule() -> Any:
    from alzette.territory.supervision import alerts

    return alerts.detector_rule(CABINET_RULE, name=str(_("Lighting cabinet fault")),
                                entity_type="StreetlightControlCabinet",
                                attribute="fault")  # fmt: skip


def _fault_message(found: Asset, fault: str) -> str:
    return f"{found.kind} {found.number}: {fault}"


def report_by_agent(reference: str, fault: str, *, actor: Actor) -> Repair:
    found = asset(reference)
    if found is None:
        raise UnknownLamp({"lamp": _("No streetlight has this number.")})
    if not abilities(actor, found.commune)["report"]:
        raise PermissionError("not allowed")
    if not fault.strip():
        raise ValidationError({"fault": _("Say what is wrong.")})
    return _open(found, source=Repair.Source.AGENT, fault=fault.strip()[:40], actor=actor.ref)


def report_by_citizen(event: TerritoryEvent) -> Repair:
    """A citizen's anonymised report (from the bridge) opens or joins the lamp's repair."""
    found = asset(event.asset_ref) if event.asset_ref else None
    if found is None or found.kind != "lamp":
        raise UnknownLamp(
            _("The report names no known streetlight (%(ref)s).") % {"ref": event.asset_ref or "-"}
        )
    fault = next(iter(event.categories), "off")
    return _open(found, source=Repair.Source.CITIZEN, fault=fault,
                 actor="system:bridge", event=event)  # fmt: skip


# --- Agents' work ----------------------------------------------------------------------------


def _check(repair: Repair, actor: Actor, ability: str) -> None:
    if not abilities(actor, repair.commune_code)[ability]:
        raise PermissionError("not allowed")


def _lock(repair: Repair) -> None:
    """Re-read ``repair`` under a row lock (inside the caller's transaction), so that two
    agents closing it at once cannot both see it open."""
    repair.refresh_from_db(using=DB, from_queryset=Repair.objects.select_for_update())


def plan(repair: Repair, *, team: str, planned_for: date, actor: Actor) -> Repair:
    _check(repair, actor, "plan")
    if not team.strip():
        raise ValidationError({"team": _("Name the team.")})
    if planned_for < timezone.localdate():
        raise ValidationError({"planned_for": _("A repair cannot be planned in the past.")})
    with transaction.atomic(using=DB):
        _lock(repair)
        if not repair.open:
            raise TransitionError(_("This repair is already closed."))
        repair.status, repair.team, repair.planned_for = (
            Repair.Status.SCHEDULED,
            team.strip(),
            planned_for,
        )
        repair.updated_by = actor.ref
        repair.save(using=DB)
        _changed(repair, actor.ref, "scheduled")
    return repair


def start(repair: Repair, *, actor: Actor) -> Repair:
    _check(repair, actor, "start")
    with transaction.atomic(using=DB):
        _lock(repair)
        if repair.status != Repair.Status.SCHEDULED or repair.started_at:
            raise TransitionError(_("Only a scheduled repair can start."))
        repair.started_at, repair.updated_by = timezone.now(), actor.ref
        repair.save(using=DB)
        _changed(repair, actor.ref, "started")
    return repair


def close(repair: Repair, *, outcome: str, actor: Actor) -> Repair:
    """Close a repair with its outcome; the citizens' events it holds close too. The
    lamp's alert closes when the lamp next reports ``ok``."""
    _check(repair, actor, "close")
    if outcome not in Repair.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    with transaction.atomic(using=DB):
        _lock(repair)
        if not repair.open:
            raise TransitionError(_("This repair is already closed."))
        repair.status, repair.outcome = Repair.Status.REPAIRED, outcome
        repair.repaired_at, repair.updated_by = timezone.now(), actor.ref
        repair.started_at = repair.started_at or repair.repaired_at
        repair.save(using=DB)
        _close_events(repair)
        _changed(repair, actor.ref, "repaired")
    return repair


def cancel(repair: Repair, *, actor: Actor) -> Repair:
    _check(repair, actor, "cancel")
    with transaction.atomic(using=DB):
        _lock(repair)
        if not repair.open:
            raise TransitionError(_("This repair is already closed."))
        repair.status, repair.updated_by = Repair.Status.CANCELLED, actor.ref
        repair.save(using=DB)
        _close_events(repair)
        _changed(repair, actor.ref, "cancelled")
    return repair


def _close_events(repair: Repair) -> None:
    # The same update as the bridge's close_event: only an open event changes.
    TerritoryEvent.objects.using(DB).filter(
        pk__in=repair.events.values("pk"), status="open"
    ).update(status="closed", closed_on=timezone.localdate())


def _changed(repair: Repair, actor: str, change: str) -> None:
    from alzette.ledger import services as ledger

    ref = f"lighting-repair:{repair.pk}"
    payload = {"repair": str(repair.pk), "asset": repair.asset_id, "commune": repair.commune_code,
               "change": change, "source": repair.source, "fault": repair.fault,
               "status": repair.status, "team": repair.team,
               "planned_for": repair.planned_for.isoformat() if repair.planned_for else None,
               "outcome": repair.outcome,
               "citizen_reports": repair.events.count()}  # fmt: skip
    ledger.record_opening(LedgerRecord, "lighting_repair.changed", actor, ref, payload,
                          using=DB, object_ref=ref)  # fmt: skip


# --- Reading ---------------------------------------------------------------------------------


def repairs(*, commune: str | None = None, open_only: bool = False,
            status: str | None = None) -> Any:  # fmt: skip
    """Repairs, newest report first (of ``commune``, open ones, of one ``status``)."""
    found = Repair.objects.using(DB).all()
    if commune:
        found = found.filter(commune_code=commune)
    if open_only:
        found = found.filter(status__in=Repair.OPEN)
    if status:
        found = found.filter(status=status)
    return found


@dataclass(frozen=True)
class CitizenReport:
    """What agents see of a citizen's report: what is wrong and the day, nothing else."""

    observed_on: date
    problem: str  # one of CITIZEN_FAULTS
    status: str  # the event's: open | closed


def citizen_reports(repair: Repair) -> list[CitizenReport]:
    return [
        CitizenReport(event.observed_on, str(next(iter(event.categories), "")), event.status)
        for event in repair.events.order_by("observed_on", "pk")
    ]


def alert_of(repair: Repair) -> Any:
    from alzette.territory.supervision.models import Alert

    rules = (LAMP_RULE, CABINET_RULE)
    found = Alert.objects.using(DB).filter(entity_id=repair.asset_id, rule__detector__in=rules)
    return found.order_by("-fired_at").first()


@dataclass(frozen=True)
class RepairState:
    """What a citizen may see of the repair of the lamp they reported."""

    lamp: str  # the pole's number
    address: str
    status: str  # reported | scheduled | repaired | cancelled
    planned_for: date | None
    repaired_on: date | None


def state_for_event(source_ref: str) -> RepairState | None:
    """The state of the repair holding the event of ``source_ref`` (the bridge's keyed
    pseudonym of a file), None when there is none."""
    event = TerritoryEvent.objects.using(DB).filter(source_ref=source_ref, kind=EVENT_KIND).first()
    if event is None or not event.asset_ref:
        return None
    repair = Repair.objects.using(DB).filter(events=event).order_by("-reported_at").first()
    found = asset(event.asset_ref)
    number = found.number if found else event.asset_ref.rsplit("-", 2)[-2:]
    if repair is None:
        return RepairState(str(number if isinstance(number, str) else "-".join(number)),
                           found.address if found else "", "reported", None, None)  # fmt: skip
    repaired = timezone.localdate(repair.repaired_at) if repair.repaired_at else None
    return RepairState(repair.number, found.address if found else "", repair.status,
                       repair.planned_for, repaired)  # fmt: skip


# --- Poles for the citizens' map picker --------------------------------------------------------

#: The widest box (degrees) and the most poles one request may ask for: the answer stays
#: small enough for a phone. The whole territory is about 0.16 by 0.15 degrees.
MAX_BOX_DEGREES = 0.5
MAX_POLES = 200


@dataclass(frozen=True)
class Pole:
    number: str  # "57038-001", the number printed on the pole
    lon: float
    lat: float


def poles(box: tuple[float, float, float, float], *, near: tuple[float, float] | None = None,
          limit: int = 50) -> tuple[list[Pole], int]:  # fmt: skip
    """The streetlights standing in ``box`` (min lon, min lat, max lon, max lat), nearest
    to ``near`` (default: the box's centre) first, at most ``limit``; and how many stand
    in the box. Public data: a number and a place, which anyone reads in the street."""
    from django.db.models import F, FloatField, Q
    from django.db.models.expressions import ExpressionWrapper

    from alzette.territory.ngsild.models import GeoIndex

    min_x, min_y, max_x, max_y = box
    x, y = near or ((min_x + max_x) / 2, (min_y + max_y) / 2)
    # Longitude degrees are shorter than latitude degrees here (cos 49.5° ≈ 0.65): the
    # squared distance in "latitude degrees" orders the poles as metres would.
    shrink = math.cos(math.radians(y)) ** 2
    named = Q(attribute="location") | Q(attribute__endswith="/location")
    rows = GeoIndex.objects.using(DB).filter(
        named, entity__tenant=TENANT, entity__entity_id__startswith=LAMP_PREFIX,
        min_x__lte=max_x, max_x__gte=min_x, min_y__lte=max_y, max_y__gte=min_y,
    )  # fmt: skip
    distance = ExpressionWrapper(
        (F("min_x") - x) * (F("min_x") - x) * shrink + (F("min_y") - y) * (F("min_y") - y),
        output_field=FloatField(),
    )
    matched = rows.values("entity_id").distinct().count()
    found: dict[str, Pole] = {}
    ordered = rows.annotate(distance=distance).order_by("distance", "entity__entity_id")
    # An entity has one location row unless it holds several instances (datasetId).
    columns = ("entity__entity_id", "min_x", "min_y")
    for entity_id, lon, lat in ordered.values_list(*columns)[: limit * 2]:
        number = entity_id.removeprefix(LAMP_PREFIX)
        found.setdefault(number, Pole(number, lon, lat))
        if len(found) >= limit:
            break
    return list(found.values()), matched
