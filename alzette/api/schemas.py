"""Schemas shared by every API router."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class FieldError(Schema):
    location: list[str]
    message: str
    type: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="URI identifying the problem type.")
    title: str = Field(..., description="Short summary of the problem type.")
    status: int = Field(..., description="HTTP status code.")
    detail: str | None = Field(None, description="Explanation specific to this occurrence.")
    instance: str | None = Field(None, description="The path of the request.")
    errors: list[FieldError] | None = Field(None, description="Field-level validation errors.")
    request_id: str | None = None


def problem_responses(*statuses: int) -> dict[int, Any]:
    """Response map entries documenting problem+json for ``statuses``."""
    return dict.fromkeys(statuses, Problem)
