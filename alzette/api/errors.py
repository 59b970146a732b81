"""Every API error as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from alzette.api.parser import BodyError
from alzette.core.problems import problem_response, unexpected_error_response

log = logging.getLogger("alzette.errors")


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Keep only what a client can act on; pydantic's ctx may hold unserialisable objects.
    return [
        {
            "location": [str(part) for part in error.get("loc", ())],
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problem_response(
        request,
        422,
        "The request does not match the expected schema.",
        errors=_field_errors(exc.errors),
    )


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, BodyError):  # raised by StrictJsonParser, wrapped by ninja
        return problem_response(request, cause.status, cause.detail)
    return problem_response(request, exc.status_code, str(exc))


def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 404, str(exc) or "No resource at this address.")


def on_permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 403, "You are not allowed to do this.")


def on_authentication_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 401, "Authentication is required.")


def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = problem_response(request, 429, "Too many requests; slow down.")
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    return response


def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 413, "The request body is too large.")


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    return unexpected_error_response(request, log)


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the problem+json handlers on ``api``."""
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(AuthenticationError, on_authentication_error)
    api.add_exception_handler(Throttled, on_throttled)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
    api.add_exception_handler(Exception, on_unexpected)
