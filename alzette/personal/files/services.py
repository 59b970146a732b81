"""Attachments: storing an upload after every check, reading it back, deleting it.

This is the interface other apps (the procedures engine first) call; see
docs/files.md. ``store_upload`` refuses a file with ``FileRejected``, a
``ValidationError`` whose message can be shown to the person as is, and leaves
nothing in the storage when it does.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tempfile
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from alzette.core.repositories import PERSONAL
from alzette.personal.files import clamav
from alzette.personal.files.conf import ATTACHMENTS
from alzette.personal.files.errors import FileRejected
from alzette.personal.files.metadata import strip_metadata
from alzette.personal.files.models import ScanStatus, StoredFile
from alzette.personal.files.names import ALIASES, SUPPORTED_TYPES, ascii_fallback, safe_name

logger = logging.getLogger(__name__)

#: Bytes the sniffer looks at (all ``filetype`` reads; enough for zip-based documents).
SNIFF_BYTES = 8192
_READ_CHUNK = 64 * 1024
#: Uploads larger than this wait on disk rather than in memory while they are checked.
_SPOOL_IN_MEMORY = 1024 * 1024
_HASH_CHUNK = 1024 * 1024


@dataclass
class _Received:
    buffer: Any  # a SpooledTemporaryFile positioned at 0
    size: int
    sha256: str
    head: bytes


def attachments_storage() -> Storage:
    """The storage every attachment lives in (``STORAGES["attachments"]``)."""
    return storages[ATTACHMENTS]


# --- Checks ------------------------------------------------------------------


_MB = 1024 * 1024  # what file managers and phones call a megabyte, mostly


def _too_large(max_bytes: int) -> FileRejected:
    exact = not max_bytes % _MB
    megabytes = number_format(round(max_bytes / _MB, 1), decimal_pos=0 if exact else 1)
    return FileRejected(
        _("The file is too large: %(size)s MB at most.") % {"size": megabytes},
        code="too_large",
    )


def _receive(upload: IO[bytes], max_bytes: int) -> _Received:
    """Copy ``upload`` to a temporary buffer, hashing it, reading at most ``max_bytes + 1``."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        raise _too_large(max_bytes)
    if getattr(upload, "seekable", lambda: False)():
        upload.seek(0)  # a form may have read it already
    buffer = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    digest, size = hashlib.sha256(), 0
    try:
        # Never ask for more than one byte past the limit: a liar's stream stops here.
        while chunk := upload.read(min(_READ_CHUNK, max_bytes + 1 - size)):
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            digest.update(chunk)
            buffer.write(chunk)
        if size == 0:
            raise FileRejected(_("The file is empty."), code="empty")
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    head = buffer.read(SNIFF_BYTES)
    buffer.seek(0)
    return _Received(buffer, size, digest.hexdigest(), head)


def _supported(allowed_types: Collection[str]) -> list[str]:
    unknown = sorted(set(allowed_types) - SUPPORTED_TYPES.keys())
    if unknown or not allowed_types:
        # A programming error, not the person's: the caller asked for what cannot be checked.
        raise ValueError(
            f"allowed_types must be non-empty and among {sorted(SUPPORTED_TYPES)}; got {unknown}"
        )
    return list(allowed_types)


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes show, whatever the name or the client says; None if unknown."""
    import filetype  # deferred: only uploads need it

    kind = filetype.guess(head)
    if kind is None:
        return None
    return ALIASES.get(kind.mime, kind.mime)


def _accepted_type(head: bytes, allowed: list[str]) -> str:
    content_type = sniff(head)
    if content_type not in allowed:
        labels = ", ".join(SUPPORTED_TYPES[mime].label for mime in allowed)
        raise FileRejected(
            _("This type of file is not accepted. Accepted types: %(types)s.") % {"types": labels},
            code="type_not_allowed",
        )
    return content_type


def _scan(received: _Received) -> str:
    """The scan status, or FileRejected when infected or when an unscanned file is not allowed."""
    url = getattr(settings, "ALZETTE_CLAMD_URL", "")
    if not url:
        return ScanStatus.SKIPPED
    try:
        signature = clamav.instream(
            url, received.buffer, timeout=getattr(settings, "ALZETTE_CLAMD_TIMEOUT", 30)
        )
    except clamav.ClamdUnavailable as exc:
        if getattr(settings, "ALZETTE_CLAMD_REQUIRED", True):
            logger.error("Upload refused, the antivirus is unavailable: %s", exc)
            raise FileRejected(
                _("The file could not be checked for viruses just now. Please try again later."),
                code="antivirus_unavailable",
            ) from exc
        logger.warning("Upload stored unscanned, the antivirus is unavailable: %s", exc)
        return ScanStatus.UNAVAILABLE
    finally:
        received.buffer.seek(0)
    if signature:
        logger.warning("Infected upload refused: %s (sha256 %s)", signature, received.sha256)
        raise FileRejected(
            _("The file was refused: the antivirus found %(signature)s in it.")
            % {"signature": signature},
            code="infected",
        )
    return ScanStatus.CLEAN


# --- Storing, reading, deleting ------------------------------------------------


def _storage_name(content_type: str) -> str:
    # Random, never derived from the person's file name; dated folders keep directories small.
    extension = SUPPORTED_TYPES[content_type].extension
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


def _save(received: _Received, **fields: Any) -> StoredFile:
    storage = attachments_storage()
    wanted = _storage_name(fields["content_type"])
    storage_name = storage.save(wanted, File(received.buffer, name=wanted))
    try:
        with transaction.atomic(using=PERSONAL):
            return StoredFile.objects.create(
                storage_name=storage_name, size=received.size, sha256=received.sha256, **fields
            )
    except BaseException:
        storage.delete(storage_name)
        raise


def _without_metadata(received: _Received, content_type: str) -> _Received:
    """The photo rewritten without EXIF or XMP (``metadata``), hashed again; else as received."""
    cleaned = strip_metadata(received.buffer, content_type)
    if cleaned is None:
        return received
    return _Received(
        io.BytesIO(cleaned),
        len(cleaned),
        hashlib.sha256(cleaned).hexdigest(),
        cleaned[:SNIFF_BYTES],
    )


def store_upload(
    upload: IO[bytes],
    original_name: str,
    *,
    allowed_types: Collection[str],
    max_bytes: int,
    owner: Any = None,
) -> StoredFile:
    """Check ``upload`` and keep it; raise ``FileRejected`` with a message for the person.

    In order: the size while reading (streamed, at most ``max_bytes + 1`` bytes
    read), the type sniffed from the bytes against ``allowed_types`` (keys of
    ``names.SUPPORTED_TYPES``), the antivirus, then the storage and the row. The
    name is cleaned and its extension made to match the content. Photos (JPEG,
    PNG, WebP) are rewritten without their metadata (``metadata.strip_metadata``):
    the stored size and SHA-256 are those of what is kept.

    The file is written before the row; if the row fails, the file is deleted.
    If the caller's own transaction rolls back afterwards, the file stays
    behind without a row: ``alzette purgeattachments`` removes such orphans.
    """
    allowed = _supported(allowed_types)
    received = _receive(upload, max_bytes)
    with received.buffer:
        content_type = _accepted_type(received.head, allowed)
        scan_status = _scan(received)
        kept = _without_metadata(received, content_type)
        return _save(
            kept,
            name=safe_name(original_name, content_type),
            content_type=content_type,
            scan_status=scan_status,
            owner=owner,
        )


def open_stored(stored: StoredFile) -> IO[bytes]:
    """The stored bytes, opened for reading; the caller closes the file."""
    return attachments_storage().open(stored.storage_name, "rb")


def verify_stored(stored: StoredFile) -> bool:
    """Whether the bytes in the storage still have the SHA-256 recorded at upload."""
    digest = hashlib.sha256()
    with open_stored(stored) as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == stored.sha256


def _delete_file(storage_name: str) -> None:
    attachments_storage().delete(storage_name)


def delete_stored(stored: StoredFile) -> None:
    """Delete the row now and the bytes once the transaction commits.

    Deleting the bytes first would leave a row pointing at nothing if the
    transaction rolled back; the other order at worst leaves an orphan file.
    """
    storage_name = stored.storage_name
    with transaction.atomic(using=PERSONAL):
        stored.delete()
        transaction.on_commit(partial(_delete_file, storage_name), using=PERSONAL, robust=True)


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the exact one in ``filename*`` (RFC 6266)."""
    fallback, exact = ascii_fallback(name), quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"


def file_response_headers(stored: StoredFile) -> dict[str, str]:
    """Headers of a download of ``stored``: always a download, never rendered or sniffed.

    The sandbox policy keeps a file that a browser renders anyway (a PDF with
    scripts, a disguised HTML page) from running in the platform's origin.
    """
    return {
        "Content-Type": stored.content_type,
        "Content-Length": str(stored.size),
        "Content-Disposition": content_disposition(stored.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, no-store",
    }


# --- Orphans ---------------------------------------------------------------------


def _walk(storage: Storage, path: str = "") -> Iterator[str]:
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:  # nothing uploaded yet
        return
    prefix = f"{path}/" if path else ""
    for name in files:
        yield prefix + name
    for directory in directories:
        yield from _walk(storage, prefix + directory)


def purge_orphans(*, older_than: timedelta = timedelta(days=1), dry_run: bool = False) -> list[str]:
    """Delete the files of the storage that no row refers to; return their names.

    They come from callers whose transaction rolled back after ``store_upload``.
    Only files older than ``older_than`` go, so that an upload whose row is
    not committed yet is left alone.
    """
    storage = attachments_storage()
    known = set(StoredFile.objects.values_list("storage_name", flat=True))
    cutoff = timezone.now() - older_than
    orphans = [
        name
        for name in _walk(storage)
        if name not in known and storage.get_modified_time(name) < cutoff
    ]
    if not dry_run:
        for name in orphans:
            storage.delete(name)
    if orphans:
        logger.info("%d orphan attachment(s) %s", len(orphans), "found" if dry_run else "deleted")
    return orphans
