"""What "my data" shows of payments, and why an account with one in flight is kept.

Registered by ``PaymentsConfig.ready`` as the "payments" category and retention hold.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.payments.models import Payment, Status


def payments(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "label": payment.label,
            "amount": f"{payment.amount_cents / 100:.2f}",
            "currency": payment.currency,
            "status": payment.status,
            "provider": payment.provider,
            "reference": payment.reference,
            "created_at": payment.created_at,
            "paid_at": payment.paid_at,
        }
        for payment in Payment.objects.filter(user=user)
    ]


def retention_hold(user: Any) -> Any:
    """Money may be in flight while a payment is pending: keep the account until the
    provider has answered (or the payment expired)."""
    if Payment.objects.filter(user=user, status=Status.PENDING).exists():
        return _("A payment is in progress; it must be completed, cancelled or expire first.")
    return None


def data_source() -> Any:
    from alzette.personal.mydata.services import DataSource

    return DataSource(
        "alzette.personal.payments.sources.payments",
        _("Payments"),
        {
            "label": _("Label"),
            "amount": _("Amount"),
            "currency": _("Currency"),
            "status": _("Status"),
            "provider": _("Payment service"),
            "reference": _("Object"),
            "created_at": _("Asked on"),
            "paid_at": _("Paid on"),
        },
        _(
            "The payments you were asked for. Once your account is erased, they are kept "
            "for the accounts without any link to you."
        ),
        value_labels={"status": dict(Status.choices)},
    )
