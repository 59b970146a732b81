"""Supervision in the platform API (/api/v1/supervision): alerts and alert rules.

Agents only: a signed-in agent's session (with its CSRF token on writes), or a
bearer token the personal side knows how to check. The territory never reads
persons: the accounts app registers that check in ``token_authenticators``
(``alzette.personal.accounts.apps``), as it connects the alert e-mails.
See docs/supervision.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status as Reply
from ninja.security import HttpBearer, django_auth
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.core.problems import problem_response
from alzette.territory.supervision import services
from alzette.territory.supervision.models import Alert, AlertRule

DB = "territory"

#: Functions turning a bearer token into a person (or None), registered by the personal side.
token_authenticators: list[Callable[[str], Any]] = []


class AgentToken(HttpBearer):
    openapi_description = "A personal API token of an agent (alz_…), created in the back office."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        for check in token_authenticators:
            person = check(token)
            if person is not None:
                request.user = person
                return person
        return None


router = Router(tags=["supervision"], auth=[AgentToken(), django_auth])


def _agent(request: HttpRequest) -> services.Actor:
    actor = services.actor_of(request.user)
    if not actor.agent:
        raise HttpError(403, "Only agents supervise devices and alerts.")
    return actor


class AlertOut(Schema):
    id: int
    rule: int
    rule_name: str
    severity: str
    entity_id: str
    state: str
    value: Any = None
    message: str
    fired_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    comment: str


class AlertQuery(Schema):
    state: Literal["firing", "acknowledged", "closed", "open", "all"] = Field(
        "open", description="open = firing or acknowledged."
    )
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class CommentIn(Schema):
    comment: str = Field("", max_length=2000)


class RuleIn(Schema):
    name: str = Field(..., max_length=200)
    entity_type: str = Field(..., max_length=200)
    attribute: str = Field("", max_length=200)
    entity_pattern: str = Field("", max_length=300)
    commune: str = Field("", max_length=5)
    kind: Literal["threshold", "rate", "nodata", "geofence"]
    operator: Literal["gt", "ge", "lt", "le", "eq", "ne", ""] = ""
    value: float | None = None
    minutes: int | None = Field(None, ge=1, le=525_600)
    area: dict[str, Any] | None = None
    area_commune: str = Field("", max_length=5)
    direction: Literal["leaves", "enters", ""] = ""
    severity: Literal["info", "warning", "critical"] = "warning"
    enabled: bool = True


class RuleOut(RuleIn):
    kind: Literal["threshold", "rate", "nodata", "geofence", "detector"]  # type: ignore[assignment]
    detector: str = Field("", description="The platform detector owning the rule, if any.")
    id: int
    unit: str
    created_by: str
    created_at: datetime
    updated_at: datetime


def _alert(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk, "rule": alert.rule_id, "rule_name": alert.rule.name,
        "severity": alert.rule.severity, "entity_id": alert.entity_id, "state": alert.state,
        "value": alert.value, "message": alert.message, "fired_at": alert.fired_at,
        "acknowledged_at": alert.acknowledged_at, "closed_at": alert.closed_at,
        "comment": alert.comment,
    }  # fmt: skip


def _rule(rule: AlertRule) -> dict[str, Any]:
    return {
        **{name: getattr(rule, name) for name in services.RULE_FIELDS},
        "id": rule.pk, "unit": rule.unit, "created_by": rule.created_by, "detector": rule.detector,
        "created_at": rule.created_at, "updated_at": rule.updated_at,
    }  # fmt: skip


@router.get("/alerts", response={200: list[AlertOut], **problem_responses(401, 403)},
            summary="Alerts, open ones by default, newest first")  # fmt: skip
def list_alerts(request: HttpRequest, query: Query[AlertQuery]) -> list[dict[str, Any]]:
    _agent(request)
    rows = Alert.objects.using(DB).select_related("rule")
    if query.state == "open":
        rows = rows.filter(state__in=Alert.OPEN)
    elif query.state != "all":
        rows = rows.filter(state=query.state)
    return [_alert(a) for a in rows[query.offset : query.offset + query.limit]]


def _change(request: HttpRequest, alert_id: int, body: CommentIn, action: Callable) -> dict:
    actor = _agent(request)
    if not Alert.objects.using(DB).filter(pk=alert_id).exists():
        raise Http404("No such alert.")
    try:
        alert = action(actor, alert_id, body.comment)
    except services.NotAllowed:
        raise HttpError(409 if _alert_mine(actor, alert_id) else 403,
                        "This alert cannot take that change now.") from None  # fmt: skip
    return _alert(alert)


def _alert_mine(actor: services.Actor, alert_id: int) -> bool:
    alert = Alert.objects.using(DB).select_related("rule").get(pk=alert_id)
    return actor.epci or alert.rule.unit == actor.unit


@router.post("/alerts/{alert_id}/acknowledge",
             response={200: AlertOut, **problem_responses(401, 403, 404, 409, 422)},
             summary="Acknowledge a firing alert")  # fmt: skip
def acknowledge(request: HttpRequest, alert_id: int, body: CommentIn | None = None) -> dict:
    return _change(request, alert_id, body or CommentIn(), services.acknowledge)


@router.post("/alerts/{alert_id}/close",
             response={200: AlertOut, **problem_responses(401, 403, 404, 409, 422)},
             summary="Close an alert")  # fmt: skip
def close(request: HttpRequest, alert_id: int, body: CommentIn | None = None) -> dict:
    return _change(request, alert_id, body or CommentIn(), services.close)


@router.get("/rules", response={200: list[RuleOut], **problem_responses(401, 403)},
            summary="Alert rules")  # fmt: skip
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    _agent(request)
    return [_rule(r) for r in AlertRule.objects.using(DB).all()]


@router.post("/rules", response={201: RuleOut, **problem_responses(401, 403, 422)},
             summary="Create an alert rule for the agent's unit")  # fmt: skip
def create_rule(request: HttpRequest, body: RuleIn) -> Any:
    actor = _agent(request)
    try:
        rule = services.save_rule(actor, body.model_dump())
    except DjangoValidationError as exc:
        return _invalid(request, exc)
    return Reply(201, _rule(rule))


@router.get("/rules/{rule_id}", response={200: RuleOut, **problem_responses(401, 403, 404)},
            summary="One alert rule")  # fmt: skip
def get_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    _agent(request)
    rule = AlertRule.objects.using(DB).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule.")
    return _rule(rule)


@router.put("/rules/{rule_id}", response={200: RuleOut, **problem_responses(401, 403, 404, 422)},
            summary="Change a rule of the agent's unit (enabled false: disabled)")  # fmt: skip
def update_rule(request: HttpRequest, rule_id: int, body: RuleIn) -> Any:
    actor = _agent(request)
    rule = AlertRule.objects.using(DB).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule.")
    try:
        rule = services.save_rule(actor, body.model_dump(), rule)
    except services.NotAllowed:
        detail = "This rule belongs to another unit or to a platform detector."
        raise HttpError(403, detail) from None
    except DjangoValidationError as exc:
        return _invalid(request, exc)
    return _rule(rule)


def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = [
        {"location": ["body", name], "message": str(message), "type": "value_error"}
        for name, messages in exc.message_dict.items()
        for message in messages
    ]
    return problem_response(request, 422, "The rule is not valid.", errors=errors)
