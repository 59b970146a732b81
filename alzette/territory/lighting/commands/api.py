"""Commands to streetlights and each lamp's state in the platform API (/api/v1/lighting).

Agents only (a session or an agent's bearer token, as the supervision API). A
commune's agents command their commune's lamps, the EPCI's agents every lamp
(``services.abilities``). See docs/lighting-commands.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status as Reply
from ninja.security import django_auth
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.core.problems import problem_response
from alzette.territory.lighting.commands import services
from alzette.territory.lighting.commands.models import Command, LampState
from alzette.territory.supervision.api import AgentToken

router = Router(tags=["lighting"], auth=[AgentToken(), django_auth])


def _agent(request: HttpRequest) -> services.Actor:
    actor = services.actor_of(request.user)
    if not services.abilities(actor)["view"]:
        raise HttpError(403, "Only agents command streetlights.")
    return actor


class CommandIn(Schema):
    lamps: list[str] = Field(default_factory=list, max_length=1000,
                             description="Streetlight entity ids.")  # fmt: skip
    group: str = Field("", max_length=255, description="A StreetlightGroup entity id.")
    level: float = Field(..., ge=0, le=1, description="0 off, 1 on, between: dimmed.")
    hold_minutes: int | None = Field(
        None, ge=1, le=1440,
        description="How long the schedule leaves the lamps at this level before taking them "
        "back (default ALZETTE_LIGHTING_MANUAL_HOLD_MINUTES, 60).",
    )  # fmt: skip


class CommandOut(Schema):
    id: str
    lamp: str
    device: str
    action: str
    level: float
    source: str
    state: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    acked_at: datetime | None
    failed_at: datetime | None
    error_code: str
    error_detail: str


class LampOut(Schema):
    lamp: str
    commune: str
    wanted_level: float | None
    wanted_source: str
    held_until: datetime | None = Field(
        None, description="An agent's command holds the lamp until then; the schedule "
        "takes it back afterwards.")  # fmt: skip
    command_state: str
    last_command: str | None
    error_code: str
    power_state: str
    illuminance_level: float | None
    power_consumption: float | None
    status: str
    reported_at: datetime | None
    last_seen: datetime | None


class CommandQuery(Schema):
    lamp: str = Field("", max_length=255)
    state: Literal["commanded", "sent", "acknowledged", "failed", "superseded", ""] = ""
    limit: int = Field(200, ge=1, le=1000)


class LampQuery(Schema):
    commune: str = Field("", max_length=5, pattern=r"^([0-9]{5})?$")


def command_out(command: Command) -> dict[str, Any]:
    return {
        "id": command.id, "lamp": command.lamp_id, "device": command.ae, "action": command.action,
        "level": command.level, "source": command.source, "state": command.state,
        "attempts": command.attempts, "created_at": command.created_at, "sent_at": command.sent_at,
        "acked_at": command.acked_at, "failed_at": command.failed_at,
        "error_code": command.error_code, "error_detail": command.error_detail,
    }  # fmt: skip


def lamp_out(lamp_id: str, state: LampState | None) -> dict[str, Any]:
    last = state.last_command if state else None
    return {
        "lamp": lamp_id, "commune": services.commune_of(lamp_id),
        "wanted_level": state.wanted_level if state else None,
        "wanted_source": state.wanted_source if state else "",
        "held_until": state.held_until if state else None,
        "command_state": services.display_state(state), "last_command": last.id if last else None,
        "error_code": last.error_code if last else "",
        "power_state": state.power_state if state else "",
        "illuminance_level": state.illuminance_level if state else None,
        "power_consumption": state.power_consumption if state else None,
        "status": state.status if state else "",
        "reported_at": state.reported_at if state else None,
        "last_seen": state.last_seen if state else None,
    }  # fmt: skip


SEND_RESPONSES = {202: list[CommandOut], **problem_responses(401, 403, 404, 409, 422)}


@router.post("/commands", response=SEND_RESPONSES,
             summary="Send a level to lamps or a group; one command per lamp")  # fmt: skip
def send_commands(request: HttpRequest, body: CommandIn) -> Any:
    actor = _agent(request)
    if bool(body.lamps) == bool(body.group):
        return problem_response(request, 422, "Give either lamps or a group.")
    lamps = list(dict.fromkeys(body.lamps))
    if body.group:
        found = services.group_lamps(body.group)
        if found is None:
            return problem_response(request, 404, "No such streetlight group.", group=body.group)
        lamps = found
        if not lamps:
            return problem_response(request, 422, "The group has no lamps.", group=body.group)
    unknown = services.unknown_lamps(lamps)
    if unknown:
        return problem_response(request, 422, "Unknown lamps: nothing was sent.", lamps=unknown)
    refused = [lamp for lamp in lamps
               if not services.abilities(actor, services.commune_of(lamp))["command"]]  # fmt: skip
    if refused:
        raise HttpError(403, "You may only command the lamps of your commune.")
    try:
        hold = timedelta(minutes=body.hold_minutes) if body.hold_minutes else None
        sent = services.send(lamps, body.level, source="agent", actor=actor.ref,
                             hold=hold or services.manual_hold())  # fmt: skip
    except services.CommandError as exc:
        return problem_response(request, 422, exc.detail, code=exc.code)
    if all(c.state == Command.State.FAILED and c.error_code == services.OFFLINE for c in sent):
        return problem_response(request, 409, "Every lamp is offline: the commands are recorded "
                                "failed.", commands=[c.id for c in sent])  # fmt: skip
    return Reply(202, [command_out(c) for c in sent])


@router.get("/commands", response={200: list[CommandOut], **problem_responses(401, 403, 422)},
            summary="Commands, newest first")  # fmt: skip
def list_commands(request: HttpRequest, query: Query[CommandQuery]) -> list[dict[str, Any]]:
    _agent(request)
    state = "commanded" if query.state == "sent" else query.state
    found = services.commands(lamp=query.lamp or None, state=state or None, limit=query.limit)
    return [command_out(c) for c in found]


@router.get("/lamps", response={200: list[LampOut], **problem_responses(401, 403, 422)},
            summary="Each lamp's wanted level, command state and reported state")  # fmt: skip
def list_lamps(request: HttpRequest, query: Query[LampQuery]) -> list[dict[str, Any]]:
    _agent(request)
    lamp_ids = services.lamps(query.commune or None)
    states = services.lamp_states(lamp_ids)
    return [lamp_out(lamp_id, states.get(lamp_id)) for lamp_id in lamp_ids]
