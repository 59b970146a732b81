"""HTTP side of the CKAN Action API: read the parameters as CKAN does, wrap the answer
in CKAN's envelope. The actions themselves are in ``ckan``."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from alzette.territory.catalogue import ckan

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json;charset=utf-8"
# ApiProblemMiddleware rewrites every /api error that is not problem+json; the CKAN
# envelope survives it only under that media type (still JSON for every client). Use
# CONTENT_TYPE here once the middleware lets /api/3/ through.


@csrf_exempt  # a read-only public API: POST only carries the parameters as JSON
@require_http_methods(["GET", "POST"])
def action(request: HttpRequest, name: str) -> HttpResponse:
    """One action: parameters from the query string, a form, or a JSON object body."""
    help_url = ckan.help_url(name)
    if name not in ckan.ACTIONS:
        unknown = ckan.UnknownAction(f"Bad request - Action name not known: {name}")
        return _failure(help_url, unknown)
    try:
        params = _params(request)
    except ValueError as exc:
        return _failure(help_url, ckan.ActionError(f"Bad request - JSON Error: {exc}"))
    try:
        result = ckan.run(name, params)
    except ckan.ActionError as exc:
        return _failure(help_url, exc)
    except Exception:  # CKAN answers its own envelope, never a bare 500 page
        log.exception("CKAN action %s failed", name)
        error = ckan.ActionError("Internal Server Error")
        error.status, error.kind = 500, "Internal Server Error"
        return _failure(help_url, error)
    return _answer({"help": help_url, "success": True, "result": result}, 200, CONTENT_TYPE)


def _params(request: HttpRequest) -> dict[str, Any]:
    """CKAN's order: a POST form, else the query string, else a JSON object body."""
    if request.method == "POST" and request.POST:
        return _mixed(request.POST)
    if request.GET:
        return _mixed(request.GET)
    if request.method == "POST" and request.body.strip():
        try:
            data = json.loads(request.body)
        except ValueError as exc:
            raise ValueError(f"the body is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"the body decoded to {type(data).__name__}, not an object")
        return data
    return {}


def _mixed(values: Any) -> dict[str, Any]:
    # A repeated parameter is a list, a single one a string, as CKAN reads them.
    return {key: items[0] if len(items) == 1 else items for key, items in values.lists()}


def _failure(help_url: str, error: ckan.ActionError) -> HttpResponse:
    body = {"help": help_url, "success": False, "error": error.error()}
    return _answer(body, error.status, CONTENT_TYPE)


def _answer(body: dict[str, Any], status: int, content_type: str) -> HttpResponse:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(text, status=status, content_type=content_type)
