"""Water networks in the platform API (/api/v1/water): districts, agents only.

Authentication as supervision's API: a signed-in agent's session (with its CSRF
token on writes) or an agent's bearer token. See docs/water.md.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.core.problems import problem_response
from alzette.territory.supervision.api import AgentToken
from alzette.territory.water import services
from alzette.territory.water.models import District

DB = services.DB

router = Router(tags=["water"], auth=[AgentToken(), django_auth])


class DistrictOut(Schema):
    slug: str
    name: str
    commune: str
    night_flow_threshold: int = Field(description="L/h")
    balance_threshold: float = Field(description="share of the inflow, 0-1")
    inflow_entity: str
    pressure_entity: str
    quality_entity: str
    meters: int


class NightOut(Schema):
    day: date
    min_flow: float | None = Field(None, description="L/h, 02:00-04:00 local")
    above: bool


class BalanceOut(Schema):
    day: date
    inflow_m3: float | None
    metered_m3: float
    reporting: float
    estimated_m3: float | None
    loss_share: float | None


class LatestOut(Schema):
    flow: float | None = Field(None, description="L/h")
    flow_at: datetime | None = None
    index_m3: float | None = None
    min_flow: float | None = None
    pressure: float | None = Field(None, description="bar")
    pressure_at: datetime | None = None
    quality: dict[str, float] = {}
    quality_at: datetime | None = None


class DistrictDetailOut(DistrictOut):
    latest: LatestOut
    nights: list[NightOut]
    balances: list[BalanceOut]
    can_change: bool


class DistrictPatch(Schema):
    name: str | None = None
    night_flow_threshold: int | None = None
    balance_threshold: float | None = None


def _agent(request: HttpRequest) -> None:
    if not services.abilities(request.user)["view"]:
        raise HttpError(403, "Only agents see the water network.")


def _district(slug: str) -> District:
    found = District.objects.using(DB).filter(slug=slug).first()
    if found is None:
        raise Http404("No such district.")
    return found


def _out(district: District) -> dict[str, Any]:
    return {
        "slug": district.slug, "name": district.name, "commune": district.commune,
        "night_flow_threshold": district.night_flow_threshold,
        "balance_threshold": district.balance_threshold,
        "inflow_entity": district.inflow_entity,
        "pressure_entity": services.pressure_id(district.slug),
        "quality_entity": services.quality_id(district.slug),
        "meters": district.meters.using(DB).filter(removed_on=None).count(),
    }  # fmt: skip


def _detail(request: HttpRequest, district: District) -> dict[str, Any]:
    f = services.figures(district)
    return {
        **_out(district),
        "latest": {"flow": f.flow, "flow_at": f.flow_at, "index_m3": f.index_m3,
                   "min_flow": f.min_flow, "pressure": f.pressure, "pressure_at": f.pressure_at,
                   "quality": f.quality, "quality_at": f.quality_at},
        "nights": [{"day": d, "min_flow": v,
                    "above": v is not None and v > district.night_flow_threshold}
                   for d, v in services.night_flows(district)],
        "balances": [vars(b) for b in services.balances(district)],
        "can_change": services.abilities(request.user, district)["change"],
    }  # fmt: skip


@router.get("/districts", response={200: list[DistrictOut], **problem_responses(401, 403)},
            summary="Water distribution districts")  # fmt: skip
def list_districts(request: HttpRequest) -> list[dict[str, Any]]:
    _agent(request)
    return [_out(d) for d in District.objects.using(DB).all()]


@router.get("/districts/{slug}",
            response={200: DistrictDetailOut, **problem_responses(401, 403, 404)},
            summary="A district with its latest figures, night flows and balance")  # fmt: skip
def get_district(request: HttpRequest, slug: str) -> dict[str, Any]:
    _agent(request)
    return _detail(request, _district(slug))


@router.patch("/districts/{slug}",
              response={200: DistrictDetailOut, **problem_responses(401, 403, 404, 422)},
              summary="Change a district's name or thresholds")  # fmt: skip
def patch_district(request: HttpRequest, slug: str, body: DistrictPatch) -> Any:
    _agent(request)
    district = _district(slug)
    if not services.abilities(request.user, district)["change"]:
        raise HttpError(403, "Only agents of the district's commune or the EPCI change it.")
    changes = body.model_dump(exclude_none=True)
    if not changes:
        return problem_response(request, 422, "Nothing to change.",
                                errors={"__all__": ["Give at least one field."]})  # fmt: skip
    try:
        actor = getattr(request.user, "pseudonym", "") or "system:water"
        district = services.update_district(district, changes, actor=actor)
    except DjangoValidationError as exc:
        return _invalid(request, exc)
    return _detail(request, district)


def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return problem_response(request, 422, "The district's settings are not valid.", errors=errors)
