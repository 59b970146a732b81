"""The identity providers offered on the sign-in pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from alzette.personal.identity.providers import offered


def identity_providers(request: HttpRequest) -> dict[str, Any]:
    # Evaluated lazily: only pages that show the buttons pay for it.
    return {"identity_providers": lambda: offered(request)}
