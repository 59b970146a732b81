"""The recycling centres' gates at /api/v1/waste: thin adapters over ``services``.

A gate reads a badge or a number plate and asks whether to open; it authenticates
with a key of its centre in the ``X-Gate-Key`` header (``alzette households gate-key
<centre>`` prints one). The card's value is used to find its keyed digest and is
never stored nor logged. See docs/households.md.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader
from pydantic import Field

from alzette.api.schemas import problem_responses
from alzette.personal.households import services


class GateKeyHeader(APIKeyHeader):
    param_name = "X-Gate-Key"
    openapi_description = (
        "A key of the recycling centre's gate (alzg_…), printed once by "
        "`alzette households gate-key <centre>`."
    )

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        match = getattr(request, "resolver_match", None)
        slug = match.kwargs.get("slug", "") if match else ""
        if slug and services.gate_key_valid(slug, key):
            return slug
        return None


router = Router(tags=["waste"], auth=GateKeyHeader())

_CARD = r"^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$"
_SLUG_PATH = Path(..., pattern=r"^[a-z0-9][a-z0-9-]{0,59}$", description="The centre's short name.")


class AccessIn(Schema):
    badge: str | None = Field(
        None, pattern=_CARD, description="The badge read at the gate (give a badge or a plate)."
    )
    plate: str | None = Field(
        None,
        pattern=_CARD,
        description="The number plate read at the gate (spaces and dashes ignored).",
    )


class AccessOut(Schema):
    allowed: bool = Field(..., description="Whether the gate opens.")
    reason: str = Field(
        ...,
        description="allowed, unknown_card, not_resident, quota_exhausted or full.",
    )
    remaining: int = Field(..., description="Visits the household has left this year.")


class ExitOut(Schema):
    recorded: bool


def _centre(slug: str) -> None:
    try:
        services.centre(slug)
    except (services.UnknownCentre, ImportError) as exc:
        raise HttpError(404, "No recycling centre has this short name.") from exc


@router.post(
    "/centres/{slug}/access",
    response={200: AccessOut, **problem_responses(400, 401, 404)},
    summary="Decide at a recycling centre's gate for a badge or a number plate",
)
def access(request: HttpRequest, body: AccessIn, slug: str = _SLUG_PATH) -> dict[str, Any]:
    if (body.badge is None) == (body.plate is None):
        raise HttpError(400, "Send either a badge or a plate, not both and not neither.")
    _centre(slug)
    decision = services.decide_access(slug, badge=body.badge, plate=body.plate)
    return {"allowed": decision.allowed, "reason": decision.reason, "remaining": decision.remaining}


@router.post(
    "/centres/{slug}/exit",
    response={200: ExitOut, **problem_responses(401, 404)},
    summary="A vehicle left the recycling centre (anonymous)",
)
def exit_(request: HttpRequest, slug: str = _SLUG_PATH) -> dict[str, Any]:
    _centre(slug)
    services.record_exit(slug)
    return {"recorded": True}
