"""HTTP for the DCAT-AP catalogue: format negotiation, paging parameters, errors.

The graphs come from ``dcat``; these views only choose the serialisation (``?format=``
first, then Accept, Turtle by default) and answer problems as RFC 9457 documents.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe
from rdflib import Graph

from alzette.core.problems import problem_response
from alzette.territory.catalogue import dcat

#: Media type -> format, in the order of preference when the client accepts any.
MEDIA_TYPES = {media_type: fmt for fmt, (media_type, _) in dcat.FORMATS.items()}


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    """The catalogue, one page of datasets at a time (Hydra paging)."""
    fmt = _format(request)
    if isinstance(fmt, HttpResponse):
        return fmt
    try:
        number, size = dcat.parse_paging(request.GET.get("page"), request.GET.get("page_size"))
        graph = dcat.catalogue_graph(number, size)
    except dcat.PagingError as exc:
        return _problem(request, 400, str(exc))
    except dcat.PageNotFound as exc:
        return _problem(request, 404, f"No such page. {exc}")
    return _rdf(graph, fmt)


@require_safe
def dataset(request: HttpRequest, identifier: str) -> HttpResponse:
    """One dataset and its distributions, so that its URI can be dereferenced."""
    return _document(request, lambda: dcat.dataset_graph(identifier))


@require_safe
def distribution(request: HttpRequest, identifier: str, fmt: str) -> HttpResponse:
    """A distribution's URI answers with the dataset that describes it."""
    return _document(request, lambda: dcat.dataset_graph(identifier, fmt))


@require_safe
def organisation(request: HttpRequest, slug: str) -> HttpResponse:
    """A publisher of visible datasets."""
    return _document(request, lambda: dcat.organisation_graph(slug))


def _document(request: HttpRequest, build: Callable[[], Graph | None]) -> HttpResponse:
    fmt = _format(request)
    if isinstance(fmt, HttpResponse):
        return fmt
    graph = build()
    if graph is None:
        return _problem(request, 404, "Nothing is published at this address.")
    return _rdf(graph, fmt)


def _format(request: HttpRequest) -> str | HttpResponse:
    """The format asked for, or the problem response refusing it."""
    asked = request.GET.get("format")
    if asked is not None:
        if asked in dcat.FORMATS:
            return asked
        return _problem(request, 400, f"format must be one of: {', '.join(dcat.FORMATS)}.")
    if not request.headers.get("Accept", "").strip():
        return "ttl"  # no preference stated: the default
    media_type = request.get_preferred_type(list(MEDIA_TYPES))
    if media_type is None:
        return _problem(
            request, 406, f"Available media types: {', '.join(MEDIA_TYPES)}.",
            available=list(MEDIA_TYPES),
        )  # fmt: skip
    return MEDIA_TYPES[media_type]


def _rdf(graph: Graph, fmt: str) -> HttpResponse:
    media_type = dcat.FORMATS[fmt][0]
    response = HttpResponse(dcat.serialise(graph, fmt), content_type=f"{media_type}; charset=utf-8")
    patch_vary_headers(response, ["Accept"])
    return response


def _problem(request: HttpRequest, status: int, detail: str, **extensions: object) -> HttpResponse:
    response = problem_response(request, status, detail, **extensions)
    # Every answer depends on Accept, errors included, so caches must key on it.
    patch_vary_headers(response, ["Accept"])
    return response
