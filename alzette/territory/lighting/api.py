"""Street lighting policies and calendar overrides in the platform API (/api/v1/lighting).

Agents only (a session with its CSRF token on writes, or an agent's bearer token, as
the supervision API). Every agent reads every commune's; a commune's agents change
their commune's, the EPCI's agents every commune's (``authz.abilities``). Errors are
problem+json: 422 with the field errors, 409 for a conflicting schedule (naming the
other one in ``conflicts_with``), 403, 404. See docs/lighting.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status as Reply
from ninja.security import django_auth
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.core.problems import problem_response
from alzette.territory.lighting import policies, schedule
from alzette.territory.lighting.authz import Actor, NotAllowed, abilities, actor_of
from alzette.territory.lighting.models import CalendarOverride, Policy
from alzette.territory.supervision.api import AgentToken

DB = "territory"

router = Router(tags=["lighting"], auth=[AgentToken(), django_auth])


def _agent(request: HttpRequest) -> Actor:
    actor = actor_of(request.user)
    if not abilities(actor)["view"]:
        raise HttpError(403, "Only agents manage street lighting policies.")
    return actor


class Step(Schema):
    at: str = Field(..., max_length=8, description='"sunset", "sunrise" or a local time "HH:MM".')
    offset: int = Field(0, description="Minutes after (positive) or before (negative) `at`.")
    level: float = Field(..., description="0 off, 1 full power, between: dimmed.")


class PolicyIn(Schema):
    name: str = Field(..., max_length=200)
    commune: str = Field(..., max_length=5, description="INSEE code.")
    groups: list[str] = Field(
        default_factory=list, max_length=200, description="Group ids; empty: all the commune."
    )
    priority: int = 0
    enabled: bool = True
    valid_from: date | None = Field(None, description="First night (its evening's date).")
    valid_to: date | None = Field(None, description="Last night (its evening's date).")
    weekdays: list[int] = Field(
        default_factory=list, max_length=7, description="Evenings' weekdays, 0 Monday .. 6 Sunday."
    )
    steps: list[Step] = Field(..., max_length=50)


class PolicyOut(PolicyIn):
    id: int
    created_by: str
    created_at: datetime
    updated_at: datetime


class OverrideIn(Schema):
    commune: str = Field(..., max_length=5)
    groups: list[str] = Field(default_factory=list, max_length=200)
    start: datetime = Field(..., description="A time without offset is local (Europe/Paris).")
    end: datetime
    level: float | None = Field(None, description="The level throughout, or null with `policy`.")
    policy: int | None = Field(None, description="A policy of the commune whose steps to follow.")
    reason: str = Field(..., max_length=200)


class OverrideOut(OverrideIn):
    id: int
    created_by: str
    created_at: datetime


class OverrideQuery(Schema):
    commune: str = Field("", max_length=5)
    from_: datetime | None = Field(None, alias="from", description="Overrides ending after.")
    to: datetime | None = Field(None, description="Overrides starting before.")


class PolicyQuery(Schema):
    commune: str = Field("", max_length=5)


class PlanQuery(Schema):
    target: str = Field(..., max_length=255,
                        description="A lamp or group entity id, or an INSEE code.")  # fmt: skip
    at: datetime | None = Field(None, description="When; now by default.")


class PlanOut(Schema):
    target: str
    kind: Literal["lamp", "group", "commune"]
    commune: str
    group: str | None
    at: datetime
    level: float
    source: str = Field(..., description="override:<id>, policy:<id> or default.")
    until: datetime | None


def _policy(policy: Policy) -> dict[str, Any]:
    return {"id": policy.pk, "name": policy.name, "commune": policy.commune,
            "groups": policy.groups, "priority": policy.priority, "enabled": policy.enabled,
            "valid_from": policy.valid_from, "valid_to": policy.valid_to,
            "weekdays": policy.weekdays, "steps": policy.steps,
            "created_by": policy.created_by, "created_at": policy.created_at,
            "updated_at": policy.updated_at}  # fmt: skip


def _override(row: CalendarOverride) -> dict[str, Any]:
    return {"id": row.pk, "commune": row.commune, "groups": row.groups, "start": row.start,
            "end": row.end, "level": row.level, "policy": row.policy_id, "reason": row.reason,
            "created_by": row.created_by, "created_at": row.created_at}  # fmt: skip


def _invalid(request: HttpRequest, exc: ValidationError, what: str) -> HttpResponse:
    errors = [
        {"location": ["body", *name.split(".")], "message": str(message), "type": "value_error"}
        for name, messages in exc.message_dict.items()
        for message in messages
    ]
    return problem_response(request, 422, f"The {what} is not valid.", errors=errors)


def _conflict(request: HttpRequest, exc: policies.Conflict) -> HttpResponse:
    return problem_response(request, 409, exc.message, conflicts_with=exc.other_ref)


def _forbidden() -> HttpError:
    return HttpError(403, "Agents of that commune or of the EPCI only.")


def _get_policy(policy_id: int) -> Policy:
    policy = Policy.objects.using(DB).filter(pk=policy_id).first()
    if policy is None:
        raise HttpError(404, "No such policy.")
    return policy


WRITE = problem_responses(401, 403, 404, 409, 422)


@router.get("/policies", response={200: list[PolicyOut], **problem_responses(401, 403, 422)},
            summary="Lighting policies (of a commune)")  # fmt: skip
def list_policies(request: HttpRequest, query: Query[PolicyQuery]) -> list[dict[str, Any]]:
    _agent(request)
    return [_policy(p) for p in policies.policies(query.commune or None)]


@router.post("/policies", response={201: PolicyOut, **WRITE}, summary="Create a lighting policy")
def create_policy(request: HttpRequest, body: PolicyIn) -> Any:
    actor = _agent(request)
    try:
        policy = policies.save_policy(actor, body.model_dump())
    except NotAllowed:
        raise _forbidden() from None
    except ValidationError as exc:
        return _invalid(request, exc, "policy")
    except policies.Conflict as exc:
        return _conflict(request, exc)
    return Reply(201, _policy(policy))


@router.get("/policies/{policy_id}", response={200: PolicyOut, **problem_responses(401, 403, 404)},
            summary="One lighting policy")  # fmt: skip
def get_policy(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    _agent(request)
    return _policy(_get_policy(policy_id))


@router.put("/policies/{policy_id}", response={200: PolicyOut, **WRITE},
            summary="Change a lighting policy (enabled false: disabled)")  # fmt: skip
def update_policy(request: HttpRequest, policy_id: int, body: PolicyIn) -> Any:
    actor = _agent(request)
    policy = _get_policy(policy_id)
    try:
        policy = policies.save_policy(actor, body.model_dump(), policy)
    except NotAllowed:
        raise _forbidden() from None
    except ValidationError as exc:
        return _invalid(request, exc, "policy")
    except policies.Conflict as exc:
        return _conflict(request, exc)
    return _policy(policy)


@router.delete("/policies/{policy_id}",
               response={204: None, **problem_responses(401, 403, 404, 409)},
               summary="Delete a lighting policy no override follows")  # fmt: skip
def delete_policy(request: HttpRequest, policy_id: int) -> Any:
    actor = _agent(request)
    policy = _get_policy(policy_id)
    try:
        policies.delete_policy(actor, policy)
    except NotAllowed:
        raise _forbidden() from None
    except policies.Conflict as exc:
        return _conflict(request, exc)
    return Reply(204, None)


@router.get("/overrides", response={200: list[OverrideOut], **problem_responses(401, 403, 422)},
            summary="Calendar overrides meeting a period")  # fmt: skip
def list_overrides(request: HttpRequest, query: Query[OverrideQuery]) -> list[dict[str, Any]]:
    _agent(request)
    rows = policies.overrides(query.commune or None, query.from_, query.to)
    return [_override(o) for o in rows]


@router.post("/overrides", response={201: OverrideOut, **WRITE},
             summary="Add a calendar override")  # fmt: skip
def create_override(request: HttpRequest, body: OverrideIn) -> Any:
    actor = _agent(request)
    try:
        override = policies.save_override(actor, body.model_dump())
    except NotAllowed:
        raise _forbidden() from None
    except ValidationError as exc:
        return _invalid(request, exc, "override")
    except policies.Conflict as exc:
        return _conflict(request, exc)
    return Reply(201, _override(override))


@router.delete("/overrides/{override_id}", response={204: None, **problem_responses(401, 403, 404)},
               summary="Delete a calendar override")  # fmt: skip
def delete_override(request: HttpRequest, override_id: int) -> Any:
    actor = _agent(request)
    override = CalendarOverride.objects.using(DB).filter(pk=override_id).first()
    if override is None:
        raise HttpError(404, "No such override.")
    try:
        policies.delete_override(actor, override)
    except NotAllowed:
        raise _forbidden() from None
    return Reply(204, None)


@router.get("/plan", response={200: PlanOut, **problem_responses(401, 403, 404, 422)},
            summary="The level planned for a lamp, a group or a commune at a moment")  # fmt: skip
def get_plan(request: HttpRequest, query: Query[PlanQuery]) -> dict[str, Any]:
    _agent(request)
    target = schedule.target_of(query.target)
    if target is None:
        raise HttpError(404, "No such lamp, group or commune.")
    moment = query.at or datetime.now(schedule.zone())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=schedule.zone())
    planned = schedule.Resolver([target.commune]).at(target.commune, target.group, moment)
    return {"target": target.id, "kind": target.kind, "commune": target.commune,
            "group": target.group, "at": moment, "level": planned.level,
            "source": planned.source, "until": planned.until}  # fmt: skip
