"""The HTTP binding's plumbing (CIM 009 §6.3): media types, @context, tenants.

``Call`` gathers what every endpoint needs from a request: the tenant, the
caller, the resolved @context (Link header for application/json, the body's
``@context`` for application/ld+json) and the parsed body; ``answer`` turns a
result into a response with the right Content-Type and Link header.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from alzette.territory.ngsild import jsonld, ldcontexts, notifier, security, tenants
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, invalid

logger = logging.getLogger(__name__)

JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
_LINK = re.compile(r"^\s*<([^>]+)>\s*;(.*)$")


@dataclass
class Call:
    request: HttpRequest
    tenant: str
    caller: security.Caller
    ctx: jsonld.Context
    body: Any = None
    accept: str = JSON

    def require_write(self) -> None:
        security.require_write(self.caller, self.tenant)

    def require_read(self) -> None:
        security.require_read(self.caller, self.tenant)
        tenants.require(self.tenant)

    def param(self, name: str) -> str | None:
        value = self.request.GET.get(name)
        return value if value not in (None, "") else None

    def list_param(self, name: str) -> list[str] | None:
        value = self.param(name)
        if value is None:
            return None
        items = [v.strip() for v in value.split(",")]
        if not all(items):
            raise bad_data(f"{name} has an empty item")
        return items


def endpoint(*, body: bool = False, document: bool = False) -> Callable:
    """Wrap a view: build its Call, map NgsiLdError (and surprises) to ProblemDetails.

    ``document``: the body is a JSON-LD document to keep as is (/jsonldContexts),
    not a payload whose @context applies to the request.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                with_body = body and request.method in ("POST", "PATCH", "PUT")
                call = _call(request, with_body, document)
                response = view(call, *args, **kwargs)
                notifier.flush()
                return response
            except NgsiLdError as exc:
                return problem(exc)
            except DatabaseError:
                logger.exception("NGSI-LD request failed in the database")
                return problem(NgsiLdError("InternalError", "the request could not be stored"))

        return wrapper

    return decorate


def _call(request: HttpRequest, with_body: bool, document: bool = False) -> Call:
    tenant = tenants.check(request.headers.get("NGSILD-Tenant"))
    who = security.caller(request.headers.get("Authorization"), getattr(request, "partner", None),
                          f"{request.method} {request.path}")  # fmt: skip
    accept = _accept(request.headers.get("Accept"))
    payload, local = None, _link_context(request)
    if with_body and document:
        payload = _document(request)
    elif with_body:
        payload, local = _body(request, local)
    ctx = jsonld.resolve(local, ldcontexts.lookup)
    return Call(request, tenant, who, ctx, payload, accept)


def _accept(header: str | None) -> str:
    if not header:
        return JSON
    ranked = []
    for part in header.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranked.append((q, media.lower()))
    for _, media in sorted(ranked, key=lambda r: -r[0]):
        if media in (JSON, JSONLD, GEOJSON):
            return media
        if media in ("*/*", "application/*"):
            return JSON
    raise NgsiLdError("NotAcceptable", "this broker answers application/json, "
                      "application/ld+json or application/geo+json")  # fmt: skip


def _link_context(request: HttpRequest) -> str | None:
    header = request.headers.get("Link")
    if not header:
        return None
    found = []
    for part in _split_links(header):
        match = _LINK.match(part)
        if match is None:
            raise bad_data("malformed Link header")
        if f'rel="{CONTEXT_REL}"' in match.group(2).replace(" ", "") or CONTEXT_REL in match.group(
            2
        ):
            found.append(match.group(1))
    if len(found) > 1:
        raise bad_data("more than one JSON-LD context Link header")
    return found[0] if found else None


def _split_links(header: str) -> list[str]:
    return [p for p in re.split(r",\s*(?=<)", header) if p.strip()]


def _body(request: HttpRequest, link: str | None) -> tuple[Any, Any]:
    media = (request.content_type or "").lower()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise NgsiLdError("PayloadTooLarge", "the request body is too large") from None
    if media not in (JSON, JSONLD, MERGE_PATCH):
        raise NgsiLdError("UnsupportedMediaType", f"Content-Type {media or '(none)'} is not "
                          "application/json or application/ld+json")  # fmt: skip
    try:
        payload = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"the body is not valid JSON: {exc}") from None
    if payload is None:
        raise invalid("the request needs a JSON body")
    if media == JSONLD:
        if link is not None:
            raise bad_data("application/ld+json carries its @context in the body, not a Link")
        return payload, _ld_context(payload)
    if _has_context(payload):
        raise bad_data("an @context in an application/json body is not allowed: "
                       "use application/ld+json or a Link header")  # fmt: skip
    return payload, link


def _document(request: HttpRequest) -> Any:
    if (request.content_type or "").lower() not in (JSON, JSONLD):
        raise NgsiLdError("UnsupportedMediaType", "a context is application/ld+json or JSON")
    try:
        return json.loads(request.body or b"null")
    except RequestDataTooBig:
        raise NgsiLdError("PayloadTooLarge", "the request body is too large") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"the body is not valid JSON: {exc}") from None


def _has_context(payload: Any) -> bool:
    items = payload if isinstance(payload, list) else [payload]
    return any(isinstance(i, dict) and "@context" in i for i in items)


def _ld_context(payload: Any) -> Any:
    items = payload if isinstance(payload, list) else [payload]
    contexts = [i.get("@context") if isinstance(i, dict) else None for i in items]
    if not items or any(c is None for c in contexts):
        raise bad_data("an application/ld+json body must carry an @context")
    if any(c != contexts[0] for c in contexts):
        raise bad_data("every entity of a batch must carry the same @context")
    return contexts[0]


def answer(call: Call, data: Any, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """A JSON answer in the caller's representation, with its @context."""
    media = JSONLD if call.accept == JSONLD else (GEOJSON if call.accept == GEOJSON else JSON)
    if media == JSONLD:
        data = _with_context(data, call.ctx.body_value())
    response = HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=media)
    if media != JSONLD:
        link = call.ctx.link() or jsonld.CORE
        response["Link"] = f'<{link}>; rel="{CONTEXT_REL}"; type="{JSONLD}"'
    for name, value in (headers or {}).items():
        response[name] = value
    if call.tenant:
        response["NGSILD-Tenant"] = call.tenant
    return response


def _with_context(data: Any, context: Any) -> Any:
    if isinstance(data, list):
        return [_with_context(d, context) for d in data]
    if isinstance(data, dict) and data.get("type") != "FeatureCollection":
        return {**data, "@context": context}
    return data


def empty(call: Call | None = None, status: int = 204, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    if call is not None and call.tenant:
        response["NGSILD-Tenant"] = call.tenant
    return response


def problem(error: NgsiLdError) -> HttpResponse:
    return HttpResponse(
        json.dumps(error.problem(), ensure_ascii=False),
        status=error.status,
        content_type="application/json",
    )


def not_allowed(allowed: list[str]) -> HttpResponse:
    response = problem(NgsiLdError("MethodNotAllowed", "method not allowed on this resource"))
    response["Allow"] = ", ".join(allowed)
    return response


def flag(value: str | None) -> bool:
    """A boolean query parameter."""
    if value in (None, "", "false"):
        return False
    if value == "true":
        return True
    raise bad_data(f"expected true or false, got {value!r}")
