"""The payments domain: ask for a payment, send the payer to pay, apply notifications.

Plain functions, no HTTP (the import contract "Domain modules import no HTTP
framework" covers this module). Other apps call:

- ``create_payment`` when a person must pay for something (``reference`` names it,
  e.g. ``"dossier:<uuid>"``), then send the browser to ``checkout_url``;
- nothing else: they listen to ``signals.payment_status_changed``.

Notifications arrive through ``/payments/notify/<provider>/`` and end in
``apply_notification``, which is idempotent: a repeated notification is logged
and changes nothing; one contradicting a final status is logged and refused.
Each final status is recorded in the ledger (``payment.paid``, ``payment.failed``).
See docs/payments.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone

from alzette.core.repositories import PERSONAL
from alzette.ledger import services as ledger
from alzette.personal.mydata.services import record_receipt
from alzette.personal.payments.models import (
    FINAL_STATUSES,
    Outcome,
    Payment,
    PaymentNotification,
    Status,
)
from alzette.personal.payments.providers.base import (
    InvalidNotification,
    Notification,
    PaymentProvider,
)
from alzette.personal.payments.registry import UnknownProvider, get_provider
from alzette.personal.payments.signals import payment_status_changed

logger = logging.getLogger(__name__)

#: Actor of the ledger entries of a payment whose payer's account is gone.
SYSTEM_ACTOR = "system:payments"


def default_provider_key() -> str:
    key = settings.ALZETTE_PAYMENT_PROVIDER
    if not key:
        raise ImproperlyConfigured("ALZETTE_PAYMENT_PROVIDER must name the payment provider.")
    return key


def create_payment(
    user: Any,
    amount_cents: int,
    label: str,
    reference: str,
    return_url: str,
    provider: str | None = None,
) -> Payment:
    """Ask ``user`` to pay ``amount_cents`` euro cents for ``reference``.

    ``label`` (at most 100 characters) is shown to the payer; ``return_url`` is
    where the payment's return page leads back to (a path of the platform).
    Raises ``ValidationError`` for a bad amount, label or URL, ``UnknownProvider``
    for an unregistered provider.
    """
    if user is None:
        raise ValidationError("A payment needs a payer.")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationError("The amount must be a positive number of cents.")
    if not return_url.startswith("/") or return_url.startswith("//"):
        raise ValidationError("The return URL must be a path of the platform.")
    key = provider or default_provider_key()
    backend = get_provider(key)
    with transaction.atomic(using=PERSONAL):
        payment = Payment(
            user=user,
            amount_cents=amount_cents,
            label=label.strip(),
            reference=reference,
            provider=key,
            return_url=return_url,
        )
        payment.provider_reference = backend.new_reference(payment)
        payment.save()
    return payment


def checkout_url(payment: Payment, request_base_url: str) -> str:
    """Where the payer's browser goes to pay (may call the provider: ``ProviderError``)."""
    if payment.status != Status.PENDING:
        raise ValidationError("Only a pending payment can be paid.")
    return get_provider(payment.provider).checkout_url(payment, request_base_url)


@dataclass(frozen=True)
class _Decision:
    outcome: str
    detail: str = ""


def _decide(backend: PaymentProvider, payment: Payment, notice: Notification) -> _Decision:
    """What to do with a trusted notification of ``payment`` (read, not written)."""
    if notice.amount_cents is not None and notice.amount_cents != payment.amount_cents:
        return _Decision(Outcome.REJECTED, "The amount does not match.")
    try:
        backend.verify(payment, notice)
    except InvalidNotification as exc:
        return _Decision(Outcome.REJECTED, str(exc))
    if notice.status == Status.PENDING == payment.status:
        return _Decision(Outcome.WAITING)
    if notice.status == payment.status:
        return _Decision(Outcome.DUPLICATE)
    if payment.status in FINAL_STATUSES:
        return _Decision(Outcome.CONFLICT, f"The payment is already {payment.status}.")
    return _Decision(Outcome.APPLIED)


def apply_notification(provider_key: str, data: Mapping[str, str]) -> Payment:
    """Verify and apply a notification of provider ``provider_key``.

    Returns the payment. Raises ``InvalidNotification`` when it cannot be trusted,
    names no payment of this provider, does not match the payment (amount, client
    number...) or contradicts its final status; the last two are logged on the
    payment. Applying the same notification twice changes nothing the second time.
    """
    try:
        backend = get_provider(provider_key)
    except UnknownProvider as exc:
        raise InvalidNotification("Unknown payment provider.") from exc
    notice = backend.parse_notification(data)
    if notice.status not in Status.values:
        raise InvalidNotification("Unknown status.")
    with transaction.atomic(using=PERSONAL):
        payment = (
            Payment.objects.select_for_update()
            .filter(provider=provider_key, provider_reference=notice.provider_reference)
            .first()
        )
        if payment is None:
            raise InvalidNotification("No such payment.")
        decision = _decide(backend, payment, notice)
        previous = payment.status
        _log(backend, payment, notice, decision)
        if decision.outcome == Outcome.APPLIED:
            _change_status(payment, notice.status)
    if decision.outcome in (Outcome.REJECTED, Outcome.CONFLICT):
        logger.warning("Payment %s: notification refused: %s", payment.pk, decision.detail)
        raise InvalidNotification(decision.detail)
    if decision.outcome == Outcome.APPLIED:
        _announce(payment, previous)
    return payment


def _announce(payment: Payment, previous: str) -> None:
    """Send ``payment_status_changed``. A failing listener must not turn a recorded
    payment into an error for the provider (its retry would be a mere repetition and
    announce nothing): it is logged, and the listener can read ``payment.status``."""
    results = payment_status_changed.send_robust(Payment, payment=payment, previous_status=previous)
    for receiver, result in results:
        if isinstance(result, Exception):
            logger.error("Payment %s: listener %r failed", payment.pk, receiver, exc_info=result)


def _log(
    backend: PaymentProvider, payment: Payment, notice: Notification, decision: _Decision
) -> None:
    raw = {k: v for k, v in notice.raw.items() if k not in backend.redacted_fields}
    PaymentNotification.objects.create(
        payment=payment,
        status=notice.status,
        outcome=decision.outcome,
        detail=decision.detail[:300],
        raw=raw,
    )


def _change_status(payment: Payment, status: str) -> None:
    """Move ``payment`` to a final ``status`` and record it in the ledger (last)."""
    payment.status = status
    if status == Status.PAID:
        payment.paid_at = timezone.now()
    payment.save()
    kind = "payment.paid" if status == Status.PAID else "payment.failed"
    payload = {
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "provider": payment.provider,
        "reference": payment.reference,
        "status": status,
    }
    if payment.user is not None:
        record_receipt(payment.user, kind, payment.object_ref, payload)
    else:
        ledger.record(kind, SYSTEM_ACTOR, payment.object_ref, payload)


def expire_pending(older_than: timedelta) -> list[Payment]:
    """Mark ``expired`` the payments still pending after ``older_than``; each once,
    with its ledger entry and signal. For a scheduled job (``alzette expirepayments``)."""
    limit = timezone.now() - older_than
    expired = []
    for pk in Payment.objects.filter(status=Status.PENDING, created_at__lt=limit).values_list(
        "pk", flat=True
    ):
        with transaction.atomic(using=PERSONAL):
            payment = Payment.objects.select_for_update().get(pk=pk)
            if payment.status != Status.PENDING:
                continue
            _change_status(payment, Status.EXPIRED)
        _announce(payment, Status.PENDING)
        expired.append(payment)
    return expired
