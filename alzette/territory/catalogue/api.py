"""The catalogue in the platform API: datasets, their freshness, their data as downloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest, StreamingHttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError

from alzette.api.openapi import PARTNER_OPTIONAL
from alzette.api.schemas import problem_responses
from alzette.territory.catalogue import downloads, services
from alzette.territory.catalogue.models import Dataset
from alzette.territory.partners import access

router = Router(tags=["open data"])


class FieldOut(Schema):
    name: str
    type: str
    description: str


class DistributionOut(Schema):
    id: str
    format: str
    media_type: str
    url: str


class DatasetOut(Schema):
    identifier: str
    title: dict[str, str]
    description: dict[str, str]
    publisher: str
    themes: list[str]
    keywords: list[str]
    licence: str
    access: str
    communes: list[str]
    temporal_start: date | None
    temporal_end: date | None
    frequency: str
    refreshed_at: datetime | None
    refresh_failed: bool  # the error itself is for operators (alzette catalogue list)
    served_from: str  # "snapshot" (the last good refresh) or "live" (not refreshed yet)
    snapshot_taken_at: datetime | None
    row_count: int | None
    extent: list[float] | None
    distributions: list[DistributionOut]


class DatasetDetailOut(DatasetOut):
    fields: list[FieldOut]


def _out(dataset: Dataset) -> dict[str, Any]:
    freshness = services.freshness(dataset)
    return {
        "served_from": freshness.served_from, "snapshot_taken_at": freshness.taken_at,
        "identifier": dataset.identifier, "title": dataset.title,
        "description": dataset.description, "publisher": dataset.organisation.name,
        "themes": dataset.themes, "keywords": dataset.keywords, "licence": dataset.licence,
        "access": dataset.access, "communes": dataset.communes,
        "temporal_start": dataset.temporal_start, "temporal_end": dataset.temporal_end,
        "frequency": dataset.frequency,
        "refreshed_at": dataset.refreshed_at, "refresh_failed": bool(dataset.refresh_error),
        "row_count": dataset.row_count, "extent": dataset.extent,
        "distributions": [
            {"id": str(d.id), "format": d.format, "media_type": d.media_type, "url": d.path}
            for d in services.distributions(dataset)
        ],
    }  # fmt: skip


def _visible(request: HttpRequest, identifier: str) -> Dataset:
    """An open dataset, or one shared with the calling partner application (logged)."""
    found = Dataset.objects.using(services.DB).select_related("organisation")
    dataset = found.filter(identifier=identifier, published=True).first()
    caller = getattr(request, "partner", None)
    # Without a partner credential, what is not open does not exist.
    if dataset is None or (caller is None and dataset.access != Dataset.Access.OPEN):
        raise Http404(f"No open dataset {identifier!r}.")
    try:
        access.read_dataset(caller, dataset, f"{request.method} {request.path}")
    except access.AccessDenied as exc:
        raise HttpError(exc.status, exc.reason) from exc
    return dataset


@router.get("/datasets", response={200: list[DatasetOut]},
            summary="Open datasets, and those shared with the calling application",
            openapi_extra=PARTNER_OPTIONAL)  # fmt: skip
def list_datasets(request: HttpRequest) -> list[dict[str, Any]]:
    datasets = list(services.visible().select_related("organisation"))
    shared = access.readable_datasets(getattr(request, "partner", None))
    return [_out(d) for d in datasets + sorted(shared, key=lambda d: d.identifier)]


@router.get("/datasets/{identifier}",
            response={200: DatasetDetailOut, **problem_responses(401, 403, 404, 429)},
            summary="One open dataset, with its columns",
            openapi_extra=PARTNER_OPTIONAL)  # fmt: skip
def get_dataset(request: HttpRequest, identifier: str) -> dict[str, Any]:
    dataset = _visible(request, identifier)
    columns = [{"name": f.name, "type": f.type, "description": f.description}
               for f in services.fields(dataset)]  # fmt: skip
    return {**_out(dataset), "fields": columns}


@router.get("/datasets/{identifier}/data.{extension}",
            response={**problem_responses(401, 403, 404, 429)},
            summary="A dataset's rows, streamed (csv, json or geojson)",
            openapi_extra=PARTNER_OPTIONAL)  # fmt: skip
def download(request: HttpRequest, identifier: str, extension: str) -> StreamingHttpResponse:
    dataset = _visible(request, identifier)
    formats = {d.format: d for d in services.distributions(dataset)}
    if extension not in formats:
        raise Http404(f"No {extension!r} distribution; try {', '.join(formats)}.")
    distribution = formats[extension]
    charset = "; charset=utf-8" if extension == "csv" else ""
    response = StreamingHttpResponse(downloads.stream(dataset, extension),
                                     content_type=distribution.media_type + charset)  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="{dataset.identifier}.{extension}"'
    return response
