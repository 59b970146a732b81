"""Request id, access log and problem+json guard for the API."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from alzette.core.logging import request_id_var
from alzette.core.problems import (
    PROBLEM_CONTENT_TYPE,
    is_api_path,
    problem_response,
    unexpected_error_response,
)

access_log = logging.getLogger("alzette.access")
error_log = logging.getLogger("alzette.errors")

# A caller's request id is reused only when it is short and harmless in logs.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Give every request an id (the caller's X-Request-ID when safe), echo it, log the access."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class ApiProblemMiddleware:
    """Under /api, every error leaves as problem+json and oversized bodies are refused early.

    Django answers unknown routes, and ninja answers wrong methods, with HTML or
    plain bodies; API clients must get one machine-readable format instead.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path):
            return self.get_response(request)
        too_big = self._refuse_oversized(request)
        if too_big is not None:
            return too_big
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_structured(response):
            return self._as_problem(request, response)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        if isinstance(exc, RequestDataTooBig):
            return problem_response(request, 413, "The request body is too large.")
        if isinstance(exc, Http404):
            return problem_response(request, 404, "No resource at this address.")
        if isinstance(exc, PermissionDenied):
            return problem_response(request, 403, "You are not allowed to do this.")
        if isinstance(exc, SuspiciousOperation):
            return problem_response(request, 400, "The request was refused as malformed.")
        return unexpected_error_response(request, error_log)

    @staticmethod
    def _refuse_oversized(request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(request, 400, "Content-Length is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return problem_response(
                request, 413, f"The request body is too large (limit {limit} bytes)."
            )
        return None

    @staticmethod
    def _as_problem(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        detail = {
            404: "No resource at this address.",
            405: f"Method {request.method} is not allowed here.",
        }.get(response.status_code)
        problem = problem_response(request, response.status_code, detail)
        if response.has_header("Allow"):
            problem["Allow"] = response["Allow"]
        return problem


def _is_structured(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    return content_type == PROBLEM_CONTENT_TYPE
