"""The PayFiP connector, web-service flow, against a stand-in for the DGFiP's SOAP
service: every parameter as documented, and notifications checked against the
operation's details read back from the service."""

from __future__ import annotations

import io
import urllib.error
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.payments import services
from alzette.personal.payments.models import Outcome, Payment, Status
from alzette.personal.payments.providers import payfip_soap
from alzette.personal.payments.providers.base import ProviderError
from alzette.personal.payments.providers.payfip import PayFiPProvider, objet
from tests.conftest import ALL_DATABASES, run_alzette
from tests.test_settings_production import PRODUCTION

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

SERVICE_URL = "https://www.payfip.gouv.fr/tpa/services/securite"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
IDOP = "4b0eb5b0-b335-11e2-9219-001fe256bdfe"
CREATED = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<ns:creerPaiementSecuriseResponse xmlns:ns="{ns}"><return>
<idOp xmlns="http://securite.service.tpa.cp.finances.gouv.fr/reponse">{idop}</idOp>
</return></ns:creerPaiementSecuriseResponse></soapenv:Body></soapenv:Envelope>"""
FAULT = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<soapenv:Fault><faultcode>soapenv:Server</faultcode>
<faultstring>fr.gouv.finances.cp.tpa.webservice.exceptions.FonctionnelleErreur</faultstring>
<detail><ns2:FonctionnelleErreur xmlns:ns2="http://securite.service.tpa.cp.finances.gouv.fr/reponse">
<code>{code}</code><descriptif/><libelle>{libelle}</libelle><severite>2</severite>
</ns2:FonctionnelleErreur></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""


class FakePayFiP:
    """Answers the two operations like the DGFiP's service; records every request."""

    def __init__(self):
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.details: dict[str, str] = {}
        self.fault: tuple[str, str] | None = None

    def urlopen(self, request, timeout):
        body = ET.fromstring(request.data)
        operation = body.find(f"{{{SOAP}}}Body")[0]
        fields = {child.tag: child.text or "" for child in operation.find("arg0")}
        self.requests.append((request.full_url, dict(request.header_items()), fields))
        assert timeout == 10
        if self.fault:
            code, libelle = self.fault
            xml = FAULT.format(code=code, libelle=libelle).encode()
            raise urllib.error.HTTPError(request.full_url, 500, "Error", {}, io.BytesIO(xml))
        if operation.tag == f"{{{payfip_soap.SERVICE_NS}}}creerPaiementSecurise":
            return io.BytesIO(CREATED.format(ns=payfip_soap.SERVICE_NS, idop=IDOP).encode())
        assert operation.tag == f"{{{payfip_soap.SERVICE_NS}}}recupererDetailPaiementSecurise"
        items = "".join(f"<r:{k}>{v}</r:{k}>" for k, v in self.details.items())
        xml = (
            f'<e:Envelope xmlns:e="{SOAP}"><e:Body><ns:recupererDetailPaiementSecuriseResponse'
            f' xmlns:ns="{payfip_soap.SERVICE_NS}"><return xmlns:r="http://securite.service.tpa'
            f'.cp.finances.gouv.fr/reponse">{items}</return>'
            "</ns:recupererDetailPaiementSecuriseResponse></e:Body></e:Envelope>"
        )
        return io.BytesIO(xml.encode())


@pytest.fixture
def payfip(monkeypatch, settings):
    settings.ALZETTE_PAYFIP_CLIENT_NUMBER = "012345"
    settings.ALZETTE_PAYFIP_MODE = "test"
    fake = FakePayFiP()
    monkeypatch.setattr(payfip_soap.urllib.request, "urlopen", fake.urlopen)
    return fake


@pytest.fixture
def payment(citizen):
    return services.create_payment(
        citizen,
        4250,
        "Cantine scolaire : Élise, septembre",
        "dossier:0f3c6a1e-5b2d-4c61-9a3b-7d2e8f1a4b6c",
        "/dashboard/",
        provider="payfip",
    )


def _details(payment, **changes) -> dict[str, str]:
    year = str(timezone.localtime(payment.created_at).year)
    return {
        "dattrans": "28112026",
        "exer": year,
        "heurtrans": "1842",
        "idOp": IDOP,
        "mel": "camille.citoyenne@example.org",
        "montant": "4250",
        "numauto": "123456",
        "numcli": "012345",
        "objet": "Cantine scolaire Elise septembre",
        "refdet": payment.provider_reference,
        "resultrans": "P",
        "saisie": "T",
        **changes,
    }


def test_refdet_is_6_to_30_letters_or_digits(payment):
    assert len(payment.provider_reference) == 30
    assert payment.provider_reference.isalnum() and payment.provider_reference.isascii()
    assert payment.provider_reference == payment.pk.hex[:30].upper()


def test_checkout_creates_the_operation_with_every_documented_parameter(payfip, payment):
    url = services.checkout_url(payment, "https://alzette.example.org/")

    assert url == f"https://www.payfip.gouv.fr/tpa/paiementws.web?idop={IDOP}"
    [(service, headers, fields)] = payfip.requests
    assert service == SERVICE_URL
    assert headers["Content-type"] == "text/xml; charset=utf-8"
    assert headers["Soapaction"] == '""'
    assert list(fields) == list(payfip_soap.CREATE_FIELDS)  # the WSDL's order
    assert fields["exer"] == str(timezone.localtime(payment.created_at).year)
    assert fields["mel"] == "camille.citoyenne@example.org"
    assert fields["montant"] == "4250"  # in cents
    assert fields["numcli"] == "012345"
    assert fields["objet"] == "Cantine scolaire Elise septembre"
    assert fields["refdet"] == payment.provider_reference
    assert fields["saisie"] == "T"
    assert fields["urlnotif"] == "https://alzette.example.org/payments/notify/payfip/"
    assert fields["urlredirect"] == f"https://alzette.example.org/payments/{payment.pk}/return/"


@pytest.mark.parametrize(
    ("mode", "saisie"), [("test", "T"), ("activation", "X"), ("production", "W")]
)
def test_the_mode_gives_saisie(payfip, payment, settings, mode, saisie):
    settings.ALZETTE_PAYFIP_MODE = mode
    services.checkout_url(payment, "https://alzette.example.org")
    assert payfip.requests[0][2]["saisie"] == saisie


def test_objet_keeps_letters_digits_and_spaces_only():
    assert objet("Stationnement résidentiel \u2013 Audun-le-Tiche (2026)") == (
        "Stationnement residentiel Audun le Tiche 2026"
    )
    assert len(objet("é" * 150)) == 100


def test_checkout_without_a_client_number_calls_nothing(payfip, payment, settings):
    settings.ALZETTE_PAYFIP_CLIENT_NUMBER = ""
    with pytest.raises(ProviderError, match="ALZETTE_PAYFIP_CLIENT_NUMBER"):
        services.checkout_url(payment, "https://alzette.example.org")
    assert payfip.requests == []


def test_a_fault_at_creation_is_a_provider_error(payfip, payment):
    payfip.fault = ("R3", "Le format du paramètre REFDET n'est pas conforme")
    with pytest.raises(ProviderError, match="R3"):
        services.checkout_url(payment, "https://alzette.example.org")


def test_the_service_url_must_be_https(payfip, payment, settings):
    settings.ALZETTE_PAYFIP_SERVICE_URL = "http://www.payfip.gouv.fr/tpa/services/securite"
    with pytest.raises(ProviderError, match="https"):
        services.checkout_url(payment, "https://alzette.example.org")
    assert payfip.requests == []


# --- Notifications --------------------------------------------------------------------


def _post(idop=IDOP):
    return Client().post("/payments/notify/payfip/", {"idop": idop})


@pytest.mark.parametrize(
    ("resultrans", "status"),
    [
        ("P", Status.PAID),
        ("V", Status.PAID),
        ("R", Status.REFUSED),
        ("Z", Status.REFUSED),
        ("A", Status.CANCELLED),
    ],
)
def test_a_notification_is_confirmed_with_the_service(payfip, payment, resultrans, status):
    payfip.details = _details(payment, resultrans=resultrans)

    response = _post()

    assert response.status_code == 200, response.content
    [(service, _headers, fields)] = payfip.requests
    assert (service, fields) == (SERVICE_URL, {"idOp": IDOP})
    payment.refresh_from_db()
    assert payment.status == status
    log = payment.notifications.get()
    assert log.outcome == Outcome.APPLIED
    assert log.raw["idOp"] == IDOP and log.raw["numauto"] == "123456"
    assert "mel" not in log.raw  # the payer's address is not copied into the log


def test_a_repeated_payfip_notification_changes_nothing(payfip, payment):
    payfip.details = _details(payment)
    assert _post().status_code == 200
    assert _post().status_code == 200
    assert StoredReceipt.objects.filter(kind="payment.paid").count() == 1
    outcomes = list(payment.notifications.values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]


@pytest.mark.parametrize(
    "changes",
    [
        {"numcli": "999999"},
        {"montant": "425"},
        {"saisie": "W"},
        {"exer": "1999"},
    ],
)
def test_a_mismatched_operation_is_refused_and_logged(payfip, payment, changes):
    payfip.details = _details(payment, **changes)
    entries = LedgerEntry.objects.count()

    response = _post()

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert LedgerEntry.objects.count() == entries
    assert payment.notifications.get().outcome == Outcome.REJECTED


@pytest.mark.parametrize(
    "changes", [{"refdet": "ABCDEF123456"}, {"resultrans": "X"}, {"montant": ""}]
)
def test_an_operation_that_is_not_ours_is_refused(payfip, payment, changes):
    payfip.details = _details(payment, **changes)
    assert _post().status_code == 400
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert not payment.notifications.exists()


@pytest.mark.parametrize("code", ["P1", "P5"])
def test_an_unconfirmed_operation_is_refused(payfip, payment, code):
    payfip.fault = (code, "Transaction non trouvée")
    response = _post()
    assert response.status_code == 400
    assert code.encode() in response.content
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


@pytest.mark.parametrize("idop", ["", "a b", "x" * 65, "<script>"])
def test_a_malformed_idop_asks_nothing(payfip, payment, idop):
    assert _post(idop).status_code == 400
    assert payfip.requests == []


def test_an_unreachable_service_confirms_nothing(payment, settings, monkeypatch):
    settings.ALZETTE_PAYFIP_CLIENT_NUMBER = "012345"

    def unreachable(request, timeout):
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(payfip_soap.urllib.request, "urlopen", unreachable)
    assert _post().status_code == 400
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_the_provider_reports_its_configuration(settings):
    settings.ALZETTE_PAYFIP_CLIENT_NUMBER = "12345"
    assert PayFiPProvider().configuration_problems()
    settings.ALZETTE_PAYFIP_CLIENT_NUMBER = "012345"
    assert PayFiPProvider().configuration_problems() == []


def test_exer_follows_the_local_year_of_the_request(payfip, payment):
    # 23:30 UTC on New Year's Eve is already the next year in Europe/Paris.
    Payment.objects.filter(pk=payment.pk).update(
        created_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    )
    payment.refresh_from_db()
    assert PayFiPProvider().creation_parameters(payment, "https://a.example")["exer"] == "2027"


# --- Production ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALZETTE_PAYMENT_PROVIDER": "payfip"}, "ALZETTE_PAYFIP_CLIENT_NUMBER must be"),
        (
            {"ALZETTE_PAYMENT_PROVIDER": "payfip", "ALZETTE_PAYFIP_CLIENT_NUMBER": "12AB56"},
            "ALZETTE_PAYFIP_CLIENT_NUMBER must be",
        ),
        ({"ALZETTE_PAYMENT_PROVIDER": "simulator"}, "must not be the payment simulator"),
        ({"ALZETTE_PAYMENT_PROVIDER": "paypal"}, "names no registered provider"),
    ],
)
def test_production_refuses_an_incomplete_payment_configuration(tmp_path, env, message):
    result = run_alzette(tmp_path, "django-check", **{**PRODUCTION, **env})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_accepts_a_configured_payfip(tmp_path):
    env = {
        **PRODUCTION,
        "ALZETTE_PAYMENT_PROVIDER": "payfip",
        "ALZETTE_PAYFIP_CLIENT_NUMBER": "012345",
        "ALZETTE_PAYFIP_MODE": "production",
    }
    result = run_alzette(tmp_path, "django-check", **env)
    assert result.returncode == 0, result.stderr


def test_the_return_page_confirms_a_late_notification(payfip, payment, citizen):
    payfip.details = _details(payment)
    client = Client()
    client.force_login(citizen)

    response = client.post(f"/payments/{payment.pk}/return/", {"idop": IDOP})

    assert response.status_code == 200
    assert 'data-status="paid"' in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert payfip.requests[0][2] == {"idOp": IDOP}


def test_the_return_page_trusts_nothing_the_browser_says(payfip, payment, citizen):
    payfip.details = _details(payment, montant="1")
    client = Client()
    client.force_login(citizen)

    response = client.get(f"/payments/{payment.pk}/return/", {"idop": IDOP, "resultrans": "P"})

    assert response.status_code == 200
    assert 'data-status="pending"' in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
