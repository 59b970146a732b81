"""Refusals of the document store, each with a stable ``code`` for clients.

The API turns them into problem documents (``api.STATUS`` maps codes to HTTP
statuses); the message is meant for the person who sent the request.
"""

from __future__ import annotations

from typing import Any


class DocumentError(Exception):
    """A request the store refuses; nothing was written."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
