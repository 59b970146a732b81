"""Streaming downloads of a dataset's rows: CSV, JSON and GeoJSON in constant memory.

Each writer is a generator of byte chunks: the dataset's current snapshot (or,
before its first refresh, the live source) yields one record at a time and a
chunk leaves once it holds about 64 KB, so memory does not grow with the dataset
(bench/opendata.py measures it). See ``services`` for why snapshots are served.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from alzette.territory.catalogue import services, sources
from alzette.territory.catalogue.models import Dataset

_FLUSH = 64 * 1024


def stream(dataset: Dataset, fmt: str) -> Iterator[bytes]:
    """The rows of ``dataset`` in ``fmt`` (a key of ``services.FORMATS``)."""
    writer = {"csv": _csv, "json": _json, "geojson": _geojson}[fmt]
    return _chunked(writer(dataset))


def _chunked(parts: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    size = 0
    for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= _FLUSH:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _csv(dataset: Dataset) -> Iterator[str]:
    names = [field.name for field in services.fields(dataset)]
    spatial = services.is_spatial(dataset)
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    out.writerow([*names, "geometry"] if spatial else names)
    yield "\ufeff" + buffer.getvalue()  # a BOM, so that spreadsheet software reads UTF-8
    for rows in _batches(_rows(dataset, names, spatial)):
        buffer.seek(0)
        buffer.truncate()
        out.writerows(rows)  # a thousand rows per call: the writer's cost is per call
        yield buffer.getvalue()


def _rows(dataset: Dataset, names: list[str], spatial: bool) -> Iterator[list[str]]:
    fast = services.cells(dataset, names)
    if fast is not None:
        yield from fast
        return
    cell = sources.cell
    for record in services.records(dataset):
        values = record.values
        row = [cell(values.get(name)) for name in names]
        if spatial:
            row.append(cell(record.geometry))
        yield row


def _batches(rows: Iterator[list[str]], size: int = 1000) -> Iterator[list[list[str]]]:
    batch: list[list[str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _json(dataset: Dataset) -> Iterator[str]:
    yield "["
    for n, record in enumerate(services.records(dataset)):
        yield ("," if n else "") + json.dumps(record.values, ensure_ascii=False, default=str)
    yield "]"


def _geojson(dataset: Dataset) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    for n, record in enumerate(services.records(dataset)):
        feature = {"type": "Feature", "id": record.id, "geometry": record.geometry,
                   "properties": record.values}  # fmt: skip
        yield ("," if n else "") + json.dumps(feature, ensure_ascii=False, default=str)
    yield "]}"
