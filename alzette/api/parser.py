"""Request body parsing with errors precise enough to answer 400 or 415."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


class BodyError(Exception):
    """A body that cannot be read; carries the HTTP status and a safe message."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class StrictJsonParser(Parser):
    """Accept only JSON media types, and say where malformed JSON breaks."""

    def parse_body(self, request: HttpRequest) -> Any:
        if not _is_json(request.content_type or ""):
            raise BodyError(
                415, f"Send the body as application/json, not {request.content_type!r}."
            )
        try:
            return json.loads(request.body)
        except UnicodeDecodeError as exc:
            raise BodyError(400, "The body is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise BodyError(
                400, f"Malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from exc
