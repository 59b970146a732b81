"""Illegal dumping, the domain: reports from agents and citizens, interventions to closure.

Two sources of reports meet here. Citizens' reports arrive already anonymised as
``TerritoryEvent`` rows written by the bridge (a rounded point, the day, the
ticked categories, the commune); agents' reports are ``AgentReport`` rows. Both
are read through ``ReportView``, which holds only what may be drawn on a map: no
photo, no free text, nobody's name. The bridge also closes a citizen's event
when its file is decided; closing it here first leaves the bridge's update a
no-op (it only closes open events), so the two never fight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.core.repositories import TERRITORY
from alzette.territory.events.models import TerritoryEvent
from alzette.territory.geo.models import UnitKind
from alzette.territory.waste.dumping.models import (
    EVENT_KIND,
    AgentReport,
    Intervention,
    LedgerRecord,
)

#: Four decimals of a degree (about ten metres), as the bridge rounds citizens' points.
COORDINATE_DECIMALS = 4


# --- Who may do what ---------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    agent: bool = False
    #: The commune an agent acts for; None for the EPCI's agents and administrators.
    commune: str | None = None
    #: The ledger's name for them (a pseudonym), never an e-mail address.
    ref: str = "system:dumping"


def actor_of(user: Any) -> Actor:
    """The territory's view of a signed-in person, read by attributes (the territory
    never imports the accounts app)."""
    if not getattr(user, "is_authenticated", False):
        return Actor()
    role = getattr(user, "role", "")
    unit = getattr(getattr(user, "unit", None), "code", None)
    commune = unit if role == "agent" and unit and unit.isdigit() else None
    return Actor(
        agent=role in ("agent", "administrator"),
        commune=commune,
        ref=getattr(user, "pseudonym", "") or "system:dumping",
    )


def abilities(actor: Actor, commune: str | None = None) -> dict[str, bool]:
    """What ``actor`` may do on the dumping pages, for a report or intervention in
    ``commune`` (None: the pages themselves). Every agent sees the whole territory,
    since dumps cross communes' limits; a commune's agents act in their commune."""
    acts = actor.agent and (actor.commune is None or commune is None or actor.commune == commune)
    return {"view": actor.agent, "report": actor.agent, "plan": acts, "start": acts,
            "close": acts, "cancel": acts}  # fmt: skip


# --- Reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    """A report as it may be shown: where, when, what, and whether it is open."""

    ref: str  # "event:<uuid>" or "report:<uuid>"
    source: str  # "citizen" or "agent"
    lon: float
    lat: float
    commune: str
    categories: tuple[str, ...]
    observed_on: date
    status: str

    @property
    def open(self) -> bool:
        return self.status == "open"

    def feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": self.ref,
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {"kind": "report", "source": self.source, "commune": self.commune,
                           "categories": list(self.categories),
                           "observed_on": self.observed_on.isoformat(), "status": self.status},
        }  # fmt: skip


class OutsideTerritory(ValidationError):
    pass


def commune_at(lon: float, lat: float) -> str:
    """The INSEE code of the commune at the point; ``OutsideTerritory`` when none."""
    from alzette.territory.geo.services import locate

    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise OutsideTerritory(_("These coordinates are not on Earth."))
    found = locate({"type": "Point", "coordinates": [lon, lat]}, kind=UnitKind.COMMUNE)
    if not found:
        raise OutsideTerritory(_("This point is outside the territory's communes."))
    return found[0].code


def report(
    *,
    lon: float,
    lat: float,
    categories: Iterable[str],
    observed_on: date,
    volume: str,
    actor: Actor,
) -> AgentReport:
    """An agent's report, placed in its commune by geometry; recorded in the ledger."""
    if observed_on > timezone.localdate():
        raise ValidationError({"observed_on": _("A dump cannot be observed in the future.")})
    commune = commune_at(lon, lat)
    with transaction.atomic(using=TERRITORY):
        found = AgentReport(
            lon=round(lon, COORDINATE_DECIMALS), lat=round(lat, COORDINATE_DECIMALS),
            commune_code=commune, categories=sorted(set(categories)), observed_on=observed_on,
            volume=volume, reported_by=actor.ref,
        )  # fmt: skip
        found.save()
        _record("dumping.reported", actor.ref, f"dumping-report:{found.pk}", {
            "report": str(found.pk), "commune": commune, "categories": found.categories,
            "observed_on": observed_on.isoformat(), "volume": volume,
            "point": [found.lon, found.lat],
        })  # fmt: skip
    return found


def _record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=TERRITORY, object_ref=object_ref
    )


def citizen_reports() -> Any:
    return TerritoryEvent.objects.using(TERRITORY).filter(kind=EVENT_KIND)


def reports(
    *, since: date | None = None, commune: str | None = None, status: str | None = None
) -> list[ReportView]:
    """Citizens' and agents' reports observed since ``since``, newest first."""
    events, agents = citizen_reports(), AgentReport.objects.using(TERRITORY).all()
    if since is not None:
        events, agents = (
            events.filter(observed_on__gte=since),
            agents.filter(observed_on__gte=since),
        )
    if commune:
        events = events.filter(commune_code=commune)
        agents = agents.filter(commune_code=commune)
    if status:
        events, agents = events.filter(status=status), agents.filter(status=status)
    found = [event_view(event) for event in events] + [agent_report_view(r) for r in agents]
    return sorted(found, key=lambda view: (view.observed_on, view.ref), reverse=True)


def event_view(event: TerritoryEvent) -> ReportView:
    return ReportView(f"event:{event.pk}", "citizen", event.lon, event.lat, event.commune_code,
                      tuple(event.categories), event.observed_on, event.status)  # fmt: skip


def agent_report_view(found: AgentReport) -> ReportView:
    return ReportView(f"report:{found.pk}", "agent", found.lon, found.lat, found.commune_code,
                      tuple(found.categories), found.observed_on, found.status)  # fmt: skip


def report_view(ref: str) -> ReportView | None:
    """The report named ``ref`` ("event:<uuid>" or "report:<uuid>"), None if unknown."""
    kind, _sep, pk = ref.partition(":")
    try:
        if kind == "event":
            event = citizen_reports().filter(pk=pk).first()
            return event_view(event) if event else None
        if kind == "report":
            found = AgentReport.objects.using(TERRITORY).filter(pk=pk).first()
            return agent_report_view(found) if found else None
    except ValidationError:  # not a UUID
        return None
    return None


def recent(days: int, commune: str | None = None) -> list[ReportView]:
    return reports(since=timezone.localdate() - timedelta(days=days), commune=commune)


# --- Interventions -----------------------------------------------------------------------


class TransitionError(ValidationError):
    pass


def plan(target_ref: str, *, team: str, planned_for: date, actor: Actor) -> Intervention:
    """Plan the clearing of an open report (``target_ref`` as in ``ReportView.ref``)."""
    target = report_view(target_ref)
    if target is None:
        raise ValidationError(_("No such report."))
    if not target.open:
        raise TransitionError(_("This report is already closed."))
    if not team.strip():
        raise ValidationError({"team": _("Name the team.")})
    kind, _sep, pk = target_ref.partition(":")
    with transaction.atomic(using=TERRITORY):
        intervention = Intervention(
            event_id=pk if kind == "event" else None, report_id=pk if kind == "report" else None,
            commune_code=target.commune, team=team.strip(), planned_for=planned_for,
            planned_by=actor.ref,
        )  # fmt: skip
        intervention.save()
        _changed(intervention, actor)
    return intervention


def start(intervention: Intervention, *, actor: Actor) -> Intervention:
    if intervention.status != Intervention.Status.PLANNED:
        raise TransitionError(_("Only a planned intervention can start."))
    with transaction.atomic(using=TERRITORY):
        intervention.status, intervention.started_at = (
            Intervention.Status.IN_PROGRESS,
            timezone.now(),
        )
        intervention.save()
        _changed(intervention, actor)
    return intervention


def close(intervention: Intervention, *, outcome: str, actor: Actor) -> Intervention:
    """Close an intervention with its outcome; its report or event is closed too."""
    if not intervention.open:
        raise TransitionError(_("This intervention is already closed."))
    if outcome not in Intervention.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    today = timezone.localdate()
    with transaction.atomic(using=TERRITORY):
        intervention.status, intervention.outcome = Intervention.Status.DONE, outcome
        intervention.closed_at, intervention.closed_by = timezone.now(), actor.ref
        intervention.started_at = intervention.started_at or intervention.closed_at
        intervention.save()
        if intervention.event_id:
            # The same update as the bridge's close_event: only an open event changes.
            citizen_reports().filter(pk=intervention.event_id, status="open").update(
                status="closed", closed_on=today
            )
        else:
            AgentReport.objects.using(TERRITORY).filter(
                pk=intervention.report_id, status=AgentReport.Status.OPEN
            ).update(status=AgentReport.Status.CLOSED, closed_on=today)
        _changed(intervention, actor)
    return intervention


def cancel(intervention: Intervention, *, actor: Actor) -> Intervention:
    """Cancel an intervention; its report stays open for another one."""
    if not intervention.open:
        raise TransitionError(_("This intervention is already closed."))
    with transaction.atomic(using=TERRITORY):
        intervention.status, intervention.closed_at = Intervention.Status.CANCELLED, timezone.now()
        intervention.closed_by = actor.ref
        intervention.save()
        _changed(intervention, actor)
    return intervention


def _changed(intervention: Intervention, actor: Actor) -> None:
    _record("dumping.intervention_changed", actor.ref, f"dumping-intervention:{intervention.pk}", {
        "intervention": str(intervention.pk), "target": intervention.target_ref,
        "commune": intervention.commune_code, "status": intervention.status,
        "team": intervention.team, "planned_for": intervention.planned_for.isoformat(),
        "outcome": intervention.outcome,
    })  # fmt: skip


def interventions(*, commune: str | None = None, open_only: bool = False) -> Any:
    found = Intervention.objects.using(TERRITORY).all()
    if commune:
        found = found.filter(commune_code=commune)
    if open_only:
        found = found.filter(status__in=[Intervention.Status.PLANNED,
                                         Intervention.Status.IN_PROGRESS])  # fmt: skip
    return found
