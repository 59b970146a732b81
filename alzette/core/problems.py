"""RFC 9457 problem details, the one error format of Alzette's own APIs."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://alzette.eu/problems/"


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    type_: str | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """Build a problem document; ``type`` defaults to about:blank as RFC 9457 says."""
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return body


def problem_response(
    request: HttpRequest | None, status: int, detail: str | None = None, **kwargs: Any
) -> HttpResponse:
    """An HttpResponse carrying a problem document for ``request``."""
    instance = request.path if request is not None else None
    body = problem_body(status, detail, instance=instance, **kwargs)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    request_id = getattr(request, "request_id", None)
    if request_id:
        response["X-Request-ID"] = request_id
    return response


def unexpected_error_response(request: HttpRequest, logger: logging.Logger) -> HttpResponse:
    """Log the exception being handled and answer 500 with the request id, no trace."""
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    return problem_response(
        request,
        500,
        "An unexpected error occurred; it has been logged with this request id.",
        request_id=getattr(request, "request_id", None),
    )


#: Under /api but speaking another protocol with its own error envelope: the
#: CKAN-compatible Action API (alzette/territory/catalogue/ckan_views.py).
_FOREIGN_API = ("/api/3/",)


def is_api_path(path: str) -> bool:
    """Paths whose errors must be problem+json."""
    if path.startswith(_FOREIGN_API):
        return False
    return path == "/api" or path.startswith("/api/")
