"""The two operations of PayFiP's web service ``PaiementSecuriseService`` (SOAP 1.1).

- ``creerPaiementSecurise(arg0: exer, mel, montant, numcli, objet, refdet, saisie,
  urlnotif, urlredirect)`` returns ``idOp``, the operation the payer is sent to
  (``paiementws.web?idop=...``); an ``idOp`` is valid for 15 minutes.
- ``recupererDetailPaiementSecurise(arg0: idOp)`` returns the operation's result:
  ``dattrans``, ``exer``, ``heurtrans``, ``idOp``, ``mel``, ``montant``,
  ``numauto``, ``numcli``, ``objet``, ``refdet``, ``resultrans``, ``saisie``.

Errors come back as SOAP faults whose detail is a ``FonctionnelleErreur`` with a
``code`` (``P1``: unknown operation, ``P5``: not finished yet...). Plain
``urllib`` and ``ElementTree``: no SOAP library for two fixed operations.
"""

from __future__ import annotations

import urllib.error
import urllib.request

# The answers come from the DGFiP over TLS; expat >= 2.4.1 refuses entity
# expansion bombs and ElementTree never fetches external entities.
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from alzette.personal.payments.providers.base import ProviderError

SERVICE_NS = (
    "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
    "contrat_paiement_securise/PaiementSecuriseService"
)
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
#: The order of the WSDL's sequences.
CREATE_FIELDS = (
    "exer",
    "mel",
    "montant",
    "numcli",
    "objet",
    "refdet",
    "saisie",
    "urlnotif",
    "urlredirect",
)
DETAIL_FIELDS = (
    "dattrans",
    "exer",
    "heurtrans",
    "idOp",
    "mel",
    "montant",
    "numauto",
    "numcli",
    "objet",
    "refdet",
    "resultrans",
    "saisie",
)


class PayFiPFault(ProviderError):
    """A functional error of the service (``FonctionnelleErreur``), with its code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"PayFiP error {code}: {message}")
        self.code = code


def envelope(operation: str, fields: Mapping[str, str]) -> bytes:
    """The SOAP request: ``<pai:operation><arg0><field>value</field>...</arg0>``."""
    ET.register_namespace("soapenv", SOAP_NS)
    ET.register_namespace("pai", SERVICE_NS)
    root = ET.Element(f"{{{SOAP_NS}}}Envelope")
    ET.SubElement(root, f"{{{SOAP_NS}}}Header")
    body = ET.SubElement(root, f"{{{SOAP_NS}}}Body")
    arg0 = ET.SubElement(ET.SubElement(body, f"{{{SERVICE_NS}}}{operation}"), "arg0")
    for name, value in fields.items():
        ET.SubElement(arg0, name).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: ET.Element, name: str) -> str:
    found = next((e for e in element.iter() if _local(e.tag) == name), None)
    return (found.text or "").strip() if found is not None else ""


def parse_response(xml: bytes, wanted: tuple[str, ...]) -> dict[str, str]:
    """The ``wanted`` fields of a response's ``return`` element; ``PayFiPFault`` on a fault."""
    try:
        root = ET.fromstring(xml)  # noqa: S314  (see the import)
    except ET.ParseError as exc:
        raise ProviderError("PayFiP answered something that is not XML.") from exc
    fault = next((e for e in root.iter() if _local(e.tag) == "Fault"), None)
    if fault is not None:
        message = (
            _text(fault, "libelle") or _text(fault, "descriptif") or _text(fault, "faultstring")
        )
        raise PayFiPFault(_text(fault, "code") or "unknown", message)
    return {_local(e.tag): (e.text or "").strip() for e in root.iter() if _local(e.tag) in wanted}


def call(url: str, operation: str, fields: Mapping[str, str], timeout: float) -> bytes:
    """POST the operation to the service and return the raw answer (faults included)."""
    if not url.startswith("https://"):
        raise ProviderError("The PayFiP service URL must use https.")
    request = urllib.request.Request(  # noqa: S310  (https only, checked above)
        url,
        data=envelope(operation, fields),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        # SOAP 1.1 faults come with status 500: their body says what went wrong.
        return exc.read(1_000_000)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProviderError(f"PayFiP is unreachable: {exc}") from exc
