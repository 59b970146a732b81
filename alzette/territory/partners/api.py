"""What a partner application can learn about itself: scopes, quotas, usage, grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from alzette.api.openapi import PARTNER_REQUIRED
from alzette.api.schemas import problem_responses
from alzette.territory.partners import access

router = Router(tags=["partners"])


class GrantOut(Schema):
    subject: str
    kind: str
    granted_by: str
    purpose: str
    starts_at: datetime
    ends_at: datetime


class UsageOut(Schema):
    day: str
    requests: int
    refused: int


class MeOut(Schema):
    application: str
    client_id: str
    organisation: str
    environment: str
    scopes: list[str]
    credential_scopes: list[str]
    per_minute: int
    per_day: int
    usage: list[UsageOut]
    grants: list[GrantOut]


@router.get(
    "/me",
    response={200: MeOut, **problem_responses(401, 429)},
    summary="The calling application: its scopes, quotas, usage and grants in force",
    openapi_extra=PARTNER_REQUIRED,
)
def me(request: HttpRequest) -> dict[str, Any]:
    caller = getattr(request, "partner", None)
    if caller is None:
        raise HttpError(401, "Send a partner API key or access token (Authorization: Bearer).")
    app = caller.app
    return {
        "application": app.name,
        "client_id": app.client_id,
        "organisation": app.organisation.slug,
        "environment": app.environment,
        "scopes": app.scopes,
        "credential_scopes": sorted(caller.scopes),
        "per_minute": app.per_minute,
        "per_day": app.per_day,
        "usage": [
            {"day": d, "requests": r, "refused": x} for d, r, x in access.usage_by_day(app, 14)
        ],
        "grants": [_grant(g) for g in caller.grants()],
    }


def _grant(grant: Any) -> dict[str, Any]:
    return {
        "subject": grant.subject,
        "kind": "dataset" if grant.dataset_id else "scope",
        "granted_by": grant.granted_by.slug,
        "purpose": grant.purpose,
        "starts_at": grant.starts_at,
        "ends_at": grant.ends_at,
    }
