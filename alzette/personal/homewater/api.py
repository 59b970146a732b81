"""A household's own water consumption in the platform API (/api/v1/water).

For the citizen signed in (session, with its CSRF token on writes): ``GET /me`` (the
household's meter, last 30 days, last 12 months, the comparison, the warnings; 404
problem without a meter) and ``POST /me/warnings/{id}/seen``. Agents, administrators
and partners get 403: nobody reads a household's consumption through this API but
its members. See docs/home-water.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from alzette.api.schemas import problem_responses
from alzette.personal.homewater import services
from alzette.personal.homewater.models import Warning

router = Router(tags=["water"], auth=django_auth)


class MeterOut(Schema):
    serial: str
    starts_on: date
    persons: int


class DayOut(Schema):
    day: date
    litres: int


class MonthOut(Schema):
    month: str
    litres: int
    days: int


class ComparisonOut(Schema):
    litres_per_person_day: float | None
    band: str
    persons: int
    scope: str
    households: int
    q1: float | None
    median: float | None
    q3: float | None
    this_month_per_day: float | None
    last_year_per_day: float | None


class WarningOut(Schema):
    id: UUID
    kind: str
    started_at: datetime
    ended_at: datetime | None
    detail: dict[str, float]
    notified_at: datetime | None
    seen_at: datetime | None


class MeOut(Schema):
    meter: MeterOut
    days: list[DayOut]
    months: list[MonthOut]
    comparison: ComparisonOut
    warnings: list[WarningOut]


def _citizen(request: HttpRequest) -> None:
    if not services.abilities(request.user)["read_own"]:
        raise HttpError(403, "Only a household's members read its water consumption.")


def _warning(w: Warning) -> dict[str, Any]:
    return {
        "id": w.pk, "kind": w.kind, "started_at": w.started_at, "ended_at": w.ended_at,
        "detail": w.detail, "notified_at": w.notified_at, "seen_at": w.seen_at,
    }  # fmt: skip


@router.get(
    "/me",
    response={200: MeOut, **problem_responses(401, 403, 404)},
    summary="My household's water meter, consumption, comparison and warnings",
)
def me(request: HttpRequest) -> dict[str, Any]:
    _citizen(request)
    household = services.household_of(request.user)
    if household is None or services.current_meter(household) is None:
        raise HttpError(404, "No water meter is allocated to your household.")
    data = services.overview(household, timezone.localdate())
    meter = data["meter"]
    return {
        "meter": {"serial": meter.serial, "starts_on": meter.starts_on, "persons": meter.persons},
        "days": data["days"],
        "months": [
            {"month": f"{m['year']}-{m['month']:02d}", "litres": m["litres"], "days": m["days"]}
            for m in data["months"]
        ],
        "comparison": data["comparison"].__dict__,
        "warnings": [_warning(w) for w in data["warnings"]],
    }


@router.post(
    "/me/warnings/{warning_id}/seen",
    response={200: WarningOut, **problem_responses(401, 403, 404)},
    summary="Mark one of my household's water warnings as seen",
)
def seen(request: HttpRequest, warning_id: UUID) -> dict[str, Any]:
    _citizen(request)
    warning = services.warnings_for(request.user).filter(pk=warning_id).first()
    if warning is None:
        raise HttpError(404, "Your household has no such warning.")
    return _warning(services.mark_seen(warning))
