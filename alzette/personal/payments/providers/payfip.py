"""PayFiP (DGFiP), web-service flow: ``creerPaiementSecurise``, then the payer pays on
``paiementws.web?idop=...``, then PayFiP posts ``idop`` to our notification URL and
we ask ``recupererDetailPaiementSecurise`` what happened (docs/payments.md#payfip).

PayFiP's notifications are not signed: the only thing trusted from the request is
the operation id, and the result is read back from the DGFiP's own service over
TLS. That result must then name our client number, our test/production mode, the
``refdet`` and the ``exer`` of a payment of ours, and its exact amount.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.personal.payments.providers import payfip_soap
from alzette.personal.payments.providers.base import (
    InvalidNotification,
    Notification,
    PaymentProvider,
    ProviderError,
)

if TYPE_CHECKING:
    from alzette.personal.payments.models import Payment

#: ALZETTE_PAYFIP_MODE -> the ``saisie`` parameter.
SAISIE = {"test": "T", "activation": "X", "production": "W"}
#: ``resultrans`` -> our status. P/V: paid by card/direct debit; R/Z: refused by
#: card/direct debit; A: abandoned by the payer.
RESULTRANS = {"P": "paid", "V": "paid", "R": "refused", "Z": "refused", "A": "cancelled"}
_IDOP = re.compile(r"[A-Za-z0-9-]{1,64}")
_NUMCLI = re.compile(r"\d{6}")


def objet(label: str) -> str:
    """``objet``: at most 100 characters among A-Z, a-z, 0-9 and the space."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"[^A-Za-z0-9 ]", " ", ascii_text)
    return " ".join(ascii_text.split())[:100]


def exer(payment: Payment) -> str:
    """``exer``: the budget year, the year the payment was asked (local time)."""
    return str(timezone.localtime(payment.created_at).year)


class PayFiPProvider(PaymentProvider):
    key = "payfip"
    label = _("PayFiP (Public Finances)")
    redacted_fields = frozenset({"mel"})

    @property
    def client_number(self) -> str:
        return settings.ALZETTE_PAYFIP_CLIENT_NUMBER

    @property
    def saisie(self) -> str:
        return SAISIE[settings.ALZETTE_PAYFIP_MODE]

    def configuration_problems(self) -> list[str]:
        problems = []
        if not _NUMCLI.fullmatch(self.client_number):
            problems.append(
                "ALZETTE_PAYFIP_CLIENT_NUMBER must be the 6-digit client number of the DGFiP."
            )
        return problems

    def new_reference(self, payment: Payment) -> str:
        # refdet: 6 to 30 letters or digits, unique per client number.
        return payment.pk.hex[:30].upper()

    def creation_parameters(self, payment: Payment, base_url: str) -> dict[str, str]:
        """The arguments of ``creerPaiementSecurise``, in the WSDL's order."""
        if self.configuration_problems():
            raise ProviderError(" ".join(self.configuration_problems()))
        email = payment.user.email if payment.user else ""
        if "@" not in email or not 6 <= len(email) <= 80:
            raise ProviderError("PayFiP needs the payer's e-mail address (6 to 80 characters).")
        base = base_url.rstrip("/")
        return {
            "exer": exer(payment),
            "mel": email,
            "montant": str(payment.amount_cents),
            "numcli": self.client_number,
            "objet": objet(payment.label),
            "refdet": payment.provider_reference,
            "saisie": self.saisie,
            "urlnotif": base + reverse("payments:notify", args=[self.key]),
            "urlredirect": base + reverse("payments:return", args=[payment.pk]),
        }

    def checkout_url(self, payment: Payment, base_url: str) -> str:
        answer = self._call("creerPaiementSecurise", self.creation_parameters(payment, base_url))
        idop = payfip_soap.parse_response(answer, ("idOp",)).get("idOp", "")
        if not _IDOP.fullmatch(idop):
            raise ProviderError("PayFiP did not return an operation id.")
        return settings.ALZETTE_PAYFIP_PAYMENT_URL + "?" + urlencode({"idop": idop})

    def parse_notification(self, data: Mapping[str, str]) -> Notification:
        idop = data.get("idop") or data.get("idOp") or ""
        if not _IDOP.fullmatch(idop):
            raise InvalidNotification("Missing or malformed idop.")
        try:
            answer = self._call("recupererDetailPaiementSecurise", {"idOp": idop})
            details = payfip_soap.parse_response(answer, payfip_soap.DETAIL_FIELDS)
        except payfip_soap.PayFiPFault as exc:
            # P1: unknown operation; P5: not finished. Either way nothing to apply.
            raise InvalidNotification(
                f"PayFiP does not confirm operation {idop} ({exc.code})."
            ) from exc
        except ProviderError as exc:
            raise InvalidNotification("PayFiP could not be asked to confirm.") from exc
        status = RESULTRANS.get(details.get("resultrans", ""))
        if status is None or not details.get("montant", "").isdigit():
            raise InvalidNotification("Unexpected PayFiP result.")
        raw = {**details, "idOp": idop}
        return Notification(status, details.get("refdet", ""), raw, int(details["montant"]))

    def verify(self, payment: Payment, notification: Notification) -> None:
        raw = notification.raw
        expected = {"numcli": self.client_number, "saisie": self.saisie, "exer": exer(payment)}
        for name, value in expected.items():
            if raw.get(name) != value:
                raise InvalidNotification(f"{name} does not match.")

    def _call(self, operation: str, fields: Mapping[str, str]) -> bytes:
        return payfip_soap.call(
            settings.ALZETTE_PAYFIP_SERVICE_URL,
            operation,
            fields,
            settings.ALZETTE_PAYFIP_TIMEOUT,
        )
