"""Streetlight repairs in the platform API (/api/v1/lighting/repairs, /api/v1/lighting/poles).

Repairs: agents only (a session with its CSRF token on writes, or an agent's bearer token,
as the other lighting endpoints). Every agent reads every commune's repairs; agents of the
lamp's commune and of the EPCI report, plan, start, close and cancel
(``services.abilities``, the function the pages use). Writes go through ``services``
(atomic, recorded in the ledger as ``lighting_repair.changed``). A citizen's report shows
what is wrong and the day, nothing else.

Poles: public and read-only, the number on each pole and its place, in a small box or
near a point: the citizens' map picker of the broken-light procedure reads it.

Errors are problem+json: 401, 403, 404 (no such repair, no streetlight of that number),
409 (a transition the repair's state forbids), 422 (the schema, or a value the domain
refuses, with its field in ``errors``). See docs/lighting-repairs.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status as Reply
from ninja.security import django_auth
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.core.problems import problem_response
from alzette.territory.lighting.repairs import services
from alzette.territory.lighting.repairs.models import Repair
from alzette.territory.supervision.api import AgentToken

router = Router(tags=["lighting"], auth=[AgentToken(), django_auth])

COMMUNE = r"^(\d[0-9AB]\d{3})?$"
#: A pole's number as printed: the commune's INSEE code, then the lamp's (``57038-001``).
POLE = r"^\s*\d[0-9AB]\d{3}\s*[- ]\s*\d{1,4}\s*$"
#: What an agent may report (the faults the devices report, and the one inferred).
AGENT_FAULTS = Literal["defectiveLamp", "columnIssue", "brokenLantern", "lampOut"]
OUTCOMES = Literal["lamp_replaced", "lantern_replaced", "column_repaired", "cabinet_repaired",
                   "no_fault"]  # fmt: skip


def _agent(request: HttpRequest) -> services.Actor:
    actor = services.actor_of(request.user)
    if not services.abilities(actor)["view"]:
        raise HttpError(403, "Only agents see streetlight repairs.")
    return actor


def _forbidden() -> HttpError:
    return HttpError(403, "Agents of the lamp's commune or of the EPCI only.")


# --- Schemas -----------------------------------------------------------------------------------


class RepairQuery(Schema):
    commune: str = Field("", pattern=COMMUNE, description="INSEE code; empty: every commune.")
    status: Literal["reported", "scheduled", "repaired", "cancelled", ""] = ""
    open: bool = Field(False, description="Only open repairs (reported or scheduled).")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class RepairOut(Schema):
    id: UUID
    asset_id: str = Field(..., description="The lamp's or cabinet's NGSI-LD entity id.")
    kind: Literal["lamp", "cabinet"]
    number: str = Field(..., description="The number on the pole (57038-001) or cabinet.")
    commune: str
    source: Literal["citizen", "agent", "device"]
    fault: str
    status: Literal["reported", "scheduled", "repaired", "cancelled"]
    reported_at: datetime
    team: str
    planned_for: date | None
    started_at: datetime | None
    repaired_at: datetime | None
    outcome: str
    citizen_reports: int = Field(..., description="How many citizens' reports it holds.")
    updated_at: datetime


class AssetOut(Schema):
    id: str
    kind: Literal["lamp", "cabinet"]
    number: str
    commune: str
    lon: float | None
    lat: float | None
    address: str
    status: str = Field(..., description="Its Smart Data Models status (ok, defectiveLamp…).")
    cabinet: str = Field(..., description="A lamp's control cabinet, if known.")


class AlertOut(Schema):
    id: int
    rule: str = Field(..., description="The detector: lighting.lamp-fault, lighting.cabinet-fault.")
    state: Literal["firing", "acknowledged", "closed"]
    value: Any = None
    fired_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None


class CitizenReportOut(Schema):
    observed_on: date
    problem: str = Field(..., description="off, flickering, on-by-day or damaged.")
    status: Literal["open", "closed"]


class RepairDetailOut(RepairOut):
    asset: AssetOut | None = Field(..., description="Null if the entity is gone.")
    alert: AlertOut | None = Field(..., description="The asset's latest fault alert.")
    reports: list[CitizenReportOut]


class ReportIn(Schema):
    lamp: str = Field(..., max_length=20, pattern=POLE, description="The number on the pole.")
    fault: AGENT_FAULTS


class PlanIn(Schema):
    team: str = Field(..., max_length=80)
    planned_for: date = Field(..., description="The day, today or later.")


class CloseIn(Schema):
    outcome: OUTCOMES


class PoleQuery(Schema):
    bbox: str = Field("", description="min lon,min lat,max lon,max lat (CRS84), at most "
                      f"{services.MAX_BOX_DEGREES} degrees wide and high.")  # fmt: skip
    near: str = Field("", description="lon,lat: nearest first; without bbox, within `radius`.")
    radius: int = Field(500, ge=1, le=2000, description="Metres around `near` without bbox.")
    limit: int = Field(50, ge=1, le=services.MAX_POLES)


class PoleProperties(Schema):
    number: str


class PointOut(Schema):
    type: Literal["Point"]
    coordinates: list[float]


class PoleFeature(Schema):
    type: Literal["Feature"]
    id: str = Field(..., description="The number on the pole.")
    geometry: PointOut
    properties: PoleProperties


class PolesOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[PoleFeature]
    # OGC API Features' names for the counts.
    numberMatched: int = Field(..., description="Poles in the box.")
    numberReturned: int


# --- Shaping -----------------------------------------------------------------------------------


def _kind(repair: Repair) -> str:
    return "cabinet" if repair.asset_id.startswith(services.CABINET_PREFIX) else "lamp"


def repair_out(repair: Repair) -> dict[str, Any]:
    reports = getattr(repair, "n_reports", None)
    return {
        "id": repair.pk, "asset_id": repair.asset_id, "kind": _kind(repair),
        "number": repair.number, "commune": repair.commune_code, "source": repair.source,
        "fault": repair.fault,
        "status": repair.status, "reported_at": repair.reported_at, "team": repair.team,
        "planned_for": repair.planned_for, "started_at": repair.started_at,
        "repaired_at": repair.repaired_at, "outcome": repair.outcome,
        "citizen_reports": reports if reports is not None else repair.events.count(),
        "updated_at": repair.updated_at,
    }  # fmt: skip


def _detail(repair: Repair) -> dict[str, Any]:
    found = services.asset(repair.asset_id)
    alert = services.alert_of(repair)
    return {
        **repair_out(repair),
        "asset": asdict(found) if found else None,
        "alert": None if alert is None else {
            "id": alert.pk, "rule": alert.rule.detector, "state": alert.state,
            "value": alert.value, "fired_at": alert.fired_at,
            "acknowledged_at": alert.acknowledged_at, "closed_at": alert.closed_at,
        },
        "reports": [asdict(r) for r in services.citizen_reports(repair)],
    }  # fmt: skip


def _repair(repair_id: UUID) -> Repair:
    found = services.repairs().filter(pk=repair_id).first()
    if found is None:
        raise HttpError(404, "No such repair.")
    return found


def _refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """A value the domain refuses (422, its field named), or a transition its state
    forbids (409)."""
    if isinstance(exc, services.TransitionError):
        return problem_response(request, 409, " ".join(str(m) for m in exc.messages))
    if not hasattr(exc, "error_dict"):
        return problem_response(request, 422, " ".join(str(m) for m in exc.messages))
    errors = [
        {"location": ["body", name], "message": str(message), "type": "value_error"}
        for name, messages in exc.message_dict.items()
        for message in messages
    ]
    return problem_response(request, 422, "The request is not valid.", errors=errors)


# --- Public: poles for the citizens' map picker -------------------------------------------------


def _numbers(raw: str, count: int, name: str) -> list[float]:
    try:
        values = [float(part) for part in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise HttpError(422, f"`{name}` takes {count} numbers separated by commas.")
    return values


def _box(query: PoleQuery) -> tuple[tuple[float, float, float, float], tuple[float, float] | None]:
    near = None
    if query.near:
        lon, lat = _numbers(query.near, 2, "near")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise HttpError(422, "`near` is longitude, then latitude.")
        near = (lon, lat)
    if query.bbox:
        min_x, min_y, max_x, max_y = _numbers(query.bbox, 4, "bbox")
        if min_x > max_x or min_y > max_y:
            raise HttpError(422, "`bbox` is min lon, min lat, max lon, max lat.")
        if max(max_x - min_x, max_y - min_y) > services.MAX_BOX_DEGREES:
            raise HttpError(422, f"`bbox` is wider than {services.MAX_BOX_DEGREES} degrees.")
        return (min_x, min_y, max_x, max_y), near
    if near is None:
        raise HttpError(422, "Give `bbox` or `near`.")
    lon, lat = near
    dy = query.radius / 111_320  # metres to degrees of latitude
    dx = dy / max(math.cos(math.radians(lat)), 0.01)
    return (lon - dx, lat - dy, lon + dx, lat + dy), near


@router.get("/poles", auth=None, url_name="lighting_poles",
            response={200: PolesOut, **problem_responses(422)},
            summary="Poles (number and place) in a box or near a point; public")  # fmt: skip
def list_poles(request: HttpRequest, query: Query[PoleQuery]) -> Any:
    box, near = _box(query)
    found, matched = services.poles(box, near=near, limit=query.limit)
    features = [
        {"type": "Feature", "id": pole.number,
         "geometry": {"type": "Point", "coordinates": [round(pole.lon, 6), round(pole.lat, 6)]},
         "properties": {"number": pole.number}}
        for pole in found
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features, "numberMatched": matched,
            "numberReturned": len(features)}  # fmt: skip


# --- Agents: repairs ---------------------------------------------------------------------------


@router.get("/repairs", response={200: list[RepairOut], **problem_responses(401, 403, 422)},
            summary="Streetlight repairs, newest report first")  # fmt: skip
def list_repairs(request: HttpRequest, query: Query[RepairQuery]) -> list[dict[str, Any]]:
    _agent(request)
    found = services.repairs(commune=query.commune or None, open_only=query.open,
                             status=query.status or None)  # fmt: skip
    found = found.annotate(n_reports=Count("events")).order_by("-reported_at", "pk")
    return [repair_out(r) for r in found[query.offset : query.offset + query.limit]]


@router.post("/repairs", response={200: RepairOut, 201: RepairOut,
                                   **problem_responses(401, 403, 404, 422)},
             summary="Report a fault by the pole's number (joins its open repair)")  # fmt: skip
def report(request: HttpRequest, body: ReportIn) -> Any:
    actor = _agent(request)
    found = services.asset(body.lamp)
    if found is None or found.kind != "lamp":
        raise HttpError(404, f"No streetlight has the number {body.lamp.strip()}.")
    if not services.abilities(actor, found.commune)["report"]:
        raise _forbidden()
    already = services.open_repair(found.id)
    try:
        repair = services.report_by_agent(body.lamp, body.fault, actor=actor)
    except PermissionError:
        raise _forbidden() from None
    except services.UnknownLamp:
        raise HttpError(404, f"No streetlight has the number {body.lamp.strip()}.") from None
    except ValidationError as exc:
        return _refused(request, exc)
    joined = already is not None and already.pk == repair.pk
    return Reply(200 if joined else 201, repair_out(repair))


@router.get("/repairs/{repair_id}",
            response={200: RepairDetailOut, **problem_responses(401, 403, 404, 422)},
            summary="One repair with its asset, alert and citizens' reports")  # fmt: skip
def get_repair(request: HttpRequest, repair_id: UUID) -> dict[str, Any]:
    _agent(request)
    return _detail(_repair(repair_id))


def _act(request: HttpRequest, repair_id: UUID, name: str, **values: Any) -> Any:
    """Check the ability ``name`` on the repair, then let the service do it."""
    actor = _agent(request)
    repair = _repair(repair_id)
    if not services.abilities(actor, repair.commune_code)[name]:
        raise _forbidden()
    operation = getattr(services, name)
    try:
        repair = operation(repair, actor=actor, **values)
    except PermissionError:
        raise _forbidden() from None
    except ValidationError as exc:
        return _refused(request, exc)
    return _detail(repair)


TRANSITION = {200: RepairDetailOut, **problem_responses(401, 403, 404, 409, 422)}


@router.post("/repairs/{repair_id}/plan", response=TRANSITION,
             summary="Plan a repair: the team and the day (again to change them)")  # fmt: skip
def plan(request: HttpRequest, repair_id: UUID, body: PlanIn) -> Any:
    return _act(request, repair_id, "plan", team=body.team, planned_for=body.planned_for)


@router.post("/repairs/{repair_id}/start", response=TRANSITION,
             summary="Start a scheduled repair")  # fmt: skip
def start(request: HttpRequest, repair_id: UUID) -> Any:
    return _act(request, repair_id, "start")


@router.post("/repairs/{repair_id}/close", response=TRANSITION,
             summary="Close a repair with its outcome; its citizens' reports too")  # fmt: skip
def close(request: HttpRequest, repair_id: UUID, body: CloseIn) -> Any:
    return _act(request, repair_id, "close", outcome=body.outcome)


@router.post("/repairs/{repair_id}/cancel", response=TRANSITION,
             summary="Cancel an open repair; its citizens' reports close too")  # fmt: skip
def cancel(request: HttpRequest, repair_id: UUID) -> Any:
    return _act(request, repair_id, "cancel")
