"""Authenticate partner applications and enforce their rate limits on every request.

A request bearing ``Authorization: Bearer alzp_…`` (API key) or ``alzt_…`` (OAuth2
access token) gets ``request.partner``; any other request passes untouched (the
NGSI-LD broker's own keys, sessions, anonymous open-data reads). A bad, revoked or
expired partner credential is refused here, never downgraded to an anonymous call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from alzette.core.problems import problem_response
from alzette.territory.partners import access

_NGSILD = "/ngsi-ld/"
log = logging.getLogger("alzette.partners")


class PartnerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.partner = None  # type: ignore[attr-defined]
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and access.is_partner_credential(token):
            try:
                caller = access.authenticate(token)
                access.consume(caller.app)
            except access.AccessDenied as exc:
                return refusal(request, exc)
            request.partner = caller  # type: ignore[attr-defined]
        return self.get_response(request)


def refusal(request: HttpRequest, exc: access.AccessDenied) -> HttpResponse:
    """The refusal in the format of the API that was called, logged for the operators."""
    log.info(
        "partner call refused: %s %s -> %s (%s)",
        request.method,
        request.path,
        exc.status,
        exc.reason,
    )
    if request.path.startswith(_NGSILD):
        response = _ngsild_problem(exc)
    else:
        response = problem_response(request, exc.status, exc.reason)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _ngsild_problem(exc: access.AccessDenied) -> HttpResponse:
    from alzette.territory.ngsild.errors import NgsiLdError

    kind = {401: "Unauthorized", 403: "Forbidden", 429: "TooManyRequests"}[exc.status]
    error = NgsiLdError(kind, exc.reason)
    return HttpResponse(
        json.dumps(error.problem()), status=exc.status, content_type="application/json"
    )
