"""Online procedures, the domain: filing, instruction, decisions, deadlines, retention.

No HTTP here (the "Domain modules import no HTTP framework" contract covers this
module): pages, the agents' API and the scheduled commands call these functions.
Every transition is atomic, checked against ``Dossier.get_abilities`` and recorded
in the ledger; the applicant keeps the receipts ("my data").
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alzette.core.mail import send_in_language
from alzette.core.repositories import PERSONAL
from alzette.ledger import services as ledger
from alzette.personal.accounts.models import OrganisationalUnit, UnitKind
from alzette.personal.mydata.services import record_receipt
from alzette.personal.procedures import schema, webhooks
from alzette.personal.procedures.models import (
    Dossier,
    DossierEvent,
    EventKind,
    InstructorGroup,
    Procedure,
    ProcedureVersion,
    Status,
)
from alzette.personal.procedures.signals import dossier_changed

#: Reference characters: no 0/O, 1/I/L, so a reference read over the phone is unambiguous.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SYSTEM = "system:procedures"
#: Agents are reminded of a file this long before its deadline.
REMINDER_BEFORE = timedelta(days=3)


class AnswersInvalid(Exception):
    """Answers that cannot be submitted; ``errors`` maps field keys to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} field(s) to correct")
        self.errors = errors


class Conflict(Exception):
    """The file changed meanwhile (submitted twice, decided by someone else)."""


# --- Catalogue -------------------------------------------------------------------


def offered() -> QuerySet[Procedure]:
    """Published procedures that have a published form."""
    return Procedure.objects.filter(published=True, versions__published_at__isnull=False).distinct()


def communes() -> dict[str, str]:
    return dict(
        OrganisationalUnit.objects.filter(kind=UnitKind.COMMUNE)
        .order_by("name")
        .values_list("code", "name")
    )


def context(dossier: Dossier | None = None) -> schema.Context:
    """What answer validation needs: the communes, and which stored files a field may cite
    (files uploaded for this file)."""
    allowed: set[str] = set()
    if dossier is not None:
        allowed = set(schema.file_ids(dossier.version.schema, dossier.answers))
        allowed |= {str(item) for item in dossier.answers.get("__uploads__", [])}
    return schema.Context(
        communes=communes(),
        file_ok=lambda file_id, _definition: file_id in allowed,
        today=timezone.localdate(),
    )


# --- Filing --------------------------------------------------------------------------


def new_reference(procedure: Procedure) -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{procedure.reference_prefix}-{timezone.now().year}-{code}"


def prefill(user: Any, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers pre-filled from the identity FranceConnect certified (and the account)."""
    if user is None:
        return {}
    pivot = _pivot(user)
    known = {
        "given_name": getattr(pivot, "given_name", "") or user.first_name,
        "family_name": getattr(pivot, "family_name", "") or user.last_name,
        "birthdate": getattr(pivot, "birthdate", ""),
        "birthplace": getattr(pivot, "birthplace", ""),
        "gender": getattr(pivot, "gender", ""),
        "email": user.email,
    }
    return {
        definition["key"]: known[definition["prefill"]]
        for definition in fields
        if definition.get("prefill") and known.get(definition["prefill"])
    }


def _pivot(user: Any) -> Any:
    try:
        return user.pivot_identity
    except Exception:
        return None


def start(user: Any, procedure: Procedure) -> Dossier:
    """A new draft of ``procedure`` for ``user`` (None: an anonymous report)."""
    version = procedure.current_version
    if not procedure.published or version is None:
        raise PermissionDenied(_("This procedure is not open."))
    if user is None and not procedure.allow_anonymous:
        raise PermissionDenied(_("Log in to file this procedure."))
    answers = prefill(user, version.schema) if user is not None else {}
    return Dossier.objects.create(
        procedure=procedure,
        version=version,
        user=user,
        reference=new_reference(procedure),
        answers=answers,
    )


def save_draft(actor: Any, dossier: Dossier, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """Keep the valid answers of a draft; return the errors of the others (not saved)."""
    _require(dossier, actor, "edit", anonymous_ok=True)
    clean, errors = schema.validate_answers(
        dossier.version.schema, answers, context(dossier), partial=True
    )
    uploads = dossier.answers.get("__uploads__", [])
    dossier.answers = {**clean, **({"__uploads__": uploads} if uploads else {})}
    dossier.save(update_fields=["answers", "updated_at"])
    return errors


def _require(dossier: Dossier, actor: Any, ability: str, anonymous_ok: bool = False) -> None:
    # An anonymous report is edited by whoever holds it in their session (the view checks).
    if anonymous_ok and dossier.user_id is None and actor is None and dossier.status == "draft":
        return
    if not dossier.get_abilities(actor).get(ability):
        raise PermissionDenied(_("You may not do this with this file."))


def _route(dossier: Dossier) -> None:
    """Commune from the field marked ``routing``; group of that commune, else of the
    procedure's own unit (the EPCI's group takes every commune)."""
    code = None
    for definition in schema.visible(dossier.version.schema, dossier.answers):
        if definition.get("routing"):
            value = dossier.answers.get(definition["key"])
            code = value.get("commune") if isinstance(value, Mapping) else value
            break
    dossier.commune = OrganisationalUnit.objects.filter(code=code).first() if code else None
    groups = InstructorGroup.objects.filter(procedure=dossier.procedure)
    group = groups.filter(unit=dossier.commune).first() if dossier.commune else None
    dossier.group = group or groups.filter(unit=dossier.procedure.unit).first()


def submit(actor: Any, dossier_id: Any, answers: Mapping[str, Any]) -> Dossier:
    """Validate every answer and file the dossier (or its correction). Nothing is
    saved when an answer is wrong (AnswersInvalid) or when it was already filed (Conflict)."""
    with transaction.atomic(using=PERSONAL):
        dossier = (
            Dossier.objects.select_for_update()
            .select_related("procedure", "version")
            .get(pk=dossier_id)
        )
        if dossier.status not in ("draft", "correction_requested"):
            raise Conflict(_("This file has already been submitted."))
        _require(dossier, actor, "submit", anonymous_ok=True)
        clean, errors = schema.validate_answers(dossier.version.schema, answers, context(dossier))
        if errors:
            raise AnswersInvalid(errors)
        correction = dossier.status == Status.CORRECTION
        previous = dossier.status
        dossier.answers = clean
        dossier.status = Status.SUBMITTED
        now = timezone.now()
        if not correction:
            dossier.submitted_at = now
            dossier.due_at = now + timedelta(days=dossier.procedure.instruction_days)
            _route(dossier)
        dossier.save()
        kind = "procedure.status_changed" if correction else "procedure.submitted"
        _event(dossier, EventKind.STATUS, actor, previous, Status.SUBMITTED, "", kind)
    _notify_applicant(dossier, gettext_noop("Your file %(reference)s has been received."))
    return dossier


# --- Attachments and documents --------------------------------------------------------


def attach(actor: Any, dossier: Dossier, definition: dict[str, Any], upload: Any) -> str:
    """Keep a file uploaded for a file field of a draft; its stored-file id.

    Raises ``FileRejected`` (a ValidationError, with the reason) for a file the field
    does not accept: too large, another type, infected."""
    from alzette.personal.files.services import store_upload

    _require(dossier, actor, "edit", anonymous_ok=True)
    stored = store_upload(
        upload,
        getattr(upload, "name", "") or "file",
        allowed_types=definition["accept"],
        max_bytes=int(definition["max_size"]),
        owner=dossier.user,
    )
    uploads = [*dossier.answers.get("__uploads__", []), str(stored.pk)]
    dossier.answers = {**dossier.answers, "__uploads__": uploads}
    dossier.save(update_fields=["answers", "updated_at"])
    return str(stored.pk)


def attachment_ids(dossier: Dossier) -> set[str]:
    """The stored files that belong to the file: its answers' and its messages'."""
    ids = set(schema.file_ids(dossier.version.schema, dossier.answers))
    ids |= {str(item) for item in dossier.answers.get("__uploads__", [])}
    for attachments in dossier.events.values_list("attachments", flat=True):
        ids |= {str(item) for item in attachments or []}
    return ids


def file_names(ids: Iterable[str]) -> dict[str, str]:
    from alzette.personal.files.models import StoredFile

    return {
        str(pk): name
        for pk, name in StoredFile.objects.filter(pk__in=list(ids)).values_list("pk", "name")
    }


def _delete_attachments(ids: Iterable[str]) -> None:
    from alzette.personal.files.models import StoredFile
    from alzette.personal.files.services import delete_stored

    for stored in StoredFile.objects.filter(pk__in=list(ids)):
        delete_stored(stored)


def receipt_document(dossier: Dossier, verify_url: str) -> Any:
    """The filing receipt (PDF model): the answers and the ledger receipt of the filing."""
    from alzette.personal.files import pdf
    from alzette.personal.procedures import formdata

    filed = dossier.events.filter(to_status=Status.SUBMITTED).order_by("created_at").first()
    names = file_names(attachment_ids(dossier))
    blocks: list[Any] = [
        pdf.Fields(
            [
                (_("Reference"), dossier.reference),
                (
                    _("Filed on"),
                    timezone.localtime(dossier.submitted_at).strftime("%Y-%m-%d %H:%M"),
                ),
                (_("Status"), str(dossier.get_status_display())),
            ]
        ),
        pdf.Heading(_("Your answers")),
        pdf.Fields(
            [
                (label, value)
                for label, value in formdata.rows(dossier.version.schema, dossier.answers, names)
                if value
            ]
        ),
    ]
    if filed is not None and filed.receipt:
        blocks.append(pdf.LedgerReceipt.from_receipt(filed.receipt, verify_url))
    return pdf.Document(
        title=_("Filing receipt"),
        subtitle=dossier.procedure.local_title(),
        blocks=blocks,
        footer=dossier.procedure.unit.name,
    )


def decision_document(dossier: Dossier, verify_url: str) -> Any:
    """The decision letter (PDF model) from the procedure's template and the motive."""
    from alzette.core.translated import pick
    from alzette.personal.files import pdf

    decided = (
        dossier.events.filter(to_status__in=list(Status.final())).order_by("-created_at").first()
    )
    blocks: list[Any] = [
        pdf.Fields(
            [
                (_("Reference"), dossier.reference),
                (_("Decision"), str(dossier.get_status_display())),
                (_("Decided on"), timezone.localtime(dossier.decided_at).strftime("%Y-%m-%d")),
            ]
        )
    ]
    if opening := pick(dossier.procedure.decision_template):
        blocks.append(pdf.Paragraph(opening))
    if dossier.motive:
        blocks.append(pdf.Paragraph(dossier.motive))
    if decided is not None and decided.receipt:
        blocks.append(pdf.LedgerReceipt.from_receipt(decided.receipt, verify_url))
    return pdf.Document(
        title=_("Decision"),
        subtitle=dossier.procedure.local_title(),
        blocks=blocks,
        footer=dossier.procedure.unit.name,
    )


# --- Fees -------------------------------------------------------------------------------


def start_payment(actor: Any, dossier: Dossier) -> Any:
    """A new payment attempt for the file's fee (the payments app); the caller sends
    the payer to ``payments.services.checkout_url``."""
    from alzette.personal.payments import services as payments

    _require(dossier, actor, "pay")
    payment = payments.create_payment(
        dossier.user,
        dossier.procedure.fee_cents,
        f"{dossier.procedure.local_title()[:80]} {dossier.reference}",
        f"dossier:{dossier.pk}",
        f"/procedures/files/{dossier.pk}/",
    )
    dossier.payment = payment
    dossier.save(update_fields=["payment", "updated_at"])
    return payment


def payment_changed(payment: Any, previous_status: str) -> None:
    """Write a payment's outcome into its file's history (the ledger has it already)."""
    if not payment.reference.startswith("dossier:"):
        return
    dossier = Dossier.objects.filter(pk=payment.reference.split(":", 1)[1]).first()
    if dossier is None:
        return
    DossierEvent.objects.create(
        dossier=dossier,
        kind=EventKind.PAYMENT,
        from_status=previous_status,
        to_status=payment.status,
    )
    if payment.status == "paid":
        _notify_applicant(dossier, gettext_noop("Your payment for file %(reference)s is received."))


# --- Instruction ---------------------------------------------------------------------------


def _transition(
    actor: Any, dossier_id: Any, ability: str, target: str, body: str = "", kind: str = ""
) -> Dossier:
    with transaction.atomic(using=PERSONAL):
        dossier = (
            # Lock the file's row only: the group is on the nullable side of an outer
            # join, which PostgreSQL cannot lock.
            Dossier.objects.select_for_update(of=("self",))
            .select_related("procedure", "group")
            .get(pk=dossier_id)
        )
        _require(dossier, actor, ability)
        previous = dossier.status
        dossier.status = target
        if target in Status.final():
            dossier.decided_at = timezone.now()
            dossier.motive = body
        if ability == "instruct" and dossier.assignee_id is None:
            dossier.assignee = actor
        dossier.save()
        _event(
            dossier,
            EventKind.STATUS,
            actor,
            previous,
            target,
            body,
            kind or "procedure.status_changed",
            from_agent=True,
        )
    return dossier


def take(agent: Any, dossier_id: Any) -> Dossier:
    """Start instructing a submitted file (it is assigned to the agent if to no one)."""
    return _transition(agent, dossier_id, "instruct", Status.IN_INSTRUCTION)


def request_correction(agent: Any, dossier_id: Any, message: str) -> Dossier:
    if not message.strip():
        raise AnswersInvalid({"message": [_("Tell the applicant what to correct.")]})
    dossier = _transition(
        agent, dossier_id, "request_correction", Status.CORRECTION, message.strip()
    )
    _notify_applicant(dossier, gettext_noop("Your file %(reference)s needs a correction."))
    return dossier


DECISIONS = {"accept": Status.ACCEPTED, "refuse": Status.REFUSED, "close": Status.CLOSED}


def decide(agent: Any, dossier_id: Any, decision: str, motive: str) -> Dossier:
    """Accept, refuse or close a file under instruction; a refusal states its motive."""
    if decision not in DECISIONS:
        raise AnswersInvalid({"decision": [_("Choose a decision.")]})
    if decision == "refuse" and not motive.strip():
        raise AnswersInvalid({"motive": [_("A refusal states its motive.")]})
    dossier = _transition(
        agent, dossier_id, "decide", DECISIONS[decision], motive.strip(), "procedure.decided"
    )
    _notify_applicant(dossier, gettext_noop("A decision has been made on your file %(reference)s."))
    return dossier


def assign(agent: Any, dossier_id: Any, assignee: Any) -> Dossier:
    """Give the file to a member of its instructor group (or to nobody)."""
    with transaction.atomic(using=PERSONAL):
        dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
        _require(dossier, agent, "assign")
        if assignee is not None and not (
            dossier.group and dossier.group.members.filter(pk=assignee.pk).exists()
        ):
            raise PermissionDenied(_("Assign the file to a member of its instructor group."))
        dossier.assignee = assignee
        dossier.save(update_fields=["assignee", "updated_at"])
        DossierEvent.objects.create(
            dossier=dossier,
            kind=EventKind.ASSIGNMENT,
            actor=agent,
            from_agent=True,
            body=assignee.get_full_name() or assignee.email if assignee else "",
        )
    return dossier


def add_note(agent: Any, dossier: Dossier, text: str) -> DossierEvent:
    """A private note, for the instructors only."""
    _require(dossier, agent, "note")
    if not text.strip():
        raise AnswersInvalid({"note": [_("Write the note.")]})
    return DossierEvent.objects.create(
        dossier=dossier, kind=EventKind.NOTE, actor=agent, from_agent=True, body=text.strip()[:5000]
    )


MESSAGE_ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
MESSAGE_ATTACHMENT_BYTES = 10 * 1024 * 1024


def post_message(
    actor: Any, dossier: Dossier, text: str, uploads: Iterable[Any] = ()
) -> DossierEvent:
    """A message between the applicant and the instructors, with attachments (PDF or
    pictures); a refused attachment (FileRejected) sends nothing."""
    from alzette.personal.files.services import store_upload

    _require(dossier, actor, "message")
    if not text.strip():
        raise AnswersInvalid({"message": [_("Write the message.")]})
    from_agent = actor.pk != dossier.user_id
    with transaction.atomic(using=PERSONAL):
        stored = [
            store_upload(
                upload,
                getattr(upload, "name", "") or "file",
                allowed_types=MESSAGE_ATTACHMENT_TYPES,
                max_bytes=MESSAGE_ATTACHMENT_BYTES,
                owner=actor,
            )
            for upload in uploads
        ]
        event = DossierEvent.objects.create(
            dossier=dossier,
            kind=EventKind.MESSAGE,
            actor=actor,
            from_agent=from_agent,
            body=text.strip()[:5000],
            attachments=[str(item.pk) for item in stored],
        )
    if from_agent:
        _notify_applicant(
            dossier, gettext_noop("You have a new message about your file %(reference)s.")
        )
    return event


@dataclass(frozen=True)
class BatchResult:
    done: list[str]
    refused: list[str]


def batch(agent: Any, dossier_ids: Iterable[Any], action: str, motive: str = "") -> BatchResult:
    """Apply ``action`` (take, accept, refuse, close) to several files; each is checked
    on its own and refused ones are listed, never half-done."""
    done, refused = [], []
    for dossier_id in dossier_ids:
        reference = (
            Dossier.objects.filter(pk=dossier_id).values_list("reference", flat=True).first()
        )
        try:
            if action == "take":
                take(agent, dossier_id)
            else:
                decide(agent, dossier_id, action, motive)
        except (PermissionDenied, AnswersInvalid, Dossier.DoesNotExist):
            refused.append(reference or str(dossier_id))
        else:
            done.append(reference)
    return BatchResult(done, refused)


# --- Ledger and history ------------------------------------------------------------


def _event(
    dossier: Dossier,
    kind: str,
    actor: Any,
    previous: str,
    target: str,
    body: str,
    ledger_kind: str,
    from_agent: bool = False,
) -> DossierEvent:
    """Write the history line and the ledger entry; the applicant keeps the receipt."""
    ref = f"dossier:{dossier.pk}"
    payload = {"reference": dossier.reference, "from": previous, "to": target}
    acting = actor.pseudonym if getattr(actor, "is_authenticated", False) else SYSTEM
    if dossier.user is not None:
        stored = record_receipt(dossier.user, ledger_kind, ref, payload, actor=acting)
        receipt = stored.receipt
    else:
        receipt = ledger.record(ledger_kind, acting, ref, payload)[0].as_dict()
    event = DossierEvent.objects.create(
        dossier=dossier,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_agent=from_agent,
        from_status=previous,
        to_status=target,
        body=body,
        receipt=receipt,
    )
    if previous != target:
        webhooks.enqueue(dossier, event)  # in this transaction: no change without its message
    transaction.on_commit(
        lambda: dossier_changed.send(Dossier, dossier=dossier, event=event, kind=ledger_kind),
        using=PERSONAL,
    )
    return event


def _notify_applicant(dossier: Dossier, subject: str) -> None:
    """E-mail the applicant once the transaction commits (console backend in the demo);
    nothing for anonymous files. ``subject`` is untranslated (``gettext_noop``): it is
    translated in the applicant's language, not in the one of whoever acted."""
    user = dossier.user
    if user is None or not user.email:
        return
    reference, status, procedure = dossier.reference, Status(dossier.status), dossier.procedure

    def build() -> tuple[str, str]:
        text = _(subject) % {"reference": reference}
        body = _("%(subject)s\n\nProcedure: %(procedure)s\nStatus: %(status)s\n") % {
            "subject": text,
            "procedure": procedure.local_title(),
            "status": status.label,
        }
        return text, body

    recipients = [(user.email, user.preferred_language)]
    transaction.on_commit(
        lambda: send_in_language(recipients, build, context=f"file {reference}"),
        using=PERSONAL,
    )


# --- Scheduled work ----------------------------------------------------------------------


def accept_silently(now: datetime | None = None) -> list[str]:
    """Accept the open files whose deadline passed, for procedures that say silence is
    acceptance (French administrative law's "silence vaut acceptation")."""
    now = now or timezone.now()
    late = Dossier.objects.filter(
        procedure__silent_acceptance=True,
        status__in=[Status.SUBMITTED, Status.IN_INSTRUCTION],
        due_at__lt=now,
    )
    accepted = []
    for dossier in late:
        with transaction.atomic(using=PERSONAL):
            locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
            # An unpaid file was never complete: silence cannot accept it.
            if (
                locked.status not in (Status.SUBMITTED, Status.IN_INSTRUCTION)
                or locked.awaiting_payment
            ):
                continue
            previous = locked.status
            locked.status = Status.ACCEPTED
            locked.decided_at = now
            locked.motive = _("Accepted: no decision was made before the deadline.")
            locked.save()
            _event(
                locked,
                EventKind.STATUS,
                None,
                previous,
                Status.ACCEPTED,
                locked.motive,
                "procedure.decided",
            )
        _notify_applicant(locked, gettext_noop("Your file %(reference)s is accepted."))
        accepted.append(locked.reference)
    return accepted


def remind(now: datetime | None = None) -> int:
    """E-mail the instructors of open files due within REMINDER_BEFORE, once per file."""
    now = now or timezone.now()
    due = Dossier.objects.filter(
        status__in=[Status.SUBMITTED, Status.IN_INSTRUCTION],
        due_at__lt=now + REMINDER_BEFORE,
        reminded_at__isnull=True,
        group__isnull=False,
    ).select_related("group", "procedure")
    count = 0
    for dossier in due:
        instructors = dossier.group.members.exclude(email="")
        values = {
            "reference": dossier.reference,
            "date": timezone.localtime(dossier.due_at).date().isoformat(),
        }
        subject = _("File %(reference)s is due on %(date)s") % values  # for the history

        def build(values: dict[str, str] = values) -> tuple[str, str]:
            text = _("File %(reference)s is due on %(date)s") % values
            return text, text  # each instructor's language

        send_in_language(
            instructors.values_list("email", "preferred_language"),
            build,
            context=f"reminder of {dossier.reference}",
        )
        dossier.reminded_at = now
        dossier.save(update_fields=["reminded_at", "updated_at"])
        DossierEvent.objects.create(dossier=dossier, kind=EventKind.REMINDER, body=subject)
        count += 1
    return count


def apply_retention(now: datetime | None = None) -> list[str]:
    """Anonymise the decided files kept longer than their procedure's retention: the
    answers, messages, notes and link to the applicant go; the reference, status and
    dates stay for the statistics. Returns the references anonymised."""
    now = now or timezone.now()
    anonymised = []
    candidates = Dossier.objects.filter(
        status__in=list(Status.final()), anonymised_at__isnull=True, decided_at__isnull=False
    ).select_related("procedure")
    for dossier in candidates:
        if dossier.decided_at + timedelta(days=dossier.procedure.retention_days) > now:
            continue
        with transaction.atomic(using=PERSONAL):
            _delete_attachments(attachment_ids(dossier))
            dossier.answers = {}
            dossier.user = None
            dossier.assignee = None
            dossier.motive = ""
            dossier.anonymised_at = now
            dossier.save()
            dossier.events.exclude(kind=EventKind.STATUS).delete()
            dossier.events.update(body="", attachments=[])
        anonymised.append(dossier.reference)
    return anonymised


def retention_hold(user: Any) -> str:
    """Why ``user``'s account cannot be erased yet: files still being instructed (their
    decision must reach someone). Decided files are kept without the account until
    their retention ends; drafts go with the account."""
    open_files = Dossier.objects.filter(
        user=user, status__in=[Status.SUBMITTED, Status.IN_INSTRUCTION, Status.CORRECTION]
    ).values_list("reference", flat=True)
    if not open_files:
        return ""
    return _("Files are being instructed: %(references)s. Wait for their decision.") % {
        "references": ", ".join(open_files)
    }


def forget_drafts(user: Any) -> None:
    """Drafts are not kept for anyone once their author's account goes (nor their files)."""
    for draft in Dossier.objects.filter(user=user, status=Status.DRAFT):
        _delete_attachments(attachment_ids(draft))
        draft.delete()


def statistics() -> list[dict[str, Any]]:
    """Counts and mean instruction delays per procedure, commune and month of filing:
    the only form in which files may leave for the territory repository (aggregates)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for dossier in Dossier.objects.exclude(status=Status.DRAFT).select_related(
        "procedure", "commune"
    ):
        month = (
            timezone.localtime(dossier.submitted_at).strftime("%Y-%m")
            if dossier.submitted_at
            else ""
        )
        key = (dossier.procedure.slug, dossier.commune.code if dossier.commune else "", month)
        row = rows.setdefault(
            key,
            {
                "procedure": key[0],
                "commune": key[1],
                "month": month,
                "filed": 0,
                "decided": 0,
                "accepted": 0,
                "delay_days_total": 0.0,
            },
        )
        row["filed"] += 1
        if dossier.decided_at and dossier.submitted_at:
            row["decided"] += 1
            row["accepted"] += dossier.status == Status.ACCEPTED
            row["delay_days_total"] += (
                dossier.decided_at - dossier.submitted_at
            ).total_seconds() / 86400
    result = []
    for row in rows.values():
        decided = row.pop("decided")
        total = row.pop("delay_days_total")
        row["decided"] = decided
        row["mean_delay_days"] = round(total / decided, 1) if decided else None
        result.append(row)
    return sorted(result, key=lambda row: (row["procedure"], row["commune"], row["month"]))


# --- Building procedures -----------------------------------------------------------------


def publish_version(
    actor: Any, procedure: Procedure, fields: list[dict[str, Any]]
) -> ProcedureVersion:
    """Publish a new version of the form; files already filed keep theirs."""
    from alzette.personal.procedures.authz import manages

    if not manages(actor, procedure):
        raise PermissionDenied(_("You do not manage this procedure."))
    schema.check_schema(fields)
    with transaction.atomic(using=PERSONAL):
        last = procedure.versions.order_by("-number").values_list("number", flat=True).first() or 0
        return ProcedureVersion.objects.create(
            procedure=procedure,
            number=last + 1,
            schema=fields,
            published_at=timezone.now(),
            created_by=actor,
        )
