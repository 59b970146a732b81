"""Catalogue actions: publish, change and withdraw datasets, refresh them, list
their distributions and stream their rows. No HTTP here: the API, the pages, the
DCAT, CKAN and OGC adapters call these functions."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.territory.catalogue import alerts, snapshots, sources, uploads
from alzette.territory.catalogue.models import Dataset, DatasetFile, LedgerRecord, Organisation

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
    spatial = is_spatial(dataset)
    formats = [f for f in FORMATS if f != "geojson" or spatial]
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


def _record(kind: str, actor: str, dataset: Dataset, **extra: Any) -> None:
    from alzette.ledger import services as ledger

    payload = {"identifier": dataset.identifier, "title": dataset.title,
               "licence": dataset.licence, "access": dataset.access, "source": dataset.source,
               "source_options": dataset.source_options,
               "organisation": dataset.organisation.slug, **extra}  # fmt: skip
    ledger.record_opening(
        LedgerRecord, kind, actor, f"dataset:{dataset.pk}", payload, using=DB,
        dataset_id=dataset.pk,
    )  # fmt: skip


# --- Uploaded files -----------------------------------------------------------------------


def upload(dataset: Dataset, filename: str, data: bytes | BinaryIO, *, schema: str | None = None,
           actor: str = "system:catalogue") -> DatasetFile:  # fmt: skip
    """Store a file as the rows of a dataset of the ``uploaded-file`` source, validated
    against ``schema`` (else the one the source options name) with frictionless, record
    it in the ledger and refresh the dataset. A refused file raises ``InvalidFile`` (a
    ValidationError listing the rows and fields at fault) and changes nothing."""
    if dataset.source != sources.UploadedFile.key:
        raise ValidationError({"source": _("Files can only be uploaded to a dataset of the "
                                           "source %(source)s.")
                               % {"source": sources.UploadedFile.key}})  # fmt: skip
    name = dataset.source_options.get("schema", "") if schema is None else schema
    checked = uploads.check(dataset.pk, filename, data, name)
    stored = uploads.keep(checked)
    try:
        with transaction.atomic(using=DB):
            found = DatasetFile.objects.using(DB).create(
                dataset=dataset, uploaded_at=timezone.now(), filename=Path(filename).name[:255],
                path=stored, size=checked.size, sha256=checked.sha256,
                media_type=checked.media_type, encoding=checked.encoding,
                schema_name=checked.schema_name, table_schema=checked.table_schema,
                dialect=checked.dialect, row_count=checked.row_count, report=checked.report,
                actor=actor,
            )  # fmt: skip
            # The digest, not the name: the opening of an entry is public (ledger.md).
            _record("dataset.file_uploaded", actor, dataset, file={
                "sha256": checked.sha256, "size": checked.size, "rows": checked.row_count,
                "schema": checked.schema_name})  # fmt: skip
    except BaseException:
        uploads.discard(stored)
        raise
    refresh(dataset)  # so that downloads serve the new file at once
    return found


# --- Refreshing ---------------------------------------------------------------------------


def refresh(dataset: Dataset) -> bool:
    """Read the source whole into a new snapshot (rows, columns, count and extent), which
    downloads serve from then on. On failure the last good snapshot and figures stay,
    the error is kept for the freshness display, and the operators are alerted if the
    dataset was working until now (``alerts``)."""
    try:
        taken = snapshots.take(dataset, sources.get(dataset.source))
    except Exception as exc:  # any source failure is reported and kept, never raised
        _refresh_failed(dataset, str(exc)[:2000] or exc.__class__.__name__)
        return False
    try:
        with transaction.atomic(using=DB):
            taken.save(using=DB)
            since = (
                Dataset.objects.using(DB)
                .filter(pk=dataset.pk)
                .values_list("failing_since", flat=True)[0]
            )
            recovered = Dataset.objects.using(DB).filter(
                pk=dataset.pk, failing_since__isnull=False
            ).update(failing_since=None)  # fmt: skip
            Dataset.objects.using(DB).filter(pk=dataset.pk).update(
                row_count=taken.row_count, extent=taken.extent, refreshed_at=taken.taken_at,
                refresh_error="",
            )  # fmt: skip
    except BaseException:
        snapshots.discard(taken)
        raise
    dataset.row_count, dataset.extent = taken.row_count, taken.extent
    dataset.refreshed_at, dataset.refresh_error, dataset.failing_since = taken.taken_at, "", None
    if recovered:
        alerts.recovered(dataset, since)
    _measure(dataset)
    return True


def _measure(dataset: Dataset) -> None:
    """Measure the new snapshot's downloads now, so sizes and checksums show in the
    catalogue at once (docs/opendata-dcat.md); a failure here never fails the refresh."""
    from alzette.territory.catalogue import digests

    try:
        digests.measure(dataset, max_bytes=digests.REFRESH_MEASURE_MAX_BYTES)
    except Exception:
        log.exception("measuring the downloads of %s failed", dataset.identifier)


def _refresh_failed(dataset: Dataset, error: str) -> None:
    now = timezone.now()
    Dataset.objects.using(DB).filter(pk=dataset.pk).update(refresh_error=error)
    # Only the update that sets the date alerts: concurrent refreshes send one alert.
    first = (
        Dataset.objects.using(DB)
        .filter(pk=dataset.pk, failing_since__isnull=True)
        .update(failing_since=now)
    )
    dataset.refresh_error = error
    if first:
        dataset.failing_since = now
        alerts.failed(dataset, error)
    else:
        log.warning("catalogue refresh of %s failed again: %s", dataset.identifier, error)


def refresh_due(now: Any = None) -> int:
    """Refresh every published dataset whose frequency says it is due (or whose source
    changed since its snapshot), then prune old snapshots; the count refreshed."""
    from alzette.territory.catalogue.vocab import REFRESH_SECONDS

    now = now or timezone.now()
    done = 0
    for dataset in Dataset.objects.using(DB).filter(published=True):
        every = REFRESH_SECONDS.get(dataset.frequency, REFRESH_SECONDS["DAILY"])
        due = dataset.refreshed_at is None or (now - dataset.refreshed_at).total_seconds() >= every
        if due or snapshots.current(dataset) is None:
            done += refresh(dataset)
    snapshots.prune()
    return done


# --- Rows ---------------------------------------------------------------------------------
#
# Rows and columns come from the dataset's current snapshot: every download, page and
# interface shows the version the figures describe, a failing source changes nothing
# they serve, and the columns are known without reading the rows. A dataset not yet
# refreshed (or whose source just changed) is read live.


@dataclass(frozen=True)
class Freshness:
    """What the pages and the API say about the version they serve."""

    served_from: str  # "snapshot" or "live"
    taken_at: Any  # the snapshot's time, None when live
    row_count: int | None
    failing_since: Any  # when refreshes started failing, None if they work
    error: str  # the last refresh's error, for operators


def freshness(dataset: Dataset) -> Freshness:
    found = snapshots.current(dataset)
    return Freshness("snapshot" if found else "live", found.taken_at if found else None,
                     found.row_count if found else dataset.row_count, dataset.failing_since,
                     dataset.refresh_error)  # fmt: skip


def records(dataset: Dataset) -> Iterator[sources.Record]:
    found = snapshots.current(dataset)
    if found is not None:
        return snapshots.records(found)
    return sources.get(dataset.source).records(dataset)


def fields(dataset: Dataset) -> list[sources.Field]:
    found = snapshots.current(dataset)
    if found is not None:
        return snapshots.fields(found)
    return sources.get(dataset.source).fields(dataset)


def cells(dataset: Dataset, names: list[str]) -> Iterator[list[str]] | None:
    """The live source's fast CSV rows when no snapshot is served (``Source.cells``)."""
    if snapshots.current(dataset) is not None:
        return None
    return sources.get(dataset.source).cells(dataset, names)


def is_spatial(dataset: Dataset) -> bool:
    """Whether this dataset's rows carry a geometry (``Source.is_spatial``)."""
    return sources.get(dataset.source).is_spatial(dataset)
