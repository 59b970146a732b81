"""OGC API - Features views: read the request, call ``ogc``, send JSON.

JSON only: HTML is not offered (``f=html`` is refused), and an Accept header
that allows neither the resource's media type nor plain JSON gets 406.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt

from alzette.core import spatial
from alzette.territory.catalogue import ogc

View = Callable[..., HttpResponse]


def _answers(*media_types: str) -> Callable[[View], View]:
    """GET and HEAD only; OgcError as an OGC exception; the answer's media type chosen
    from ``media_types`` (the view's document is the same in each) by the Accept header."""

    def decorate(view: View) -> View:
        @csrf_exempt  # nothing is written: other methods get 405 in JSON, not a CSRF page
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in ("GET", "HEAD"):
                    raise ogc.OgcError(405, "MethodNotAllowed", "Only GET and HEAD are allowed.")
                media_type = _negotiate(request, media_types)
                ogc.check_format(request.GET)
                response = view(request, *args, **kwargs)
            except ogc.OgcError as exc:
                return _error(exc)
            response["Content-Type"] = media_type
            return response

        return wrapped

    return decorate


def _negotiate(request: HttpRequest, offered: tuple[str, ...]) -> str:
    """The first of ``offered`` (then plain JSON) the Accept header allows."""
    header = request.headers.get("Accept", "").strip()
    if not header or request.GET.get("f"):  # f= wins over Accept (OGC API Common)
        return offered[0]
    accepted = [part.split(";")[0].strip().lower() for part in header.split(",")
                if not _refused(part)]  # fmt: skip
    for media_type in (*offered, ogc.JSON):
        main = media_type.split(";")[0]
        if {main, main.split("/")[0] + "/*", "*/*"} & set(accepted):
            return media_type
    raise ogc.OgcError(406, "NotAcceptable", f"This API answers {', '.join(offered)} only.")


def _refused(part: str) -> bool:
    """Whether an Accept entry carries q=0."""
    for parameter in part.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            try:
                return float(value) == 0
            except ValueError:
                return False
    return False


def _json(document: dict[str, Any], status: int = 200) -> HttpResponse:
    body = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, status=status, content_type=ogc.JSON)


def _error(exc: ogc.OgcError) -> HttpResponse:
    response = _json(exc.body(), exc.status)
    if exc.status == 405:
        response["Allow"] = "GET, HEAD"
    return response


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("ogc-landing"))


def _language() -> str:
    return (translation.get_language() or "fr").split("-")[0]


def _with_crs(response: HttpResponse, crs: str) -> HttpResponse:
    response["Content-Crs"] = f"<{spatial.SUPPORTED_CRS[crs]}>"
    return response


# --- Views ---------------------------------------------------------------------------------


@_answers(ogc.JSON)
def landing(request: HttpRequest) -> HttpResponse:
    return _json(ogc.landing(_base(request)))


@_answers(ogc.JSON)
def conformance(request: HttpRequest) -> HttpResponse:
    return _json(ogc.conformance())


@_answers(ogc.OPENAPI)
def service_desc(request: HttpRequest) -> HttpResponse:
    return _json(ogc.openapi(_base(request)))


def service_doc(request: HttpRequest) -> HttpResponse:
    """The API definition rendered by ReDoc (shipped with django-ninja, served locally)."""
    spec = escape(f"{_base(request)}/api")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Alzette OGC API Features</title></head><body>"
        f'<redoc spec-url="{spec}"></redoc>'
        f'<script src="{escape(static("ninja/redoc.standalone.js"))}"></script></body></html>'
    )
    return HttpResponse(page, content_type="text/html; charset=utf-8")


@_answers(ogc.JSON)
def collections(request: HttpRequest) -> HttpResponse:
    return _json(ogc.collections_doc(_base(request), _language()))


@_answers(ogc.JSON)
def collection(request: HttpRequest, collection: str) -> HttpResponse:
    dataset = ogc.collection(collection)
    return _json(ogc.collection_doc(dataset, _base(request), _language()))


@_answers(ogc.SCHEMA)
def queryables(request: HttpRequest, collection: str) -> HttpResponse:
    dataset = ogc.collection(collection)
    return _json(ogc.queryables(dataset, _base(request), _language()))


@_answers(ogc.GEOJSON)
def items(request: HttpRequest, collection: str) -> HttpResponse:
    dataset = ogc.collection(collection)
    query = ogc.parse_query(dataset, request.GET)
    params = [(k, v) for k, values in request.GET.lists() for v in values]
    document = ogc.items_doc(dataset, query, _base(request), params, timezone.now())
    return _with_crs(_json(document), query.crs)


@_answers(ogc.GEOJSON)
def item(request: HttpRequest, collection: str, feature: str) -> HttpResponse:
    dataset = ogc.collection(collection)
    unknown = set(request.GET) - {"crs", "f"}
    if unknown:
        raise ogc.bad(f"Unknown parameter(s): {', '.join(sorted(unknown))}.")
    crs = ogc.parse_crs(request.GET.get("crs"))
    return _with_crs(_json(ogc.feature_doc(dataset, feature, crs, _base(request))), crs)


@csrf_exempt
def unknown(request: HttpRequest) -> HttpResponse:
    return _error(ogc.not_found(f"No resource at {request.path}."))
