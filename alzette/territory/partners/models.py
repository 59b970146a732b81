"""Communities, sharing grants, partner applications, their credentials and their use.

Organisations are the catalogue's publishers (``catalogue.Organisation``): the same
body publishes datasets, receives shares and registers applications. Nothing here
names a person: the people who manage an organisation are linked to it on the
personal side (``accounts.PartnerOrganisation.organisation_slug``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel, LedgerOpening
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners import scopes as vocab


class Community(BaseModel):
    """Organisations that share data among themselves (a mobility cluster, a living lab)."""

    slug = models.SlugField(_("short name"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        Organisation, verbose_name=_("members"), blank=True, related_name="communities"
    )

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Grant(BaseModel):
    """A dataset or an API scope shared with an organisation or a community, for a
    purpose and a period. It lapses by itself at ``ends_at``; revoking ends it early."""

    dataset = models.ForeignKey(
        Dataset,
        verbose_name=_("dataset"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
    )
    scope = models.CharField(_("API scope"), max_length=40, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants_received",
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
    )
    granted_by = models.ForeignKey(
        Organisation,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="grants_given",
    )
    purpose = models.TextField(_("purpose"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # The pseudonym or component that created it, as in the ledger.
    actor = models.CharField(max_length=80, blank=True)
    expiry_recorded = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("sharing grant")
        verbose_name_plural = _("sharing grants")
        ordering = ("-starts_at",)
        indexes = [models.Index(fields=["ends_at"], name="partners_grant_ends")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.grantee}"

    @property
    def subject(self) -> str:
        return self.dataset.identifier if self.dataset_id else self.scope

    @property
    def grantee(self) -> str:
        return (
            self.organisation.slug if self.organisation_id else f"community:{self.community.slug}"
        )

    def active(self, at: Any = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.starts_at <= at < self.ends_at

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if bool(self.dataset_id) == bool(self.scope):
            errors["scope"] = _("Share either one dataset or one API scope.")
        elif self.scope and self.scope not in vocab.GRANTABLE:
            errors["scope"] = _("Unknown API scope %(scope)s.") % {"scope": self.scope}
        if bool(self.organisation_id) == bool(self.community_id):
            errors["organisation"] = _("Share with either one organisation or one community.")
        if not (self.purpose or "").strip():
            errors["purpose"] = _("Say what the data will be used for.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must come after the start.")
        if errors:
            raise ValidationError(errors)


class App(BaseModel):
    """A partner's application: its OAuth2 client, scopes, quotas and environment."""

    class Environment(models.TextChoices):
        SANDBOX = "sandbox", _("Sandbox (synthetic data)")
        LIVE = "live", _("Live (real shared data)")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="apps"
    )
    name = models.CharField(_("name"), max_length=120)
    environment = models.CharField(
        _("environment"), max_length=10, choices=Environment.choices, default=Environment.SANDBOX
    )
    scopes = models.JSONField(_("scopes"), default=list)
    client_id = models.CharField(_("client id"), max_length=40, unique=True)
    client_secret_hash = models.CharField(max_length=64, blank=True)
    per_minute = models.PositiveIntegerField(_("requests per minute"), default=60)
    per_day = models.PositiveIntegerField(_("requests per day"), default=10_000)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner application")
        verbose_name_plural = _("partner applications")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="partners_app_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sandbox(self) -> bool:
        return self.environment == self.Environment.SANDBOX

    def clean(self) -> None:
        unknown = sorted(set(self.scopes or []) - set(vocab.SCOPES))
        if not isinstance(self.scopes, list) or unknown:
            raise ValidationError(
                {
                    "scopes": _("Unknown scope(s): %(scopes)s.")
                    % {"scopes": ", ".join(map(str, unknown))}
                }
            )
        if not self.per_minute or not self.per_day:
            raise ValidationError({"per_minute": _("Quotas must be positive.")})


class Credential(models.Model):
    """An API key or an OAuth2 access token of an app; only a hash is kept."""

    class Kind(models.TextChoices):
        KEY = "key", _("API key")
        TOKEN = "token", _("OAuth2 access token")

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    label = models.CharField(max_length=120, blank=True)
    scopes = models.JSONField(default=list)  # a token's scopes; a key carries its app's
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["app", "kind"], name="partners_cred_app")]

    def __str__(self) -> str:
        return f"{self.kind} {self.prefix}"


class Usage(models.Model):
    """Requests of an app per hour, for daily quotas and usage charts."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="usage")
    hour = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "hour"], name="partners_usage_hour")]

    def __str__(self) -> str:
        return f"{self.app_id} {self.hour:%Y-%m-%d %H}h"


class AccessLog(models.Model):
    """One access to shared data (or a refusal), for the data's owner to see."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    app = models.ForeignKey(App, null=True, on_delete=models.SET_NULL, related_name="accesses")
    organisation = models.ForeignKey(
        Organisation, null=True, on_delete=models.SET_NULL, related_name="accesses_made"
    )
    owner = models.ForeignKey(
        Organisation, null=True, on_delete=models.SET_NULL, related_name="accesses_received"
    )
    grant = models.ForeignKey(Grant, null=True, on_delete=models.SET_NULL, related_name="accesses")
    subject = models.CharField(max_length=120)  # dataset identifier or scope
    action = models.CharField(max_length=200)  # method and path
    allowed = models.BooleanField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-at",)
        indexes = [models.Index(fields=["owner", "-at"], name="partners_log_owner")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.subject}"


class LedgerRecord(LedgerOpening):
    """The opening (payload and salt) of a sharing entry in the ledger, kept so that
    anyone can check what was committed (docs/ledger.md)."""

    object_ref = models.CharField(max_length=80, db_index=True)
