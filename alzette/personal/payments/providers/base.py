"""The base class every payment provider derives from, and what it exchanges.

A provider knows three things about its payment service:

- where the payer's browser goes to pay (``checkout_url``);
- how to read a notification the service sends to ``/payments/notify/<key>/``
  (``parse_notification``), refusing anything it cannot trust;
- which details of a trusted notification must match the payment it names
  (``verify``), beyond the amount, which the platform always checks.

Providers hold no state and write nothing: ``alzette.personal.payments.services``
owns the ``Payment`` rows, the idempotency, the ledger and the signal. A provider
is instantiated per call with its registry key (``PaymentProvider(key)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alzette.personal.payments.models import Payment


class InvalidNotification(Exception):
    """A notification that must not be applied: forged, malformed, or not matching
    its payment. The message is short and safe to send back to the provider."""


class ProviderError(Exception):
    """The payment service could not be reached or refused a request."""


@dataclass(frozen=True)
class Notification:
    """What a provider says happened to a payment.

    ``status`` is one of ``payments.models.Status`` (``pending`` when the service
    says the payment is still in progress); ``provider_reference`` names the
    payment (``Payment.provider_reference``); ``amount_cents`` is the amount the
    service says it took, when it says so; ``raw`` is what it sent, kept in the
    notification log.
    """

    status: str
    provider_reference: str
    raw: Mapping[str, Any] = field(default_factory=dict)
    amount_cents: int | None = None


class PaymentProvider:
    """Base class of payment providers. Subclasses set ``key`` and ``label`` and
    implement ``checkout_url`` and ``parse_notification``."""

    #: The registry key it is usually registered under (``ALZETTE_PAYMENT_PROVIDERS``).
    key: str = ""
    #: Its name, as shown to payers and agents (a lazy translated string).
    label: Any = ""
    #: Fields of a notification never kept in the log (personal data).
    redacted_fields: frozenset[str] = frozenset()

    def __init__(self, key: str | None = None) -> None:
        self.key = key or self.key

    def new_reference(self, payment: Payment) -> str:
        """The ``provider_reference`` of a new payment (unique for this provider);
        notifications name the payment by it. Override for a service's own format."""
        return payment.pk.hex

    def checkout_url(self, payment: Payment, base_url: str) -> str:
        """Where the payer's browser goes to pay ``payment``.

        ``base_url`` is the platform's origin as the payer reached it (for example
        ``https://alzette.example.org``): build the notification and return URLs on
        it. May call the payment service; raise ``ProviderError`` if it fails.
        """
        raise NotImplementedError

    def parse_notification(self, data: Mapping[str, str]) -> Notification:
        """Read a notification (the form fields the service posted). Raise
        ``InvalidNotification`` for anything forged, malformed or unverifiable."""
        raise NotImplementedError

    def verify(self, payment: Payment, notification: Notification) -> None:
        """Check what the notification says against ``payment`` (beyond the amount,
        which the platform checks); raise ``InvalidNotification`` on a mismatch."""

    def configuration_problems(self) -> list[str]:
        """What is missing for this provider to work (empty when ready)."""
        return []
