"""Online procedures: what agents publish, what citizens file, how files are instructed.

- ``Procedure``: a procedure the territory offers (crèche pre-registration, bin
  request...), owned by an organisational unit whose agents manage it.
- ``ProcedureVersion``: its form (a list of field definitions, see ``schema``);
  published versions never change, and a file keeps the version it was filed under.
- ``InstructorGroup``: the agents who instruct the files of a procedure for a
  commune (or for the whole territory, at the EPCI).
- ``Dossier``: a citizen's file: answers, status, routing, deadline.
- ``DossierEvent``: its history: status changes, messages, private notes,
  assignments, each with its ledger receipt when it is recorded there.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel
from alzette.core.translated import (
    pick,
    validate_optional_translations,
    validate_translations,
)
from alzette.core.validators import ReservedSlugValidator, slug_validator
from alzette.personal.accounts.models import OrganisationalUnit
from alzette.personal.procedures.schema import SchemaError, check_schema

#: Path segments of /procedures/ that a procedure's short name cannot take.
RESERVED_SLUGS = frozenset({"files", "office", "manage"})


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_INSTRUCTION = "in_instruction", _("In instruction")
    CORRECTION = "correction_requested", _("Correction requested")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")
    CLOSED = "closed", _("Closed without follow-up")

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.ACCEPTED, cls.REFUSED, cls.CLOSED})


class Procedure(BaseModel):
    slug = models.SlugField(
        _("short name"),
        max_length=60,
        unique=True,
        validators=[slug_validator, ReservedSlugValidator(RESERVED_SLUGS)],
    )
    title = models.JSONField(_("title"), validators=[validate_translations])
    summary = models.JSONField(_("summary"), validators=[validate_translations])
    unit = models.ForeignKey(
        OrganisationalUnit,
        verbose_name=_("organisational unit"),
        on_delete=models.PROTECT,
        related_name="procedures",
        help_text=_("Its agents manage the procedure."),
    )
    reference_prefix = models.CharField(
        _("reference prefix"),
        max_length=6,
        validators=[RegexValidator(r"^[A-Z]{2,6}$", _("Two to six capital letters."))],
    )
    fee_cents = models.PositiveIntegerField(_("fee (cents)"), default=0)
    instruction_days = models.PositiveIntegerField(
        _("instruction deadline (days)"), default=30, validators=[MinValueValidator(1)]
    )
    silent_acceptance = models.BooleanField(
        _("silent acceptance"),
        default=False,
        help_text=_("Accept the file when the deadline passes without a decision."),
    )
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=730,
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text=_("How long decided files are kept before they are anonymised."),
    )
    allow_anonymous = models.BooleanField(_("anonymous filing allowed"), default=False)
    published = models.BooleanField(_("published"), default=False)
    decision_template = models.JSONField(
        _("decision text"),
        default=dict,
        blank=True,
        validators=[validate_optional_translations],
        help_text=_("Opening of the decision letter; the agent's motive follows."),
    )

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ("slug",)

    def __str__(self) -> str:
        return pick(self.title) or self.slug

    def local_title(self) -> str:
        return pick(self.title) or self.slug

    def local_summary(self) -> str:
        return pick(self.summary)

    @property
    def current_version(self) -> ProcedureVersion | None:
        return self.versions.filter(published_at__isnull=False).order_by("-number").first()


class ProcedureVersion(BaseModel):
    procedure = models.ForeignKey(
        Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    schema = models.JSONField(_("form"), default=list, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        ordering = ("procedure", "number")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedures_one_number")
        ]

    def __str__(self) -> str:
        return f"{self.procedure} v{self.number}"

    def clean(self) -> None:
        super().clean()
        try:
            check_schema(self.schema)
        except SchemaError as exc:
            raise ValidationError({"schema": str(exc)}) from exc


class InstructorGroup(BaseModel):
    procedure = models.ForeignKey(
        Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="groups"
    )
    name = models.CharField(_("name"), max_length=120)
    unit = models.ForeignKey(
        OrganisationalUnit,
        verbose_name=_("organisational unit"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The group instructs the files of this unit's commune (the EPCI: all)."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="instructor_groups"
    )

    class Meta:
        verbose_name = _("instructor group")
        verbose_name_plural = _("instructor groups")
        ordering = ("procedure", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "unit"], name="procedures_one_group_per_unit"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Dossier(BaseModel):
    procedure = models.ForeignKey(
        Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="dossiers"
    )
    version = models.ForeignKey(
        ProcedureVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="+"
    )
    # SET_NULL: a decided file outlives its applicant's account until its retention
    # period ends (see services.retention_hold and services.apply_retention).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dossiers",
    )
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.DRAFT
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    commune = models.ForeignKey(
        OrganisationalUnit,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    group = models.ForeignKey(
        InstructorGroup,
        verbose_name=_("instructor group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dossiers",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_dossiers",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    motive = models.TextField(_("decision motive"), blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    # The fee's latest payment attempt (payments app); the file is instructed once paid.
    payment = models.ForeignKey(
        "payments.Payment",
        verbose_name=_("payment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["status", "due_at"], name="procedures_status_due"),
            models.Index(fields=["procedure", "status"], name="procedures_procedure_status"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def awaiting_payment(self) -> bool:
        """A procedure with a fee: filed, but not paid yet (or the payment failed)."""
        if not self.procedure.fee_cents or self.status == Status.DRAFT or self.user_id is None:
            return False
        return self.payment is None or self.payment.status != "paid"

    @property
    def awaiting_decision(self) -> bool:
        return self.status in (Status.SUBMITTED, Status.IN_INSTRUCTION)

    def get_abilities(self, actor: Any) -> dict[str, bool]:
        """What ``actor`` may do with this file: the one source of truth (``authz``)."""
        from alzette.personal.procedures.authz import dossier_abilities

        return dossier_abilities(self, actor)


class EventKind(models.TextChoices):
    STATUS = "status", _("Status change")
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Private note")
    ASSIGNMENT = "assignment", _("Assignment")
    PAYMENT = "payment", _("Payment")
    REMINDER = "reminder", _("Reminder")


class DossierEvent(BaseModel):
    dossier = models.ForeignKey(
        Dossier, verbose_name=_("file"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_agent = models.BooleanField(_("from an agent"), default=False)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    body = models.TextField(_("text"), blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    receipt = models.JSONField(_("ledger receipt"), null=True, blank=True)

    class Meta:
        verbose_name = _("file event")
        verbose_name_plural = _("file events")
        ordering = ("created_at",)

    def __str__(self) -> str:
        return f"{self.dossier} {self.kind}"

    @property
    def to_status_label(self) -> str:
        if self.kind == EventKind.PAYMENT:
            from alzette.personal.payments.models import Status as PaymentStatus

            return (
                PaymentStatus(self.to_status).label
                if self.to_status in PaymentStatus.values
                else ""
            )
        return Status(self.to_status).label if self.to_status in Status.values else ""

    @property
    def private(self) -> bool:
        """Notes are for agents only."""
        return self.kind == EventKind.NOTE


# --- Agents' API ----------------------------------------------------------------


class AgentToken(BaseModel):
    """A personal API token of an agent: their programs read the files they instruct.

    Only the SHA-256 of the token is kept; the token is shown once, at creation.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="agent_tokens",
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("beginning of the token"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class WebhookEndpoint(BaseModel):
    """An address told of every status change of an instructor group's files."""

    group = models.ForeignKey(
        InstructorGroup,
        verbose_name=_("instructor group"),
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(max_length=64)  # whsec_…, needed in clear to sign
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(BaseModel):
    """One message to one endpoint (the outbox), written in the transition's transaction."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=40, unique=True)
    payload = models.TextField()  # the exact JSON body that is signed
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ("-created_at",)
