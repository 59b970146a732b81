"""The agents' API, without HTTP: tokens, the files an agent may read, exports.

An agent's programs (a commune's document management, a spreadsheet) read the
files the agent instructs, through personal tokens the agent creates in the back
office. What a token sees is exactly what its agent sees in the back office
(``files_instructed_by``, built on ``authz``), drafts never. Every read of a
file's content is written in the applicant's access log ("my data").
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from alzette.core.translated import pick
from alzette.personal.accounts.authz import unit_scope
from alzette.personal.accounts.models import User
from alzette.personal.files.models import StoredFile
from alzette.personal.files.services import open_stored
from alzette.personal.mydata.models import AccessorKind
from alzette.personal.mydata.services import log_access, log_accesses
from alzette.personal.procedures import authz, formdata, schema, services
from alzette.personal.procedures.models import AgentToken, Dossier, ProcedureVersion, Status

TOKEN_PREFIX = "alz_"  # noqa: S105 (a marker that tells tokens apart, not a secret)
MAX_TOKEN_DAYS = 366
#: Cells a spreadsheet would run as a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ZIP_CHUNK = 64 * 1024
_CHUNK = 500  # files read, and access-log lines written, at a time


class NotAllowed(Exception):
    """The actor may not do this (not an agent, not a member of the group...)."""


# --- Tokens ---------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(agent: Any, name: str, days: int) -> tuple[AgentToken, str]:
    """A new token for ``agent``; the clear token is returned once and never stored."""
    if not authz.is_agent(agent):
        raise NotAllowed("Only agents have API tokens.")
    name = name.strip()
    if not name or len(name) > 80:
        raise ValueError("A token needs a name of 1 to 80 characters.")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValueError(f"A token lasts 1 to {MAX_TOKEN_DAYS} days.")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AgentToken.objects.create(
        user=agent,
        name=name,
        prefix=clear[:12],
        digest=_digest(clear),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return token, clear


def revoke_token(agent: Any, token_id: Any) -> AgentToken:
    token = AgentToken.objects.get(pk=token_id, user=agent)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def authenticate(clear: str) -> Any | None:
    """The agent behind a valid token (not expired, not revoked, still an agent), or None."""
    if not clear.startswith(TOKEN_PREFIX):
        return None
    token = (
        AgentToken.objects.select_related("user")
        .filter(digest=_digest(clear), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active or not authz.is_agent(token.user):
        return None
    AgentToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


# --- Files ----------------------------------------------------------------------


def files_instructed_by(agent: Any) -> QuerySet[Dossier]:
    """Every non-draft file ``agent`` instructs: the query form of ``authz.instructs``."""
    if not authz.is_agent(agent):
        return Dossier.objects.none()
    return (
        Dossier.objects.exclude(status=Status.DRAFT)
        .filter(
            Q(group__members=agent)
            | Q(group__isnull=True, procedure__unit__code__in=unit_scope(agent))
        )
        .distinct()
        .select_related("procedure", "version", "commune", "assignee", "group")
    )


@dataclass(frozen=True)
class FileFilter:
    procedure: str = ""
    status: str = ""
    commune: str = ""
    submitted_after: datetime | None = None
    submitted_before: datetime | None = None
    updated_since: datetime | None = None
    mine: bool = False


def filtered(agent: Any, criteria: FileFilter) -> QuerySet[Dossier]:
    files = files_instructed_by(agent)
    if criteria.procedure:
        files = files.filter(procedure__slug=criteria.procedure)
    if criteria.status:
        files = files.filter(status=criteria.status)
    if criteria.commune:
        files = files.filter(commune__code=criteria.commune)
    if criteria.submitted_after:
        files = files.filter(submitted_at__gte=criteria.submitted_after)
    if criteria.submitted_before:
        files = files.filter(submitted_at__lt=criteria.submitted_before)
    if criteria.updated_since:
        files = files.filter(updated_at__gte=criteria.updated_since)
    if criteria.mine:
        files = files.filter(assignee=agent)
    return files.order_by("submitted_at", "reference")


def _accessor(agent: Any) -> str:
    return agent.unit.name if getattr(agent, "unit", None) else "Agent"


def note_access(agent: Any, dossier: Dossier, purpose: str) -> None:
    """Write the read in the applicant's access log (anonymous files have no one to tell)."""
    if dossier.user_id is None:
        return
    log_access(dossier.user, AccessorKind.AGENT, _accessor(agent), "procedures", purpose)


def detail(agent: Any, dossier_id: Any) -> Dossier:
    """One file the agent instructs, its read logged; Dossier.DoesNotExist otherwise."""
    dossier = files_instructed_by(agent).get(pk=dossier_id)
    note_access(agent, dossier, gettext_noop("File read through the agents' API"))
    return dossier


def attachments(dossier: Dossier) -> QuerySet[StoredFile]:
    """The stored files of the file: its answers' uploads and its messages' attachments."""
    return StoredFile.objects.filter(pk__in=services.attachment_ids(dossier)).order_by("created_at")


def answers_as_text(
    dossier: Dossier, fields: list[dict[str, Any]] | None = None
) -> list[tuple[str, str]]:
    """(question, answer) as a person reads them; file answers by their names."""
    fields = dossier.version.schema if fields is None else fields
    ids = schema.file_ids(fields, dossier.answers)
    return formdata.rows(fields, dossier.answers, services.file_names(ids) if ids else {})


# --- Exports --------------------------------------------------------------------

BASE_COLUMNS = ["reference", "procedure", "status", "commune", "submitted_at", "decided_at"]


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _question_columns(files: QuerySet[Dossier]) -> list[str]:
    """One column per question of the files' form versions, in form order."""
    labels: list[str] = []
    versions = ProcedureVersion.objects.filter(pk__in=files.values("version")).order_by("number")
    for version in versions:
        for definition in version.schema:
            label = pick(definition["label"])
            if definition["type"] not in schema.DISPLAY and label not in labels:
                labels.append(label)
    return labels


class _Echo:
    """A file-like object whose write returns what it is given (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def csv_rows(agent: Any, files: QuerySet[Dossier]) -> Iterator[str]:
    """The export, one CSV line at a time: the files' columns, then each question's answer.

    The columns come from the files' form versions; ``iterator()`` streams the
    files from the database, so memory holds one chunk of files at a time. The
    applicants' access-log lines are written in bulk, one insert per chunk.
    """
    # Each form version once, not once per row: a form is kilobytes of JSON.
    forms = {
        version.pk: version.schema
        for version in ProcedureVersion.objects.filter(pk__in=files.values("version"))
    }
    files = files.select_related(None).select_related("procedure", "commune")
    columns = _question_columns(files)
    writer = csv.writer(_Echo())
    yield "\ufeff"  # the byte-order mark that makes spreadsheets read UTF-8
    yield writer.writerow(BASE_COLUMNS + columns)
    applicants: list[Any] = []
    for dossier in files.iterator(chunk_size=_CHUNK):
        if dossier.user_id is not None:
            applicants.append(dossier.user_id)
        if len(applicants) >= _CHUNK:
            _log_export(agent, applicants)
        answers = dict(answers_as_text(dossier, forms[dossier.version_id]))
        base = [
            dossier.reference,
            dossier.procedure.slug,
            dossier.status,
            dossier.commune.code if dossier.commune else "",
            dossier.submitted_at.isoformat() if dossier.submitted_at else "",
            dossier.decided_at.isoformat() if dossier.decided_at else "",
        ]
        cells = base + [answers.get(column, "") for column in columns]
        yield writer.writerow([safe_cell(cell) for cell in cells])
    _log_export(agent, applicants)


def _log_export(agent: Any, applicant_ids: list[Any]) -> None:
    """One access-log line per exported file, written in bulk; empties the list."""
    users = [User(pk=pk) for pk in applicant_ids]
    purpose = gettext_noop("File exported through the agents' API")
    log_accesses(users, AccessorKind.AGENT, _accessor(agent), "procedures", purpose)
    applicant_ids.clear()


class _Pipe(io.RawIOBase):
    """What zipfile writes, handed on in pieces: zipfile streams to unseekable outputs."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def zip_chunks(agent: Any, files: QuerySet[Dossier]) -> Iterator[bytes]:
    """A zip of ``files.csv`` and each file's attachments under ``<reference>/``, streamed.

    zipfile writes to a non-seekable output with data descriptors, so nothing is
    held in memory beyond one chunk of one attachment.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("files.csv", "w") as entry:
            for line in csv_rows(agent, files):
                entry.write(line.encode())
                yield pipe.take()
        for dossier in files.iterator(chunk_size=_CHUNK):
            yield from _attachments(archive, pipe, dossier)
    yield pipe.take()


def _attachments(archive: zipfile.ZipFile, pipe: _Pipe, dossier: Dossier) -> Iterator[bytes]:
    for stored in attachments(dossier):
        name = f"{dossier.reference}/{str(stored.pk)[:8]}-{stored.name}"
        with open_stored(stored) as source, archive.open(name, "w", force_zip64=True) as entry:
            while chunk := source.read(_ZIP_CHUNK):
                entry.write(chunk)
                yield pipe.take()
