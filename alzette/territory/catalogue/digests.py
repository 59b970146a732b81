"""The size and SHA-256 of a dataset's downloads, for DCAT's ``dcat:byteSize`` and
``spdx:checksum`` and CKAN's ``size`` and ``hash`` (docs/opendata-dcat.md).

Downloads are generated on the fly, so their bytes are known only by writing them.
They are measured from the dataset's current snapshot, the only case where the same
request gives the same bytes until the next refresh: a dataset read live has no size.
Each measure is cached under the snapshot's id and digest, so it is taken once per
snapshot; a size is never guessed, and an unknown one is left out, never given as 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from alzette.territory.catalogue import downloads, services, snapshots, sources
from alzette.territory.catalogue.models import Dataset, Snapshot

#: Bump when the writers in ``downloads`` change their bytes: older measures are then
#: ignored rather than served.
WRITERS_VERSION = 1
#: Snapshots larger than this (compressed) are not measured during a request: a
#: download of tens of megabytes would hold the answer for seconds.
MEASURE_MAX_BYTES = 4 * 1024 * 1024
#: After a refresh, in the worker, no request waits: larger snapshots are measured too.
REFRESH_MEASURE_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str  # lower-case hex


def known(dataset: Dataset) -> dict[str, Digest]:
    """The measures already taken for the current snapshot's downloads, by format."""
    snapshot = snapshots.current(dataset)
    if snapshot is None:
        return {}
    return _cached(snapshot, _formats(dataset))


def measure(dataset: Dataset, max_bytes: int | None = None) -> dict[str, Digest]:
    """The measures of every download of the current snapshot, taking those missing
    when the snapshot is small enough (``max_bytes`` compressed, ``MEASURE_MAX_BYTES``
    during a request)."""
    snapshot = snapshots.current(dataset)
    formats = _formats(dataset) if snapshot is not None else []
    if snapshot is None or not formats:
        return {}
    found = _cached(snapshot, formats)
    missing = [fmt for fmt in formats if fmt not in found]
    if not missing or snapshot.size > (MEASURE_MAX_BYTES if max_bytes is None else max_bytes):
        return found
    taken = {fmt: _write(dataset, fmt) for fmt in missing}
    # The writers read whatever snapshot is current: keep the measures only if it is
    # still the one they are filed under.
    latest = snapshots.current(dataset)
    if latest is None or latest.pk != snapshot.pk:
        return found
    cache.set_many({_key(snapshot, fmt): (d.size, d.sha256) for fmt, d in taken.items()},
                   timeout=None)  # fmt: skip
    return {**found, **taken}


def _formats(dataset: Dataset) -> list[str]:
    try:
        return [distribution.format for distribution in services.distributions(dataset)]
    except sources.SourceError:  # a source dropped from the setting: no downloads
        return []


def _cached(snapshot: Snapshot, formats: list[str]) -> dict[str, Digest]:
    keys = {_key(snapshot, fmt): fmt for fmt in formats}
    return {keys[key]: Digest(*value) for key, value in cache.get_many(list(keys)).items()}


def _key(snapshot: Snapshot, fmt: str) -> str:
    return f"catalogue:download:{WRITERS_VERSION}:{snapshot.pk}:{snapshot.sha256}:{fmt}"


def _write(dataset: Dataset, fmt: str) -> Digest:
    digest, size = hashlib.sha256(), 0
    for chunk in downloads.stream(dataset, fmt):
        digest.update(chunk)
        size += len(chunk)
    return Digest(size, digest.hexdigest())
