"""A payment asked of a person, and the log of every notification its provider sent."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel


class Status(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


#: Statuses a payment never leaves: a notification that contradicts them is refused.
FINAL_STATUSES = frozenset({Status.PAID, Status.REFUSED, Status.CANCELLED, Status.EXPIRED})


class Payment(BaseModel):
    """One amount to pay for one object (a procedure's file, say), through one provider.

    ``user`` is SET_NULL, not PROTECT: the record must outlive the account for the
    accounting reconciliation (amount, date, provider reference), which needs no
    link to the person; PROTECT would make an account un-erasable for as long as
    the books are kept. Erasure is refused while a payment is pending (the
    "payments" retention hold), so money in flight always finds its payer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("payer"),
    )
    amount_cents = models.PositiveIntegerField(
        _("amount (cents)"), validators=[MinValueValidator(1)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR", editable=False)
    label = models.CharField(_("label"), max_length=100)
    reference = models.CharField(_("object reference"), max_length=200, db_index=True)
    provider = models.CharField(_("provider"), max_length=40)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    provider_reference = models.CharField(_("provider reference"), max_length=64)
    return_url = models.CharField(_("return URL"), max_length=500)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at"]
        constraints = [
            # A notification names its payment by this pair: it must be unambiguous.
            models.UniqueConstraint(
                fields=["provider", "provider_reference"], name="payments_unique_provider_ref"
            ),
            models.CheckConstraint(
                condition=models.Q(currency="EUR"), name="payments_currency_eur"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.amount_cents / 100:.2f} {self.currency}, {self.status})"

    @property
    def amount(self) -> Decimal:
        """The amount in euros, for display."""
        return Decimal(self.amount_cents) / 100

    @property
    def object_ref(self) -> str:
        """The opaque reference of this payment in the ledger."""
        return f"payment:{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class Outcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    DUPLICATE = "duplicate", _("Repeated, nothing changed")
    WAITING = "waiting", _("Still in progress, nothing changed")
    CONFLICT = "conflict", _("Contradicts a final status, refused")
    REJECTED = "rejected", _("Does not match the payment, refused")


class PaymentNotification(BaseModel):
    """Every notification received for a payment, whatever became of it.

    Repeated and refused notifications stay visible here; ``raw`` is what the
    provider sent (personal fields such as the payer's e-mail address removed).
    """

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("payment")
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    status = models.CharField(_("notified status"), max_length=10, choices=Status.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    raw = models.JSONField(_("raw notification"), default=dict, blank=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["received_at"]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.status} {self.outcome}"
