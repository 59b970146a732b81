"""The payment simulator: a page where the payer picks "Pay", "Refuse" or "Cancel".

For the demo and the tests only; it refuses to exist in production (like
``alzette.devidp``). Its notifications go through the same code path as a real
provider's (``/payments/notify/simulator/``, form-encoded) and are signed with
an HMAC of the platform's secret key, so a notification typed by hand is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from alzette.personal.payments.providers.base import (
    InvalidNotification,
    Notification,
    PaymentProvider,
)

if TYPE_CHECKING:
    from alzette.personal.payments.models import Payment

#: What the payer can choose on the simulator's page -> the status it notifies.
RESULTS = {"pay": "paid", "refuse": "refused", "cancel": "cancelled"}
_SALT = "alzette.payments.simulator"


def sign(reference: str, status: str, amount_cents: int) -> str:
    """The simulator's signature of one notification."""
    return salted_hmac(
        _SALT, f"{reference}|{status}|{amount_cents}", algorithm="sha256"
    ).hexdigest()


class SimulatorProvider(PaymentProvider):
    key = "simulator"
    label = _("Payment simulator (demo)")

    def __init__(self, key: str | None = None) -> None:
        if settings.ALZETTE_MODE == "production":
            raise ImproperlyConfigured("The payment simulator never runs in production.")
        super().__init__(key)

    def new_reference(self, payment: Payment) -> str:
        return f"SIM{payment.pk.hex}"

    def checkout_url(self, payment: Payment, base_url: str) -> str:
        return base_url.rstrip("/") + reverse("payments:simulator", args=[payment.pk])

    def notification_data(self, payment: Payment, choice: str) -> dict[str, str]:
        """The form fields the simulator posts when the payer picks ``choice``."""
        status = RESULTS[choice]
        return {
            "reference": payment.provider_reference,
            "status": status,
            "amount": str(payment.amount_cents),
            "signature": sign(payment.provider_reference, status, payment.amount_cents),
        }

    def parse_notification(self, data: Mapping[str, str]) -> Notification:
        reference, status = data.get("reference", ""), data.get("status", "")
        amount, signature = data.get("amount", ""), data.get("signature", "")
        if status not in RESULTS.values() or not amount.isdigit() or not reference:
            raise InvalidNotification("Malformed simulator notification.")
        if not constant_time_compare(signature, sign(reference, status, int(amount))):
            raise InvalidNotification("Bad signature.")
        raw = {"reference": reference, "status": status, "amount": amount}
        return Notification(status, reference, raw, amount_cents=int(amount))
