"""What "my data" keeps of its own: ledger receipts with their salts, and the access log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel


class StoredReceipt(BaseModel):
    """A ledger receipt handed to a person, with the salt that opens its commitment.

    The ledger holds only the commitment; the salt and the committed payload stay
    here, in the personal repository, and disappear with the account.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="ledger_receipts",
    )
    kind = models.CharField(_("kind"), max_length=64)
    object_ref = models.CharField(_("object reference"), max_length=200)
    leaf_index = models.PositiveBigIntegerField(_("ledger entry"))
    receipt = models.JSONField(_("receipt"))
    salt = models.CharField(_("commitment salt"), max_length=64)
    payload = models.JSONField(_("committed details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("ledger receipt")
        verbose_name_plural = _("ledger receipts")
        ordering = ("-created_at", "-leaf_index")

    def __str__(self) -> str:
        return f"{self.kind} #{self.leaf_index}"


class AccessorKind(models.TextChoices):
    AGENT = "agent", _("Agent")
    SERVICE = "service", _("Service")
    SELF = "self", _("You")
    ADMINISTRATOR = "administrator", _("Administrator")


class DataAccess(BaseModel):
    """Someone (an agent, a service, an administrator, or the person) read a person's data.

    The accessor is described by a label such as an agent's unit or a service's
    name, never by another person's identity.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="data_accesses",
    )
    accessor_kind = models.CharField(_("accessed by"), max_length=16, choices=AccessorKind.choices)
    accessor_label = models.CharField(_("accessor"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=64)
    purpose = models.CharField(_("purpose"), max_length=200)
    accessed_at = models.DateTimeField(_("accessed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("access to personal data")
        verbose_name_plural = _("accesses to personal data")
        ordering = ("-accessed_at",)

    def __str__(self) -> str:
        return f"{self.accessor_kind} {self.category} {self.accessed_at:%Y-%m-%d %H:%M}"
