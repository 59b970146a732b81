"""Street lighting energy and savings in the platform API (/api/v1/lighting/energy).

Agents only, like supervision: a signed-in agent's session or an agent's bearer token
(``supervision.api.AgentToken``). See docs/lighting-energy.md.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.territory.lighting.energy import services
from alzette.territory.supervision.api import AgentToken
from alzette.territory.supervision.services import actor_of

router = Router(tags=["lighting"], auth=[AgentToken(), django_auth])


class EnergyQuery(Schema):
    commune: str = Field("", pattern=r"^(\d[0-9AB]\d{3})?$",
                         description="INSEE code; empty for the whole territory.")  # fmt: skip
    months: int = Field(12, ge=1, le=services.MAX_MONTHS, description="Months, current last.")


class MonthOut(Schema):
    month: str = Field(..., description="YYYY-MM")
    actual_kwh: float
    full_kwh: float = Field(..., description="Every lamp at its powerRating over the hours "
                            "between sunset and sunrise its reports cover.")  # fmt: skip
    saved_kwh: float
    saved_eur: float
    saved_share: float | None
    co2_kg: float = Field(..., description="CO2 avoided (kg).")
    lamps: int
    nights: int = Field(..., description="Lamp-nights counted.")
    coverage: float | None = Field(..., description="covered_hours / night_hours: how much of "
                                   "the nights the figures describe.")  # fmt: skip
    low_coverage: bool = Field(..., description=f"coverage below {services.LOW_COVERAGE}.")
    covered_hours: float = Field(..., description="Sunset-to-sunrise hours covered by reports, "
                                 "summed over the lamp-nights.")  # fmt: skip
    night_hours: float = Field(..., description="Sunset-to-sunrise hours of the same lamp-nights.")
    metered_kwh: float | None = Field(..., description="Cabinets' meters, a cross-check.")
    cabinets: int


class EnergyOut(Schema):
    commune: str
    eur_per_kwh: float
    kg_co2_per_kwh: float
    months: list[MonthOut]


def _month(row: services.MonthSaving) -> dict[str, Any]:
    out = {name: getattr(row, name) for name in MonthOut.model_fields if name != "month"}
    return {**out, "month": row.key}


@router.get("/energy", response={200: EnergyOut, **problem_responses(401, 403, 422)},
            summary="Street lighting energy and savings per month")  # fmt: skip
def energy(request: HttpRequest, query: Query[EnergyQuery]) -> dict[str, Any]:
    if not services.abilities(actor_of(request.user))["view"]:
        raise HttpError(403, "Only agents see the street lighting energy.")
    if query.commune and not _known(query.commune):
        raise HttpError(422, "No such commune on the territory.")
    rows = services.territory_savings(query.commune or None, query.months)
    return {"commune": query.commune, "eur_per_kwh": services.eur_per_kwh(),
            "kg_co2_per_kwh": services.kg_co2_per_kwh(),
            "months": [_month(r) for r in rows]}  # fmt: skip


def _known(code: str) -> bool:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using(services.DB)
    return units.filter(kind=UnitKind.COMMUNE, code=code).exists()
