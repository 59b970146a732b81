"""The agents' API at /api/v1/procedures: thin adapters over ``agent_api`` and ``webhooks``.

Authentication: ``Authorization: Bearer alz_…``, a personal token an agent creates
in the back office. See docs/procedures-api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status as Reply
from ninja.security import HttpBearer
from pydantic import AnyHttpUrl, Field

from alzette.api.schemas import problem_responses
from alzette.personal.procedures import agent_api, webhooks
from alzette.personal.procedures.models import Dossier, Status


class AgentBearer(HttpBearer):
    openapi_description = "A personal API token of an agent (alz_…), created in the back office."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        agent = agent_api.authenticate(token)
        if agent is not None:
            request.user = agent
        return agent


router = Router(tags=["procedures"], auth=AgentBearer())

StatusName = Literal[tuple(value for value in Status.values if value != Status.DRAFT)]  # type: ignore[valid-type]


class FileQuery(Schema):
    procedure: str = Field("", max_length=50, description="Short name of a procedure.")
    status: StatusName | Literal[""] = Field("", description="Only files in this status.")
    commune: str = Field("", pattern=r"^([0-9]{5})?$", description="INSEE code of the commune.")
    submitted_after: datetime | None = Field(None, description="Filed at or after (ISO 8601).")
    submitted_before: datetime | None = Field(None, description="Filed before (ISO 8601).")
    updated_since: datetime | None = Field(None, description="Changed at or after (ISO 8601).")
    mine: bool = Field(False, description="Only the files assigned to the token's agent.")

    def criteria(self) -> agent_api.FileFilter:
        return agent_api.FileFilter(**self.model_dump())


class Page(Schema):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class FileSummary(Schema):
    id: UUID
    reference: str
    procedure: str
    status: str
    commune: str | None
    group: str | None
    assignee_unit: str | None = Field(None, description="Unit of the agent it is assigned to.")
    submitted_at: datetime | None
    due_at: datetime | None
    decided_at: datetime | None
    updated_at: datetime
    awaiting_payment: bool


class FileList(Schema):
    count: int
    limit: int
    offset: int
    results: list[FileSummary]


class Answer(Schema):
    question: str
    answer: str


class HistoryItem(Schema):
    kind: str
    from_status: str
    to_status: str
    at: datetime
    by_agent: bool
    ledger_index: int | None


class Attachment(Schema):
    id: UUID
    name: str
    content_type: str
    size: int
    sha256: str


class FileDetail(FileSummary):
    motive: str
    answers: list[Answer]
    history: list[HistoryItem]
    attachments: list[Attachment]


class WebhookIn(Schema):
    group: UUID = Field(..., description="Instructor group whose files are watched.")
    url: AnyHttpUrl = Field(..., description="Where messages go (https in production).")


class WebhookOut(Schema):
    id: UUID
    group: UUID
    url: str
    active: bool
    disabled_reason: str
    created_at: datetime
    pending: int
    failed: int


class WebhookCreated(WebhookOut):
    secret: str = Field(..., description="whsec_… signing secret, shown only here.")


def _summary(dossier: Dossier) -> dict[str, Any]:
    return {
        "id": dossier.pk,
        "reference": dossier.reference,
        "procedure": dossier.procedure.slug,
        "status": dossier.status,
        "commune": dossier.commune.code if dossier.commune else None,
        "group": dossier.group.name if dossier.group else None,
        "assignee_unit": (
            dossier.assignee.unit.name if dossier.assignee and dossier.assignee.unit else None
        ),
        "submitted_at": dossier.submitted_at,
        "due_at": dossier.due_at,
        "decided_at": dossier.decided_at,
        "updated_at": dossier.updated_at,
        "awaiting_payment": dossier.awaiting_payment,
    }


@router.get(
    "/files",
    response={200: FileList, **problem_responses(401, 422)},
    summary="Files the token's agent instructs",
    description="Never drafts; only the files of the agent's instructor groups.",
)
def list_files(request: HttpRequest, filters: Query[FileQuery], page: Query[Page]) -> dict:
    files = agent_api.filtered(request.auth, filters.criteria()).select_related(
        "assignee__unit", "payment"
    )
    chosen = files[page.offset : page.offset + page.limit]
    return {
        "count": files.count(),
        "limit": page.limit,
        "offset": page.offset,
        "results": [_summary(dossier) for dossier in chosen],
    }


def _export(request: HttpRequest, filters: FileQuery, kind: str) -> StreamingHttpResponse:
    files = agent_api.filtered(request.auth, filters.criteria())
    if kind == "csv":
        response = StreamingHttpResponse(
            agent_api.csv_rows(request.auth, files), content_type="text/csv; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(
            agent_api.zip_chunks(request.auth, files), content_type="application/zip"
        )
    response["Content-Disposition"] = f'attachment; filename="files.{kind}"'
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/files/export.csv",
    response={200: None, **problem_responses(401, 422)},
    summary="Export the filtered files as CSV (streamed)",
    description=(
        "UTF-8 with a byte-order mark; one column per question of the files' forms; cells "
        "that a spreadsheet would run as formulas start with an apostrophe."
    ),
    openapi_extra={"responses": {"200": {"content": {"text/csv": {}}}}},
)
def export_csv(request: HttpRequest, filters: Query[FileQuery]) -> StreamingHttpResponse:
    return _export(request, filters, "csv")


@router.get(
    "/files/export.zip",
    response={200: None, **problem_responses(401, 422)},
    summary="Export the filtered files with their attachments as a zip (streamed)",
    description="files.csv, then each file's attachments under <reference>/.",
    openapi_extra={"responses": {"200": {"content": {"application/zip": {}}}}},
)
def export_zip(request: HttpRequest, filters: Query[FileQuery]) -> StreamingHttpResponse:
    return _export(request, filters, "zip")


@router.get(
    "/files/{file_id}",
    response={200: FileDetail, **problem_responses(401, 404)},
    summary="One file, with its answers, history and attachments",
    description="The read is written in the applicant's access log.",
)
def get_file(request: HttpRequest, file_id: UUID) -> dict:
    try:
        dossier = agent_api.detail(request.auth, file_id)
    except Dossier.DoesNotExist as exc:
        raise Http404("No file of yours has this id.") from exc
    return {
        **_summary(dossier),
        "motive": dossier.motive,
        "answers": [
            {"question": question, "answer": answer}
            for question, answer in agent_api.answers_as_text(dossier)
        ],
        "history": [
            {
                "kind": event.kind,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "at": event.created_at,
                "by_agent": event.from_agent,
                "ledger_index": (event.receipt or {}).get("index"),
            }
            for event in dossier.events.exclude(kind="note").order_by("created_at")
        ],
        "attachments": [
            {
                "id": stored.pk,
                "name": stored.name,
                "content_type": stored.content_type,
                "size": stored.size,
                "sha256": stored.sha256,
            }
            for stored in agent_api.attachments(dossier)
        ],
    }


def _webhook(endpoint: Any) -> dict[str, Any]:
    deliveries = endpoint.deliveries
    return {
        "id": endpoint.pk,
        "group": endpoint.group_id,
        "url": endpoint.url,
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
        "pending": deliveries.filter(delivered_at__isnull=True, failed_at__isnull=True).count(),
        "failed": deliveries.filter(failed_at__isnull=False).count(),
    }


@router.get(
    "/webhooks",
    response={200: list[WebhookOut], **problem_responses(401)},
    summary="Webhooks of the agent's instructor groups",
)
def list_webhooks(request: HttpRequest) -> list:
    return [_webhook(endpoint) for endpoint in webhooks.endpoints_of(request.auth)]


@router.post(
    "/webhooks",
    response={201: WebhookCreated, **problem_responses(401, 403, 422)},
    summary="Register a webhook for an instructor group the agent belongs to",
    description="The response holds the signing secret; it is not shown again.",
)
def create_webhook(request: HttpRequest, body: WebhookIn) -> Reply:
    try:
        endpoint = webhooks.register(request.auth, body.group, str(body.url))
    except webhooks.NotAllowed as exc:
        raise HttpError(403, str(exc)) from exc
    except DjangoValidationError as exc:
        raise HttpError(422, "; ".join(exc.messages)) from exc
    return Reply(201, {**_webhook(endpoint), "secret": endpoint.secret})


@router.delete(
    "/webhooks/{webhook_id}",
    response={204: None, **problem_responses(401, 404)},
    summary="Remove a webhook",
)
def delete_webhook(request: HttpRequest, webhook_id: UUID) -> Reply:
    try:
        webhooks.remove(request.auth, webhook_id)
    except webhooks.WebhookEndpoint.DoesNotExist as exc:
        raise Http404("No webhook of yours has this id.") from exc
    return Reply(204, None)
