"""Catalogue actions: publish, change and withdraw datasets, refresh them, list
their distributions and stream their rows. No HTTP here: the API, the pages, the
DCAT, CKAN and OGC adapters call these functions."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from alzette.territory.catalogue import sources
from alzette.territory.catalogue.models import Dataset, LedgerRecord, Organisation

DB = "territory"
log = logging.getLogger(__name__)

#: format -> (media type, file extension); GeoJSON only for spatial sources.
FORMATS = {
    "csv": ("text/csv", "csv"),
    "json": ("application/json", "json"),
    "geojson": ("application/geo+json", "geojson"),
}
EDITABLE = ("title", "description", "themes", "keywords", "licence", "contact_email",
            "communes", "temporal_start", "temporal_end", "frequency", "access", "source",
            "source_options", "published")  # fmt: skip


@dataclass(frozen=True)
class Distribution:
    id: uuid.UUID
    format: str
    media_type: str
    path: str  # the download's path, under the platform's public URL


def visible(datasets: QuerySet[Dataset] | None = None) -> QuerySet[Dataset]:
    """Datasets anyone may see: published open data."""
    found = datasets if datasets is not None else Dataset.objects.using(DB)
    return found.filter(published=True, access=Dataset.Access.OPEN)


def distributions(dataset: Dataset) -> list[Distribution]:
    source = sources.get(dataset.source)
    formats = [f for f in FORMATS if f != "geojson" or source.spatial]
    return [
        Distribution(dataset.distribution_id(f), f, FORMATS[f][0],
                     f"/api/v1/territory/datasets/{dataset.identifier}/data.{FORMATS[f][1]}")
        for f in formats
    ]  # fmt: skip


# --- Publishing ---------------------------------------------------------------------------


def publish(organisation: Organisation, identifier: str, *, actor: str = "system:catalogue",
            **fields: Any) -> Dataset:  # fmt: skip
    """Create a dataset (checked whole, source options included) and record it."""
    dataset = Dataset(organisation=organisation, identifier=identifier)
    _assign(dataset, fields)
    with transaction.atomic(using=DB):
        dataset.issued = timezone.now()
        dataset.save(using=DB)
        _record("dataset.published", actor, dataset)
    return dataset


def change(dataset: Dataset, *, actor: str = "system:catalogue", **fields: Any) -> Dataset:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    _assign(dataset, fields)
    with transaction.atomic(using=DB):
        dataset.save(using=DB)
        _record("dataset.changed", actor, dataset)
    return dataset


def withdraw(dataset: Dataset, *, actor: str = "system:catalogue") -> None:
    with transaction.atomic(using=DB):
        _record("dataset.deleted", actor, dataset)
        dataset.delete(using=DB)


def _assign(dataset: Dataset, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name not in EDITABLE:
            raise ValidationError({name: "Unknown field."})
        setattr(dataset, name, value)
    try:
        dataset.source_options = sources.get(dataset.source).check(dataset.source_options or {})
    except sources.SourceError as exc:
        raise ValidationError({"source": str(exc)}) from exc


def _record(kind: str, actor: str, dataset: Dataset) -> None:
    from alzette.ledger import services as ledger

    payload = {"identifier": dataset.identifier, "title": dataset.title,
               "licence": dataset.licence, "access": dataset.access, "source": dataset.source,
               "source_options": dataset.source_options,
               "organisation": dataset.organisation.slug}  # fmt: skip
    receipt, commitment = ledger.record(kind, actor, f"dataset:{dataset.pk}", payload)
    LedgerRecord.objects.using(DB).create(
        dataset_id=dataset.pk, kind=kind, payload=payload, leaf_index=receipt.leaf_index,
        salt=commitment.salt,
    )  # fmt: skip


# --- Refreshing ---------------------------------------------------------------------------


def refresh(dataset: Dataset) -> bool:
    """Count the rows and measure the extent from the live source. On failure the last
    good figures stay and the error is kept (and logged) for the freshness display."""
    source = sources.get(dataset.source)
    try:
        count, extent = _measure(source, dataset)
    except Exception as exc:  # any source failure is reported and kept, never raised
        log.warning("catalogue refresh of %s failed: %s", dataset.identifier, exc)
        Dataset.objects.using(DB).filter(pk=dataset.pk).update(refresh_error=str(exc)[:2000])
        dataset.refresh_error = str(exc)[:2000]
        return False
    dataset.row_count, dataset.extent = count, extent
    dataset.refreshed_at, dataset.refresh_error = timezone.now(), ""
    Dataset.objects.using(DB).filter(pk=dataset.pk).update(
        row_count=count, extent=extent, refreshed_at=dataset.refreshed_at, refresh_error=""
    )
    return True


def _measure(source: sources.Source, dataset: Dataset) -> tuple[int, list[float] | None]:
    from alzette.core import spatial

    if not source.spatial:
        return source.count(dataset), None
    count, boxes = 0, []
    for record in source.records(dataset):
        count += 1
        if record.geometry:
            boxes.append(spatial.bbox_of(spatial.parse_geometry(record.geometry)).as_list())
    if not boxes:
        return count, None
    west, south, east, north = zip(*boxes, strict=True)
    return count, [min(west), min(south), max(east), max(north)]


def refresh_due(now: Any = None) -> int:
    """Refresh every published dataset whose frequency says it is due; the count done."""
    from alzette.territory.catalogue.vocab import REFRESH_SECONDS

    now = now or timezone.now()
    done = 0
    for dataset in Dataset.objects.using(DB).filter(published=True):
        every = REFRESH_SECONDS.get(dataset.frequency, REFRESH_SECONDS["DAILY"])
        if dataset.refreshed_at is None or (now - dataset.refreshed_at).total_seconds() >= every:
            done += refresh(dataset)
    return done


# --- Rows ---------------------------------------------------------------------------------


def records(dataset: Dataset) -> Iterator[sources.Record]:
    return sources.get(dataset.source).records(dataset)


def fields(dataset: Dataset) -> list[sources.Field]:
    return sources.get(dataset.source).fields(dataset)
