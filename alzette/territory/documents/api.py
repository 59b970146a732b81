"""Documents API at /api/v1/territory: thin adapters over ``documents.services``.

Reading public documents is open. Writing needs an agent's or an
administrator's signed-in session (and its CSRF token); what each may do is
``authz.abilities``, sent back with every document. The unified search of
the territory (``alzette.territory.search``) is served here too, at
``/search``. See docs/documents.md.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status as Reply
from ninja.security import django_auth
from pydantic import ConfigDict, Field, field_validator

from alzette.api.schemas import problem_responses
from alzette.core.problems import PROBLEM_TYPE_BASE, problem_response
from alzette.territory import search as unified
from alzette.territory.documents import authz, services
from alzette.territory.documents.errors import DocumentError
from alzette.territory.documents.formats import FORMATS
from alzette.territory.documents.models import (
    ENTITY_ID_MAX_LENGTH,
    ENTITY_ID_PATTERN,
    RELATIONSHIP_PATTERN,
    Document,
    DocumentLink,
    Language,
    Licence,
)

router = Router(tags=["documents"])

#: HTTP status of each refusal code of the store.
STATUS = {
    "empty": 422,
    "too_large": 413,
    "unsupported_type": 415,
    "type_mismatch": 422,
    "corrupt": 422,
    "encrypted": 422,
    "too_many_pixels": 422,
    "duplicate": 409,
    "link_exists": 409,
}

LanguageCode = Literal[tuple(Language.values)]  # type: ignore[valid-type]
LanguageOrNone = Literal[("", *Language.values)]  # type: ignore[valid-type]
LicenceId = Literal[tuple(Licence.values)]  # type: ignore[valid-type]
MediaType = Literal[tuple(FORMATS)]  # type: ignore[valid-type]
COMMUNE = r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$"
# What makes a relationship name or an entity id, for query parameters.
RELATIONSHIP = f"^{RELATIONSHIP_PATTERN.pattern}$"


def _entity_id(value: str | None) -> str | None:
    if value is not None and not ENTITY_ID_PATTERN.fullmatch(value):
        raise ValueError("An entity id is an absolute URI such as urn:ngsi-ld:Building:12.")
    return value


def _no_control(value: str | None) -> str | None:
    if value is not None and any(ord(c) < 32 and c not in "\n\t\r" for c in value):
        raise ValueError("Control characters are not allowed.")
    return value


# --- Schemas -------------------------------------------------------------------------------


class LinkOut(Schema):
    id: UUID
    entity: str = Field(..., description="The linked NGSI-LD entity's id.")
    relationship: str = Field(..., description="The entity's attribute naming the document.")
    created_at: datetime


class DocumentOut(Schema):
    id: UUID
    urn: str = Field(..., description="NGSI-LD identifier: urn:ngsi-ld:Document:<id>.")
    title: str
    description: str
    file_name: str
    media_type: str = Field(..., description="Sniffed from the bytes, not declared.")
    format: str = Field(..., description="PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP, JPEG, PNG...")
    size: int
    sha256: str
    language: LanguageCode  # type: ignore[valid-type]
    licence: LicenceId  # type: ignore[valid-type]
    licence_url: str | None
    author: str
    publisher: str
    communes: list[str] = Field(..., description="INSEE codes; empty: the whole EPCI.")
    issued: date | None
    public: bool
    technical: dict[str, Any] = Field(
        ..., description="page_count, word_count, sheet_count, slide_count, width, height..."
    )
    links: list[LinkOut]
    download_url: str
    created_at: datetime
    updated_at: datetime
    abilities: dict[str, bool] = Field(..., description="What the caller may do with it.")


class DocumentPage(Schema):
    count: int
    limit: int
    offset: int
    results: list[DocumentOut]


class DocumentFilter(Schema):
    language: LanguageCode | None = None  # type: ignore[valid-type]
    licence: LicenceId | None = None  # type: ignore[valid-type]
    commune: str | None = Field(None, pattern=COMMUNE, description="INSEE code of a commune.")
    media_type: MediaType | None = None  # type: ignore[valid-type]
    entity: str | None = Field(
        None, max_length=ENTITY_ID_MAX_LENGTH, description="Only documents linked to this entity."
    )
    relationship: str | None = Field(
        None, pattern=RELATIONSHIP, description="Only documents linked by this relationship."
    )
    public: bool | None = Field(None, description="Agents: only public or non-public documents.")

    _entity = field_validator("entity")(_entity_id)

    def criteria(self) -> services.Filters:
        return services.Filters(**self.model_dump())


class PageQuery(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class UploadForm(Schema):
    title: str = Field("", max_length=300, description="Default: the file's own title, or name.")
    description: str = Field("", max_length=5000)
    language: LanguageOrNone = Field(  # type: ignore[valid-type]
        "", description="Default: the language the file declares, if it is one of these."
    )
    licence: LicenceId  # type: ignore[valid-type]
    author: str = Field("", max_length=200)
    publisher: str = Field("", max_length=200)
    communes: list[str] = Field(
        default_factory=list, description="INSEE codes (repeat the field); none: the whole EPCI."
    )
    issued: date | None = None
    public: bool = True

    _text = field_validator("title", "description", "author", "publisher")(_no_control)

    @field_validator("communes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        # Browsers send one field per value; scripts often send "57038,54580".
        return [code.strip() for item in value for code in item.split(",") if code.strip()]


class DocumentPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(None, min_length=1, max_length=300)
    description: str = Field(None, max_length=5000)
    language: LanguageCode = None  # type: ignore[valid-type]
    licence: LicenceId = None  # type: ignore[valid-type]
    author: str = Field(None, max_length=200)
    publisher: str = Field(None, max_length=200)
    communes: list[str] = Field(None, max_length=50)
    issued: date | None = None
    public: bool = None

    _text = field_validator("title", "description", "author", "publisher")(_no_control)


class LinkIn(Schema):
    entity: str = Field(
        ...,
        max_length=ENTITY_ID_MAX_LENGTH,
        description="Id of the NGSI-LD entity, e.g. urn:ngsi-ld:Building:12.",
        examples=["urn:ngsi-ld:Building:12"],
    )
    relationship: str = Field(
        ...,
        pattern=RELATIONSHIP,
        description="The entity's attribute, e.g. refRenovationFile or refPermit.",
        examples=["refRenovationFile"],
    )

    _entity = field_validator("entity")(_entity_id)


class SearchQuery(Schema):
    q: str = Field(..., min_length=1, max_length=services.MAX_QUERY_LENGTH)
    lang: LanguageCode | None = Field(  # type: ignore[valid-type]
        None, description="Only documents in this language (else each in its own)."
    )

    _q = field_validator("q")(_no_control)


class DocumentHit(Schema):
    score: float = Field(..., description="In [0, 1), higher is better.")
    snippet: str = Field(..., description="HTML: escaped text, matches in <mark>.")
    document: DocumentOut


class DocumentSearchPage(Schema):
    count: int
    limit: int
    offset: int
    results: list[DocumentHit]


class UnifiedQuery(Schema):
    q: str = Field(..., min_length=1, max_length=services.MAX_QUERY_LENGTH)
    lang: LanguageCode | None = None  # type: ignore[valid-type]
    limit: int = Field(20, ge=1, le=unified.MAX_LIMIT)

    _q = field_validator("q")(_no_control)


class SearchHitOut(Schema):
    source: str
    type: str
    id: str
    title: str
    snippet: str = Field(..., description="HTML: escaped text, matches in <mark>.")
    score: float
    url: str


class UnifiedResults(Schema):
    query: str
    hits: list[SearchHitOut]
    failed_sources: list[str] = Field(..., description="Sources that failed; see the logs.")


# --- Helpers -----------------------------------------------------------------------------------


def _out(request: HttpRequest, document: Document) -> dict[str, Any]:
    return {
        "id": document.pk,
        "urn": document.urn,
        "title": document.title,
        "description": document.description,
        "file_name": document.file_name,
        "media_type": document.media_type,
        "format": FORMATS[document.media_type].label,
        "size": document.size,
        "sha256": document.sha256,
        "language": document.language,
        "licence": document.licence,
        "licence_url": document.licence_url,
        "author": document.author,
        "publisher": document.publisher,
        "communes": document.commune_codes,
        "issued": document.issued,
        "public": document.public,
        "technical": document.technical,
        "links": [_link_out(link) for link in document.links.all()],
        "download_url": reverse("api-v1:document-file", kwargs={"document_id": document.pk}),
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "abilities": authz.abilities(request.user, document),
    }


def _link_out(link: DocumentLink) -> dict[str, Any]:
    return {
        "id": link.pk,
        "entity": link.entity_id,
        "relationship": link.relationship,
        "created_at": link.created_at,
    }


def _refusal(request: HttpRequest, exc: DocumentError) -> HttpResponse:
    return problem_response(
        request,
        STATUS.get(exc.code, 422),
        exc.message,
        type_=f"{PROBLEM_TYPE_BASE}documents/{exc.code.replace('_', '-')}",
        code=exc.code,
        **exc.details,
    )


def _invalid(request: HttpRequest, exc: DjangoValidationError, where: str) -> HttpResponse:
    errors = [
        {"location": [where, name], "message": str(message), "type": "value_error"}
        for name, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items()
        for message in messages
    ]
    return problem_response(request, 422, "The document's metadata are not valid.", errors=errors)


def _document(request: HttpRequest, document_id: UUID) -> Document:
    try:
        return services.get_visible(document_id, request.user)
    except Document.DoesNotExist as exc:
        raise Http404("No document has this id.") from exc


# --- Documents -----------------------------------------------------------------------------------


@router.get(
    "/documents",
    response={200: DocumentPage, **problem_responses(422)},
    summary="List the documents",
    description="Newest first. Non-public documents are listed to agents only.",
)
def list_documents(
    request: HttpRequest, filters: Query[DocumentFilter], page: Query[PageQuery]
) -> dict[str, Any]:
    found = services.find(request.user, filters.criteria())
    chosen = found[page.offset : page.offset + page.limit]
    return {
        "count": found.count(),
        "limit": page.limit,
        "offset": page.offset,
        "results": [_out(request, document) for document in chosen],
    }


@router.post(
    "/documents",
    auth=django_auth,
    response={201: DocumentOut, **problem_responses(401, 403, 409, 413, 415, 422)},
    summary="Publish a document (multipart/form-data)",
    description=(
        "The file in `file`, the metadata as form fields. Accepted: PDF, DOCX, XLSX, PPTX, "
        "ODT, ODS, ODP, JPEG, PNG, WebP, GIF, TIFF, recognised from the bytes; the name's "
        "extension must agree. Refusals are problem documents with a `code`."
    ),
)
def upload_document(
    request: HttpRequest, file: File[UploadedFile], data: Form[UploadForm]
) -> HttpResponse | Reply:
    try:
        document = services.publish(file, file.name or "", actor=request.user, **data.model_dump())
    except DocumentError as exc:
        return _refusal(request, exc)
    except DjangoValidationError as exc:
        return _invalid(request, exc, "form")
    return Reply(201, _out(request, services.get_visible(document.pk, request.user)))


@router.get(
    "/documents/search",
    response={200: DocumentSearchPage, **problem_responses(422)},
    summary="Full-text search in the documents",
    description=(
        "French, German, English, Portuguese (stemmed) and Luxembourgish (folded), accents "
        'and case ignored. Syntax: words are all required, "a phrase", `or`, `-word`.'
    ),
)
def search_documents(
    request: HttpRequest,
    search: Query[SearchQuery],
    filters: Query[DocumentFilter],
    page: Query[PageQuery],
) -> dict[str, Any] | HttpResponse:
    try:
        found = services.search(
            search.q,
            actor=request.user,
            language=search.lang,
            filters=filters.criteria(),
            limit=page.limit,
            offset=page.offset,
        )
    except DjangoValidationError as exc:
        return _invalid(request, exc, "query")
    return {
        "count": found.count,
        "limit": page.limit,
        "offset": page.offset,
        "results": [
            {"score": hit.score, "snippet": hit.snippet, "document": _out(request, hit.document)}
            for hit in found.hits
        ],
    }


@router.get(
    "/documents/{uuid:document_id}",
    response={200: DocumentOut, **problem_responses(404)},
    summary="One document's metadata",
    url_name="document",
)
def get_document(request: HttpRequest, document_id: UUID) -> dict[str, Any]:
    return _out(request, _document(request, document_id))


@router.get(
    "/documents/{uuid:document_id}/file",
    response={200: None, 304: None, **problem_responses(404, 422)},
    summary="Download the file",
    url_name="document-file",
    description=(
        "Streamed, with its media type; `disposition=inline` to view it in the browser. "
        "The ETag is the file's SHA-256."
    ),
    openapi_extra={
        "responses": {
            "200": {"content": {media_type: {} for media_type in FORMATS}},
            "304": {"description": "Not modified (If-None-Match)."},
        }
    },
)
def download_document(
    request: HttpRequest,
    document_id: UUID,
    disposition: Literal["attachment", "inline"] = "attachment",
) -> HttpResponse:
    document = _document(request, document_id)
    etag = f'"{document.sha256}"'
    cache = "public, max-age=3600" if document.public else "private, no-store"
    if request.headers.get("If-None-Match") in (etag, f"W/{etag}", "*"):
        response = HttpResponse(status=304)
    else:
        response = FileResponse(services.open_file(document), content_type=document.media_type)
        response["Content-Length"] = str(document.size)
        response["Content-Disposition"] = services.content_disposition(
            document.file_name, disposition
        )
    response["ETag"] = etag
    response["Cache-Control"] = cache
    response["X-Content-Type-Options"] = "nosniff"
    # A file a browser renders anyway must not run in the platform's origin.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@router.patch(
    "/documents/{uuid:document_id}",
    auth=django_auth,
    response={200: DocumentOut, **problem_responses(401, 403, 404, 422)},
    summary="Change a document's metadata",
    description="Only the fields given change; the file itself never does.",
)
def update_document(
    request: HttpRequest, document_id: UUID, body: DocumentPatch
) -> dict[str, Any] | HttpResponse:
    document = _document(request, document_id)
    changes = body.model_dump(exclude_unset=True)
    try:
        services.update(document, changes, actor=request.user)
    except DjangoValidationError as exc:
        return _invalid(request, exc, "body")
    return _out(request, services.get_visible(document.pk, request.user))


@router.delete(
    "/documents/{uuid:document_id}",
    auth=django_auth,
    response={204: None, **problem_responses(401, 403, 404)},
    summary="Delete a document, its file and its links",
)
def delete_document(request: HttpRequest, document_id: UUID) -> Reply:
    services.delete(_document(request, document_id), actor=request.user)
    return Reply(204, None)


@router.post(
    "/documents/{uuid:document_id}/links",
    auth=django_auth,
    response={201: LinkOut, **problem_responses(401, 403, 404, 409, 422)},
    summary="Link the document to an NGSI-LD entity",
    description="`entity` --`relationship`--> the document, e.g. a building's refRenovationFile.",
)
def link_document(request: HttpRequest, document_id: UUID, body: LinkIn) -> Reply | HttpResponse:
    document = _document(request, document_id)
    try:
        created = services.link(document, body.entity, body.relationship, actor=request.user)
    except DocumentError as exc:
        return _refusal(request, exc)
    except DjangoValidationError as exc:
        return _invalid(request, exc, "body")
    return Reply(201, _link_out(created))


@router.delete(
    "/documents/{uuid:document_id}/links/{uuid:link_id}",
    auth=django_auth,
    response={204: None, **problem_responses(401, 403, 404)},
    summary="Remove a link to an entity",
)
def unlink_document(request: HttpRequest, document_id: UUID, link_id: UUID) -> Reply:
    document = _document(request, document_id)
    found = document.links.filter(pk=link_id).first()
    if found is None:
        raise Http404("The document has no link with this id.")
    services.unlink(found, actor=request.user)
    return Reply(204, None)


# --- Unified search ----------------------------------------------------------------------------


@router.get(
    "/search",
    response={200: UnifiedResults, **problem_responses(422)},
    summary="Search the territory: documents, and later entities and datasets",
    description=(
        "Public content only; each source's hits merged by score (best first). "
        "The sources are configured by ALZETTE_SEARCH_SOURCES."
    ),
    tags=["search"],
)
def unified_search(request: HttpRequest, query: Query[UnifiedQuery]) -> dict[str, Any]:
    q = query.q.strip()
    if not q:
        return {"query": q, "hits": [], "failed_sources": []}
    found = unified.search(q, query.lang, query.limit)
    return {"query": q, "hits": [asdict(hit) for hit in found.hits], "failed_sources": found.failed}
