"""Payment pages: the notification endpoint, the return page and the simulator, with
good input, bad input and the wrong person."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.payments import services
from alzette.personal.payments.models import Outcome, Status
from alzette.personal.payments.providers.simulator import SimulatorProvider
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user=None, **options) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def payment(citizen):
    return services.create_payment(
        citizen, 1500, "Permis de stationnement résidentiel", "dossier:42", "/dashboard/"
    )


# --- /payments/notify/<provider>/ ----------------------------------------------------


def test_notify_applies_a_form_encoded_notification_without_csrf(payment):
    data = SimulatorProvider().notification_data(payment, "pay")
    response = _client(enforce_csrf_checks=True).post("/payments/notify/simulator/", data)
    assert response.status_code == 200
    assert response.content == b"OK"
    payment.refresh_from_db()
    assert payment.status == Status.PAID


def test_notify_answers_400_in_plain_text_to_a_forged_notification(payment):
    data = {**SimulatorProvider().notification_data(payment, "pay"), "signature": "f" * 64}
    response = _client().post("/payments/notify/simulator/", data)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == b"Bad signature."
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_notify_accepts_post_only(payment, method):
    assert getattr(_client(), method)("/payments/notify/simulator/").status_code == 405


def test_notify_refuses_an_unknown_provider():
    response = _client().post("/payments/notify/paypal/", {"status": "paid"})
    assert response.status_code == 400


# --- /payments/<uuid>/return/ --------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (None, "waiting for the payment service"),
        ("pay", "your payment has been received"),
        ("refuse", "Your payment was refused"),
        ("cancel", "You cancelled the payment"),
    ],
)
def test_the_payer_sees_the_status_and_the_way_back(citizen, payment, choice, message):
    if choice:
        services.apply_notification(
            "simulator", SimulatorProvider().notification_data(payment, choice)
        )
    response = _client(citizen).get(f"/payments/{payment.pk}/return/", **EN)
    assert response.status_code == 200
    with translation.override("en"):
        assert message in response.content.decode()
    assert 'href="/dashboard/"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_return_page_accepts_the_providers_post(citizen, payment):
    assert _client(citizen).post(f"/payments/{payment.pk}/return/").status_code == 200


@pytest.mark.parametrize("persona", ["partner", "agent_audun"])
def test_nobody_else_sees_the_return_page(request, payment, persona):
    other = request.getfixturevalue(persona)
    assert _client(other).get(f"/payments/{payment.pk}/return/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(payment):
    response = _client().get(f"/payments/{payment.pk}/return/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_payment_is_404(citizen):
    url = "/payments/00000000-0000-4000-8000-000000000000/return/"
    assert _client(citizen).get(url).status_code == 404


# --- /payments/simulator/<uuid>/ -----------------------------------------------------


def test_the_simulator_offers_three_labelled_choices(citizen, payment):
    response = _client(citizen).get(f"/payments/simulator/{payment.pk}/", **EN)
    assert response.status_code == 200
    page = response.content.decode()
    for value, label in [("pay", "Pay"), ("refuse", "Refuse the payment"), ("cancel", "Cancel")]:
        assert f'name="choice" value="{value}">{label}</button>' in page
    assert '<label for="payment-twice">' in page
    assert "15.00 €" in page


@pytest.mark.parametrize(
    ("choice", "status"),
    [("pay", Status.PAID), ("refuse", Status.REFUSED), ("cancel", Status.CANCELLED)],
)
def test_the_simulator_notifies_then_sends_the_payer_back(citizen, payment, choice, status):
    response = _client(citizen).post(f"/payments/simulator/{payment.pk}/", {"choice": choice})
    assert response.status_code == 302
    assert response["Location"] == f"/payments/{payment.pk}/return/"
    payment.refresh_from_db()
    assert payment.status == status
    assert payment.notifications.get().outcome == Outcome.APPLIED


def test_the_simulator_can_send_the_notification_twice(citizen, payment):
    client = _client(citizen)
    client.post(f"/payments/simulator/{payment.pk}/", {"choice": "pay", "twice": "1"})
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    outcomes = list(payment.notifications.values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert StoredReceipt.objects.filter(user=payment.user, kind="payment.paid").count() == 1


def test_the_simulator_refuses_an_unknown_choice(citizen, payment):
    response = _client(citizen).post(f"/payments/simulator/{payment.pk}/", {"choice": "steal"})
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_a_finished_payment_goes_to_its_return_page(citizen, payment):
    client = _client(citizen)
    client.post(f"/payments/simulator/{payment.pk}/", {"choice": "cancel"})
    response = client.post(f"/payments/simulator/{payment.pk}/", {"choice": "pay"})
    assert response["Location"] == f"/payments/{payment.pk}/return/"
    payment.refresh_from_db()
    assert payment.status == Status.CANCELLED


def test_nobody_else_uses_the_simulator_for_the_payer(partner, payment):
    client = _client(partner)
    assert client.get(f"/payments/simulator/{payment.pk}/").status_code == 404
    assert client.post(f"/payments/simulator/{payment.pk}/", {"choice": "pay"}).status_code == 404
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_the_simulator_page_is_404_in_production(citizen, payment, settings):
    settings.ALZETTE_MODE = "production"
    client = _client(citizen)
    assert client.get(f"/payments/simulator/{payment.pk}/").status_code == 404
    assert client.post(f"/payments/simulator/{payment.pk}/", {"choice": "pay"}).status_code == 404
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
