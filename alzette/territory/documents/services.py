"""The document store: publishing, changing, deleting, linking, finding documents.

Plain functions for the API, the NGSI-LD broker (``links_for_entity``,
``documents_for_entity``) and the search registry; no HTTP here. Every
decision reads ``authz.abilities``. A refused request raises
``DocumentError`` (a refusal with a code), ``ValidationError`` (bad
metadata) or ``PermissionDenied``, and leaves nothing behind: the file is
written to the storage first, then the row, its communes, its index entry
and its ledger record in one transaction; if that fails, the file goes.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from alzette.core import images
from alzette.core.repositories import TERRITORY
from alzette.territory.documents import authz, extract, formats, index
from alzette.territory.documents.errors import DocumentError
from alzette.territory.documents.models import (
    Document,
    DocumentCommune,
    DocumentLink,
    Language,
    LedgerRecord,
)
from alzette.territory.geo.models import TerritorialUnit, UnitKind

logger = logging.getLogger(__name__)

#: Alias of the storage documents live in, if ``STORAGES`` names one; otherwise
#: ``<data dir>/documents``.
DOCUMENTS = "documents"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_TEXT_CHARS = 2_000_000
MAX_QUERY_LENGTH = 200
#: Metadata a publisher gives and may change later.
EDITABLE = (
    "title",
    "description",
    "language",
    "licence",
    "author",
    "publisher",
    "issued",
    "public",
    "communes",
)
_INDEXED = {"title", "description", "language"}
_READ_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024
_MB = 1024 * 1024


# --- Settings and storage ---------------------------------------------------------------


def max_bytes() -> int:
    """Largest file accepted (``ALZETTE_DOCUMENTS_MAX_BYTES``, 50 MiB by default)."""
    return int(getattr(settings, "ALZETTE_DOCUMENTS_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_text_chars() -> int:
    """Characters of text kept and indexed per document (``ALZETTE_DOCUMENTS_MAX_TEXT_CHARS``)."""
    return int(getattr(settings, "ALZETTE_DOCUMENTS_MAX_TEXT_CHARS", DEFAULT_MAX_TEXT_CHARS))


def documents_storage() -> Storage:
    """``STORAGES["documents"]`` when configured, else a directory of the data directory."""
    if DOCUMENTS in settings.STORAGES:
        return storages[DOCUMENTS]
    return FileSystemStorage(
        location=str(Path(settings.DATA_DIR) / "documents"),
        file_permissions_mode=0o640,
        directory_permissions_mode=0o750,
    )


def open_file(document: Document) -> IO[bytes]:
    """The stored bytes, opened for reading; the caller closes the file."""
    return documents_storage().open(document.storage_name, "rb")


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """``attachment`` (or ``inline``) with an ASCII ``filename`` and the exact one in
    ``filename*`` (RFC 6266)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = ascii_name.replace('"', "").replace("\\", "").strip() or "document"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- Receiving a file -----------------------------------------------------------------


@dataclass
class _Received:
    buffer: Any  # a SpooledTemporaryFile positioned at 0
    size: int
    sha256: str


def _too_large(limit: int) -> DocumentError:
    if limit < _MB:
        message = _("The file is too large: %(size)s bytes at most.") % {
            "size": number_format(limit, force_grouping=True)
        }
    else:
        megabytes = number_format(round(limit / _MB, 1), decimal_pos=0 if not limit % _MB else 1)
        message = _("The file is too large: %(size)s MB at most.") % {"size": megabytes}
    return DocumentError("too_large", message)


def _receive(upload: IO[bytes], limit: int) -> _Received:
    """Copy ``upload`` to a temporary buffer, hashing it, reading at most ``limit + 1`` bytes."""
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise _too_large(limit)
    if getattr(upload, "seekable", lambda: False)():
        upload.seek(0)
    buffer = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := upload.read(min(_READ_CHUNK, limit + 1 - size)):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            digest.update(chunk)
            buffer.write(chunk)
        if size == 0:
            raise DocumentError("empty", _("The file is empty."))
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    return _Received(buffer, size, digest.hexdigest())


def _media_type(received: _Received, file_name: str) -> str:
    media_type = formats.sniff(received.buffer)
    if media_type not in formats.FORMATS:
        raise DocumentError(
            "unsupported_type",
            _("This type of file is not accepted. Accepted types: %(types)s.")
            % {"types": formats.labels()},
            media_type=media_type,
        )
    if not formats.extension_matches(file_name, media_type):
        raise DocumentError(
            "type_mismatch",
            _("The file is a %(format)s but its name ends in %(extension)s.")
            % {
                "format": formats.FORMATS[media_type].label,
                "extension": formats.extension_of(formats.clean_name(file_name)),
            },
            media_type=media_type,
        )
    return media_type


def _without_metadata(received: _Received, media_type: str) -> None:
    """Rewrite an image without its EXIF, XMP and comments (``core.images``), in place.

    What is then checked for duplicates, read, stored, hashed and recorded in
    the ledger is the cleaned file: a published photo gives away neither where
    it was taken nor by whose camera.
    """
    try:
        cleaned = images.without_metadata(
            received.buffer, media_type, max_pixels=extract.MAX_PIXELS
        )
    except images.TooManyPixels as exc:
        refusal = extract.too_many_pixels()
        raise DocumentError(refusal.code, refusal.message, media_type=media_type) from exc
    except images.UnreadableImage as exc:
        refusal = extract.corrupt(formats.FORMATS[media_type].label)
        raise DocumentError(refusal.code, refusal.message, media_type=media_type) from exc
    if cleaned is None:
        return
    received.buffer.seek(0)
    received.buffer.truncate()
    received.buffer.write(cleaned)
    received.buffer.seek(0)
    received.size = len(cleaned)
    received.sha256 = hashlib.sha256(cleaned).hexdigest()


def _unique(sha256: str) -> None:
    existing = Document.objects.filter(sha256=sha256).values_list("pk", flat=True).first()
    if existing is not None:
        raise _duplicate(existing)


def _duplicate(existing: uuid.UUID | None) -> DocumentError:
    return DocumentError(
        "duplicate",
        _("This file is already in the document store."),
        **({"document": str(existing)} if existing else {}),
    )


# --- Metadata ------------------------------------------------------------------------------


def _communes(codes: Iterable[str]) -> list[str]:
    wanted = sorted({str(code).strip() for code in codes if str(code).strip()})
    known = set(
        TerritorialUnit.objects.filter(kind=UnitKind.COMMUNE, code__in=wanted).values_list(
            "code", flat=True
        )
    )
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise ValidationError(
            {
                "communes": _("Not a commune of the territory: %(codes)s.")
                % {"codes": ", ".join(unknown)}
            }
        )
    return wanted


def _declared_language(declared: str) -> str:
    """``fr`` for a file that declares fr-FR, if it is one of the store's languages."""
    primary = declared.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in Language.values else ""


def _check_metadata(fields: dict[str, Any]) -> None:
    """Validate metadata before the file is read, as the row will be validated."""
    probe = Document(**{key: value for key, value in fields.items() if key != "communes"})
    exclude = [f.name for f in Document._meta.fields if f.name not in fields]
    probe.clean_fields(exclude=exclude)
    probe.clean()


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- Ledger -------------------------------------------------------------------------------


def _actor_ref(actor: Any) -> str:
    pseudonym = getattr(actor, "pseudonym", "")
    return pseudonym if pseudonym else "system:documents"


def _record(kind: str, actor: Any, document_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """A ledger entry (committed on its own, first) and its opening, kept here."""
    from alzette.ledger import services as ledger

    receipt, commitment = ledger.record(kind, _actor_ref(actor), f"document:{document_id}", payload)
    LedgerRecord.objects.create(
        document_id=document_id,
        kind=kind,
        leaf_index=receipt.leaf_index,
        payload=payload,
        salt=commitment.salt,
    )


# --- Publishing, changing, deleting -------------------------------------------------------


def publish(
    upload: IO[bytes],
    file_name: str,
    *,
    actor: Any,
    licence: str,
    title: str = "",
    description: str = "",
    language: str = "",
    author: str = "",
    publisher: str = "",
    communes: Iterable[str] = (),
    issued: date | None = None,
    public: bool = True,
) -> Document:
    """Check ``upload`` and its metadata, store it, index it, record it in the ledger.

    In order: the actor's right to publish for ``communes``, the metadata, the
    size (streamed, at most ``max_bytes() + 1`` bytes read), the type sniffed
    from the bytes and the name's extension, an image rewritten without its
    metadata (``_without_metadata``: from then on the file is the cleaned one),
    that the same file is not in the store already, that the file reads as its
    type (text and technical metadata extracted). Without ``language`` the
    file's own declaration is used; without ``title``, the file's own, else its
    name.
    """
    if not authz.abilities(actor)["create"]:
        raise PermissionDenied(_("You may not publish documents."))
    codes = _communes(communes)
    if not authz.may_cover(actor, codes):
        raise PermissionDenied(_("You may not publish documents about these communes."))
    metadata: dict[str, Any] = {
        "description": description,
        "licence": licence,
        "author": author,
        "publisher": publisher,
        "issued": issued,
        "public": public,
    }
    if title:
        metadata["title"] = title
    if language:
        metadata["language"] = language
    _check_metadata(metadata)
    received = _receive(upload, max_bytes())
    with received.buffer:
        media_type = _media_type(received, file_name)
        _without_metadata(received, media_type)
        _unique(received.sha256)
        try:
            found = extract.extract(media_type, received.buffer, max_chars=max_text_chars())
        except extract.Unreadable as exc:
            raise DocumentError(exc.code, exc.message, media_type=media_type) from exc
        metadata["language"] = language or _declared_language(found.language)
        if not metadata["language"]:
            raise ValidationError(
                {"language": _("Give the document's language: the file does not declare one.")}
            )
        name = formats.display_name(file_name, media_type)
        metadata["title"] = title or found.title or name.rsplit(".", 1)[0]
        return _store(received, media_type, name, found, metadata, codes, actor)


def _storage_name(media_type: str) -> str:
    # Random, never derived from the publisher's file name.
    extension = formats.FORMATS[media_type].extensions[0]
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


def _store(
    received: _Received,
    media_type: str,
    name: str,
    found: extract.Extracted,
    metadata: dict[str, Any],
    codes: list[str],
    actor: Any,
) -> Document:
    storage = documents_storage()
    wanted = _storage_name(media_type)
    received.buffer.seek(0)
    storage_name = storage.save(wanted, File(received.buffer, name=wanted))
    try:
        with transaction.atomic(using=TERRITORY):
            document = Document(
                file_name=name,
                media_type=media_type,
                size=received.size,
                sha256=received.sha256,
                storage_name=storage_name,
                technical=found.technical,
                text=found.text,
                created_by=getattr(actor, "pseudonym", "") or "",
                **metadata,
            )
            document.save()
            DocumentCommune.objects.bulk_create(
                [DocumentCommune(document=document, code=code) for code in codes]
            )
            index.put(
                document.pk, document.language, document.title, document.description, document.text
            )
            _record("document.published", actor, document.pk, _publication(document, codes))
    except IntegrityError as exc:  # the same file, published at the same moment
        storage.delete(storage_name)
        raise _duplicate(None) from exc
    except BaseException:
        storage.delete(storage_name)
        raise
    return document


def _publication(document: Document, codes: list[str]) -> dict[str, Any]:
    return {
        "urn": document.urn,
        "sha256": document.sha256,
        "size": document.size,
        "media_type": document.media_type,
        "title": document.title,
        "language": document.language,
        "licence": document.licence,
        "public": document.public,
        "communes": codes,
    }


def update(document: Document, changes: dict[str, Any], *, actor: Any) -> Document:
    """Change the metadata in ``changes`` (keys among ``EDITABLE``); reindex if needed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    if not authz.abilities(actor, document)["update"]:
        raise PermissionDenied(_("You may not change this document."))
    changes = dict(changes)
    codes = None
    if "communes" in changes:
        codes = _communes(changes.pop("communes") or ())
        if not authz.may_cover(actor, codes):
            raise PermissionDenied(_("You may not publish documents about these communes."))
    with transaction.atomic(using=TERRITORY):
        document = Document.objects.select_for_update().get(pk=document.pk)
        changed = {key: value for key, value in changes.items() if getattr(document, key) != value}
        for key, value in changed.items():
            setattr(document, key, value)
        if codes is not None and codes != document.commune_codes:
            changed["communes"] = codes
        if not changed:
            return document
        document.save()
        if codes is not None:
            document.communes.all().delete()
            DocumentCommune.objects.bulk_create(
                [DocumentCommune(document=document, code=code) for code in codes]
            )
        if _INDEXED & set(changed):
            index.put(
                document.pk, document.language, document.title, document.description, document.text
            )
        payload = {"urn": document.urn, "changes": {k: _json(v) for k, v in changed.items()}}
        _record("document.changed", actor, document.pk, payload)
    return document


def _delete_file(storage_name: str) -> None:
    documents_storage().delete(storage_name)


def delete(document: Document, *, actor: Any) -> None:
    """Delete the row, its links and index entry now, the file once that commits.

    Deleting the file first would leave a row pointing at nothing if the
    transaction rolled back; this order at worst leaves an orphan file
    (``purge_orphans``).
    """
    if not authz.abilities(actor, document)["delete"]:
        raise PermissionDenied(_("You may not delete this document."))
    storage_name, pk = document.storage_name, document.pk
    with transaction.atomic(using=TERRITORY):
        index.remove(pk)
        payload = {"urn": document.urn, "sha256": document.sha256}
        document.delete()
        _record("document.deleted", actor, pk, payload)
        transaction.on_commit(partial(_delete_file, storage_name), using=TERRITORY, robust=True)


# --- Links to entities -------------------------------------------------------------------


def link(document: Document, entity_id: str, relationship: str, *, actor: Any) -> DocumentLink:
    """Link ``document`` to the entity ``entity_id`` by ``relationship``."""
    if not authz.abilities(actor, document)["link"]:
        raise PermissionDenied(_("You may not link this document."))
    created = DocumentLink(
        document=document,
        entity_id=entity_id,
        relationship=relationship,
        created_by=getattr(actor, "pseudonym", "") or "",
    )
    created.full_clean(validate_constraints=False)
    if document.links.filter(entity_id=entity_id, relationship=relationship).exists():
        raise DocumentError(
            "link_exists", _("The document is already linked to this entity by this relationship.")
        )
    try:
        with transaction.atomic(using=TERRITORY):
            created.save()
            payload = {"urn": document.urn, "entity": entity_id, "relationship": relationship}
            _record("document.linked", actor, document.pk, payload)
    except IntegrityError as exc:
        raise DocumentError(
            "link_exists", _("The document is already linked to this entity by this relationship.")
        ) from exc
    return created


def unlink(found: DocumentLink, *, actor: Any) -> None:
    """Remove one link."""
    document = found.document
    if not authz.abilities(actor, document)["link"]:
        raise PermissionDenied(_("You may not link this document."))
    with transaction.atomic(using=TERRITORY):
        payload = {
            "urn": document.urn,
            "entity": found.entity_id,
            "relationship": found.relationship,
        }
        found.delete()
        _record("document.unlinked", actor, document.pk, payload)


@dataclass(frozen=True)
class EntityLink:
    """``entity_id --relationship--> document_urn``, what an NGSI-LD broker shows as a
    Relationship attribute of the entity."""

    entity_id: str
    relationship: str
    document_id: uuid.UUID
    document_urn: str
    title: str
    media_type: str
    language: str
    licence: str
    public: bool


def links_for_entity(entity_id: str, *, include_private: bool = False) -> list[EntityLink]:
    """The documents linked to ``entity_id``, by relationship then title."""
    found = DocumentLink.objects.filter(entity_id=entity_id).select_related("document")
    if not include_private:
        found = found.filter(document__public=True)
    return [
        EntityLink(
            entity_id=row.entity_id,
            relationship=row.relationship,
            document_id=row.document_id,
            document_urn=row.document.urn,
            title=row.document.title,
            media_type=row.document.media_type,
            language=row.document.language,
            licence=row.document.licence,
            public=row.document.public,
        )
        for row in found.order_by("relationship", "document__title", "document_id")
    ]


def documents_for_entity(
    entity_id: str, relationship: str | None = None, *, include_private: bool = False
) -> list[Document]:
    """The documents linked to ``entity_id`` (by ``relationship`` only, if given)."""
    found = Document.objects.filter(links__entity_id=entity_id)
    if relationship:
        found = found.filter(links__relationship=relationship)
    if not include_private:
        found = found.filter(public=True)
    return list(found.distinct().defer("text").order_by("title", "id"))


# --- Finding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    language: str | None = None
    licence: str | None = None
    commune: str | None = None
    media_type: str | None = None
    entity: str | None = None
    relationship: str | None = None
    public: bool | None = None


def visible(actor: Any) -> QuerySet[Document]:
    """The documents ``actor`` may see, without their text, ready for listing."""
    found = Document.objects.defer("text").prefetch_related(
        "communes", Prefetch("links", queryset=DocumentLink.objects.order_by("entity_id"))
    )
    if not authz.abilities(actor)["view_private"]:
        found = found.filter(public=True)
    return found


def get_visible(document_id: uuid.UUID, actor: Any) -> Document:
    """The document, if ``actor`` may see it; ``Document.DoesNotExist`` otherwise, so
    that a non-public document is indistinguishable from none."""
    return visible(actor).get(pk=document_id)


def find(actor: Any, filters: Filters) -> QuerySet[Document]:
    found = visible(actor)
    if filters.language:
        found = found.filter(language=filters.language)
    if filters.licence:
        found = found.filter(licence=filters.licence)
    if filters.media_type:
        found = found.filter(media_type=filters.media_type)
    if filters.public is not None:
        found = found.filter(public=filters.public)
    if filters.commune:
        found = found.filter(communes__code=filters.commune)
    if filters.entity or filters.relationship:
        links = DocumentLink.objects.all()
        if filters.entity:
            links = links.filter(entity_id=filters.entity)
        if filters.relationship:
            links = links.filter(relationship=filters.relationship)
        found = found.filter(pk__in=links.values("document_id"))
    return found


def clean_query(query: str) -> str:
    """``query`` stripped; ValidationError if empty, too long or with control characters."""
    query = (query or "").strip()
    if not query or len(query) > MAX_QUERY_LENGTH or any(ord(c) < 32 for c in query):
        raise ValidationError(
            {"q": _("Give a search of 1 to %(max)d characters.") % {"max": MAX_QUERY_LENGTH}}
        )
    return query


@dataclass
class Hit:
    document: Document
    score: float
    snippet: str


@dataclass
class SearchResults:
    count: int
    hits: list[Hit] = field(default_factory=list)


def search(
    query: str,
    *,
    actor: Any = None,
    language: str | None = None,
    filters: Filters | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchResults:
    """Full-text search in the documents ``actor`` may see, best first.

    ``language`` keeps the documents in that language; otherwise each
    document is matched in its own language. Snippets are HTML (see
    ``index.snippet``).
    """
    query = clean_query(query)
    languages = [language] if language else list(index.LANGUAGES)
    ranked = index.matches(query, languages)
    scores = dict(ranked)
    allowed = find(actor, filters or Filters())
    order = [pk for pk in allowed.filter(pk__in=list(scores)).values_list("pk", flat=True)]
    order.sort(key=lambda pk: (-scores[pk], str(pk)))
    page = order[offset : offset + limit]
    documents = {doc.pk: doc for doc in allowed.filter(pk__in=page).defer(None)}
    hits = [
        Hit(
            documents[pk],
            scores[pk],
            index.snippet(
                query, documents[pk].language, documents[pk].text or documents[pk].description
            ),
        )
        for pk in page
    ]
    return SearchResults(count=len(order), hits=hits)


# --- Maintenance ----------------------------------------------------------------------------------


def reindex() -> int:
    """Index every document again (after a change of analysis); returns their number."""
    count = 0
    for document in Document.objects.order_by("pk").iterator(chunk_size=100):
        with transaction.atomic(using=TERRITORY):
            index.put(
                document.pk, document.language, document.title, document.description, document.text
            )
        count += 1
    return count


def _walk(storage: Storage, path: str = "") -> Iterator[str]:
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:  # nothing published yet
        return
    prefix = f"{path}/" if path else ""
    for name in files:
        yield prefix + name
    for directory in directories:
        yield from _walk(storage, prefix + directory)


def purge_orphans(*, older_than: timedelta = timedelta(days=1), dry_run: bool = False) -> list[str]:
    """Delete stored files that no document refers to (a crash between a deletion's
    commit and its file's removal); only those older than ``older_than``."""
    storage = documents_storage()
    known = set(Document.objects.values_list("storage_name", flat=True))
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
        logger.info(
            "%d orphan document file(s) %s", len(orphans), "found" if dry_run else "deleted"
        )
    return orphans
