"""NGSI-LD errors: ProblemDetails (RFC 7807) with the types of CIM 009 §5.5.2.

Every refusal of the broker is an ``NgsiLdError``; the HTTP binding turns it
into ``application/json`` ProblemDetails with the specification's ``type`` URI
and status code, never a 500 for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"

#: Error type -> HTTP status (CIM 009 V1.8.1, table 5.5.2-1).
STATUS = {
    "InvalidRequest": 400,
    "BadRequestData": 400,
    "AlreadyExists": 409,
    "OperationNotSupported": 422,
    "ResourceNotFound": 404,
    "InternalError": 500,
    "TooComplexQuery": 403,
    "TooManyResults": 403,
    "LdContextNotAvailable": 503,
    "NoMultiTenantSupport": 501,
    "NonexistentTenant": 404,
    # Not NGSI-LD types: the platform's own refusals of an unauthenticated or forbidden caller.
    "Unauthorized": 401,
    "Forbidden": 403,
    "PayloadTooLarge": 413,
    "UnsupportedMediaType": 415,
    "NotAcceptable": 406,
    "MethodNotAllowed": 405,
    "TooManyRequests": 429,
}

_PLATFORM = {"Unauthorized", "Forbidden", "PayloadTooLarge", "UnsupportedMediaType",
             "NotAcceptable", "MethodNotAllowed", "TooManyRequests"}  # fmt: skip


@dataclass
class NgsiLdError(Exception):
    """A refusal; ``kind`` is an error type name of CIM 009 (or a platform one)."""

    kind: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"

    @property
    def status(self) -> int:
        return STATUS[self.kind]

    @property
    def type_uri(self) -> str:
        if self.kind in _PLATFORM:
            return f"https://alzette.eu/problems/{self.kind[0].lower()}{self.kind[1:]}"
        return ERRORS + self.kind

    def problem(self) -> dict[str, Any]:
        """The ProblemDetails body."""
        body = {"type": self.type_uri, "title": _TITLES.get(self.kind, self.kind)}
        body["status"] = self.status
        body["detail"] = self.detail
        body.update(self.extra)
        return body


_TITLES = {
    "InvalidRequest": "Invalid request",
    "BadRequestData": "Bad request data",
    "AlreadyExists": "Already exists",
    "OperationNotSupported": "Operation not supported",
    "ResourceNotFound": "Resource not found",
    "InternalError": "Internal error",
    "TooComplexQuery": "Too complex query",
    "TooManyResults": "Too many results",
    "LdContextNotAvailable": "LD context not available",
    "NoMultiTenantSupport": "No multi-tenant support",
    "NonexistentTenant": "Nonexistent tenant",
}


def invalid(detail: str) -> NgsiLdError:
    return NgsiLdError("InvalidRequest", detail)


def bad_data(detail: str, **extra: Any) -> NgsiLdError:
    return NgsiLdError("BadRequestData", detail, extra)


def not_found(detail: str) -> NgsiLdError:
    return NgsiLdError("ResourceNotFound", detail)


def exists(detail: str) -> NgsiLdError:
    return NgsiLdError("AlreadyExists", detail)
