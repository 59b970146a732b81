"""The archive: a ZIP file or a directory of open formats, described by ``manifest.json``.

The manifest lists every other file with its SHA-256 and size, so that an import
can refuse an archive that was truncated, corrupted or edited (docs/portability.md).
Files are written and hashed as streams: an archive of millions of rows is never
held in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder

FORMAT = "alzette-organisation"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024


class ArchiveError(ValueError):
    """An archive that cannot be written or must not be imported; the message says why."""


class _Encoder(DjangoJSONEncoder):
    # Full precision: Django's encoder cuts times to milliseconds, and an import
    # must give back the very values that were exported.
    def default(self, o: Any) -> Any:
        if isinstance(o, datetime | date | time):
            return o.isoformat()
        return super().default(o)


def dumps(value: Any) -> str:
    """JSON as the archive writes it: UTF-8 text, dates and UUIDs as strings."""
    return json.dumps(value, cls=_Encoder, ensure_ascii=False)


@dataclass
class Part:
    """One file of the archive, as the manifest lists it."""

    path: str
    media_type: str
    description: str
    sha256: str = ""
    bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "media_type": self.media_type,
                "description": self.description, "sha256": self.sha256,
                "bytes": self.bytes, **self.extra}  # fmt: skip


class _Hashing:
    """A binary sink that hashes and counts what passes through it."""

    def __init__(self, sink: IO[bytes], part: Part) -> None:
        self._sink = sink
        self._part = part
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self._part.bytes += len(data)
        return self._sink.write(data)

    def text(self, data: str) -> None:
        self.write(data.encode("utf-8"))

    def close(self) -> None:
        self._part.sha256 = self._hash.hexdigest()


def safe_path(path: str) -> str:
    """A relative POSIX path inside the archive; anything that could escape is refused."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path or path != str(pure):
        raise ArchiveError(f"Unsafe path in the archive: {path!r}.")
    return path


# --- Writing -----------------------------------------------------------------------------


class Writer:
    """Writes parts to a new ZIP file (a path ending in ``.zip``) or a new directory."""

    def __init__(self, destination: Path) -> None:
        self.destination = Path(destination)
        self.parts: list[Part] = []
        self._zip: zipfile.ZipFile | None = None
        if self.destination.exists() and (
            self.destination.is_file() or any(self.destination.iterdir())
        ):
            raise ArchiveError(f"{self.destination} exists and is not an empty directory.")
        if self.destination.suffix.lower() == ".zip":
            self._zip = zipfile.ZipFile(self.destination, "w", zipfile.ZIP_DEFLATED)
        else:
            self.destination.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def part(self, path: str, media_type: str, description: str,
             **extra: Any) -> Iterator[_Hashing]:  # fmt: skip
        """A file to write, listed in the manifest with its hash once closed."""
        part = Part(safe_path(path), media_type, description, extra=dict(extra))
        with self._open(part.path) as sink:
            out = _Hashing(sink, part)
            yield out
            out.close()
        self.parts.append(part)

    def json(self, path: str, value: Any, description: str, **extra: Any) -> Part:
        media = "application/ld+json" if path.endswith(".jsonld") else "application/json"
        with self.part(path, media, description, **extra) as out:
            out.text(dumps(value))
        return self.parts[-1]

    def _open(self, path: str) -> contextlib.AbstractContextManager[IO[bytes]]:
        if self._zip is not None:
            return self._zip.open(path, "w", force_zip64=True)
        target = self.destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("xb")

    def finish(self, manifest: dict[str, Any]) -> None:
        """Add the parts' list to ``manifest``, write it and close the archive."""
        manifest["parts"] = [p.as_dict() for p in self.parts]
        body = dumps(manifest)
        if self._zip is not None:
            self._zip.writestr(MANIFEST, body)
            self._zip.close()
        else:
            (self.destination / MANIFEST).write_text(body, encoding="utf-8")

    def abandon(self) -> None:
        """Close without a manifest: an archive without one can never be imported."""
        if self._zip is not None:
            self._zip.close()


# --- Reading -----------------------------------------------------------------------------


class Reader:
    """Reads an archive written by ``Writer``: ``verify`` first, then its parts."""

    def __init__(self, source: Path) -> None:
        self.source = Path(source)
        self._zip: zipfile.ZipFile | None = None
        if self.source.is_dir():
            return
        if not self.source.is_file() or not zipfile.is_zipfile(self.source):
            raise ArchiveError(f"{self.source} is neither a ZIP archive nor a directory.")
        self._zip = zipfile.ZipFile(self.source)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def names(self) -> set[str]:
        if self._zip is not None:
            return {n for n in self._zip.namelist() if not n.endswith("/")}
        return {
            p.relative_to(self.source).as_posix() for p in self.source.rglob("*") if p.is_file()
        }

    def open(self, path: str) -> IO[bytes]:
        path = safe_path(path)
        if self._zip is not None:
            try:
                return self._zip.open(path)
            except KeyError:
                raise ArchiveError(f"The archive has no {path}.") from None
        target = self.source / path
        if not target.is_file():
            raise ArchiveError(f"The archive has no {path}.")
        return target.open("rb")

    def json(self, path: str) -> Any:
        with self.open(path) as handle:
            try:
                return json.load(handle)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ArchiveError(f"{path} is not valid JSON: {exc}") from None

    def lines(self, path: str) -> Iterator[dict[str, Any]]:
        """The objects of a JSON Lines part, one at a time."""
        with self.open(path) as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise ArchiveError(f"{path}, line {number}: {exc}") from None

    def verify(self) -> dict[str, Any]:
        """The manifest, once the format, the version and every file's hash check out."""
        manifest = self.json(MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"Not an Alzette organisation archive (format {FORMAT!r}).")
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise ArchiveError(
                f"Archive format version {version!r} is not supported: this Alzette reads "
                f"version {FORMAT_VERSION}."
            )
        parts = manifest.get("parts")
        if not isinstance(parts, list):
            raise ArchiveError("The manifest lists no parts.")
        listed = {p.get("path") for p in parts if isinstance(p, dict)}
        unlisted = sorted(self.names() - listed - {MANIFEST})
        if unlisted:
            raise ArchiveError(f"Files not listed in the manifest: {', '.join(unlisted)}.")
        for part in parts:
            self._check(part)
        return manifest

    def _check(self, part: Any) -> None:
        if not isinstance(part, dict) or not isinstance(part.get("path"), str):
            raise ArchiveError("A part of the manifest has no path.")
        digest, size = hashlib.sha256(), 0
        with self.open(part["path"]) as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != part.get("sha256") or size != part.get("bytes"):
            raise ArchiveError(
                f"{part['path']} does not match the manifest (SHA-256 or size differ): "
                "the archive is corrupted or was modified."
            )


def manifest_digest(source: Path) -> str:
    """SHA-256 of the manifest as stored: what the ledger entries refer to."""
    reader = Reader(source)
    try:
        with reader.open(MANIFEST) as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    finally:
        reader.close()
