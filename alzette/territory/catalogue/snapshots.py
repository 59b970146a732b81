"""Snapshots: the rows of a dataset's last good refreshes, kept as files.

A refresh reads the source once, row after row, and writes every record as a line
of JSON (``[id, values, geometry]``) into a gzip file, counting the rows and
measuring the extent on the way: memory does not grow with the dataset. Downloads,
pages and interfaces then read the newest snapshot, so they all show the same
version of the data, the one the figures describe, and keep showing it while the
source is failing (docs/open-data.md, "Snapshots").

JSON Lines rather than CSV: values keep their types (numbers, lists, objects, null
versus empty text) and geometries, so the JSON and GeoJSON downloads are the same
as from the live source.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from alzette.territory.catalogue import sources
from alzette.territory.catalogue.models import Dataset, DatasetFile, Snapshot
from alzette.territory.catalogue.uploads import absolute, relative, root

DB = "territory"
#: gzip level: 1 is three times as fast as the default 9 for a file 10 % larger; the
#: refresh of a history of millions of rows is bound by it.
_LEVEL = 1
#: A file younger than this is left alone by ``prune`` even when no row names it: a
#: refresh may have written it and not yet committed its row.
_GRACE_SECONDS = 3600


@dataclass
class _Extent:
    """A CRS84 box grown one geometry at a time."""

    box: list[float] | None = None

    def add(self, geometry: dict[str, Any]) -> None:
        from alzette.core import spatial

        west, south, east, north = spatial.bbox_of(spatial.parse_geometry(geometry)).as_list()
        if self.box is None:
            self.box = [west, south, east, north]
            return
        box = self.box
        box[0], box[1] = min(box[0], west), min(box[1], south)
        box[2], box[3] = max(box[2], east), max(box[3], north)


def take(dataset: Dataset, source: sources.Source) -> Snapshot:
    """Read the source whole into a new snapshot file; the Snapshot row, not saved (the
    caller saves it with the dataset's figures). Any failure leaves no file."""
    folder = root() / "snapshots" / str(dataset.pk)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{uuid.uuid4().hex}.tmp"
    version = source.version(dataset)
    columns = None if source.infers_fields else source.fields(dataset)
    try:
        count, extent, seen = _write(partial, source.records(dataset), columns is None)
        if columns is None:
            columns = source.fields_from(seen)
        taken_at = timezone.now()
        final = folder / f"{taken_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.jsonl.gz"
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return Snapshot(
        dataset=dataset, taken_at=taken_at, path=relative(final), size=final.stat().st_size,
        sha256=_digest(final), row_count=count, extent=extent,
        columns=[{"name": f.name, "type": f.type, "description": f.description} for f in columns],
        source=dataset.source, source_options=dataset.source_options, source_version=version,
    )  # fmt: skip


def _write(path: Path, records: Iterator[sources.Record],
           infer: bool) -> tuple[int, Any, dict[str, str]]:  # fmt: skip
    count, extent, seen = 0, _Extent(), {}
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=_LEVEL) as out:
        for record in records:
            out.write(dumps([record.id, record.values, record.geometry]))
            out.write("\n")
            count += 1
            if infer:
                sources.observe(seen, record)
            if record.geometry:
                extent.add(record.geometry)
    with open(path, "rb") as written:  # on disk before it takes the final name
        os.fsync(written.fileno())
    return count, extent.box, seen


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stored:
        while chunk := stored.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def discard(snapshot: Snapshot) -> None:
    with contextlib.suppress(FileNotFoundError):
        absolute(snapshot.path).unlink()


def current(dataset: Dataset) -> Snapshot | None:
    """The newest snapshot, if it was read from what the dataset's source is now (a
    change of source, options or uploaded file makes it another dataset's rows) and
    its file is there."""
    found = Snapshot.objects.using(DB).filter(dataset_id=dataset.pk).first()
    if found is None or found.source != dataset.source:
        return None
    if found.source_options != dataset.source_options:
        return None
    try:
        version = sources.get(dataset.source).version(dataset)
    except sources.SourceError:  # a source dropped from the setting: the snapshot stays
        version = found.source_version
    if found.source_version != version:
        return None
    # A file lost (a restore without the snapshots): read live until the next refresh.
    return found if absolute(found.path).is_file() else None


def records(snapshot: Snapshot) -> Iterator[sources.Record]:
    """The snapshot's rows, one at a time."""
    Record, loads = sources.Record, json.loads
    with gzip.open(absolute(snapshot.path), "rt", encoding="utf-8") as stored:
        for line in stored:
            key, values, geometry = loads(line)
            yield Record(key, values, geometry)


def fields(snapshot: Snapshot) -> list[sources.Field]:
    return [sources.Field(c["name"], c.get("type", "string"), c.get("description", ""))
            for c in snapshot.columns]  # fmt: skip


# --- Pruning --------------------------------------------------------------------------------


def prune(keep: int | None = None) -> int:
    """Delete all but the ``keep`` newest snapshots of each dataset (setting
    ``ALZETTE_CATALOGUE_SNAPSHOTS_KEPT``), and files no row names any more (withdrawn
    datasets, refreshes that died); the count of files deleted."""
    keep = max(1, keep if keep is not None else settings.ALZETTE_CATALOGUE_SNAPSHOTS_KEPT)
    deleted = 0
    for dataset_id in Snapshot.objects.using(DB).values_list("dataset_id", flat=True).distinct():
        old = Snapshot.objects.using(DB).filter(dataset_id=dataset_id)[keep:]
        for snapshot in list(old):
            # The row first: a download that found it has the file open, which
            # survives the unlink on POSIX systems.
            snapshot.delete(using=DB)
            discard(snapshot)
            deleted += 1
    return deleted + _orphans()


def _orphans() -> int:
    """Files under the catalogue directory that no snapshot or uploaded file names."""
    named = set(Snapshot.objects.using(DB).values_list("path", flat=True))
    named |= set(DatasetFile.objects.using(DB).values_list("path", flat=True))
    datasets = {str(pk) for pk in Dataset.objects.using(DB).values_list("pk", flat=True)}
    deadline, deleted = time.time() - _GRACE_SECONDS, 0
    for kind in ("snapshots", "files"):
        for folder in (root() / kind).glob("*"):
            if folder.is_dir() and folder.name not in datasets:
                if folder.stat().st_mtime < deadline:
                    shutil.rmtree(folder, ignore_errors=True)
                    deleted += 1
                continue
            for found in folder.glob("*") if folder.is_dir() else ():
                if relative(found) not in named and found.stat().st_mtime < deadline:
                    found.unlink(missing_ok=True)
                    deleted += 1
    return deleted
