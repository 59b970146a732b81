"""The payments domain: creation, notifications (success, refusal, cancellation,
repetition, contradiction, forgery), expiry, the registry and my data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.personal.mydata import services as mydata
from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.payments import services
from alzette.personal.payments.models import Outcome, Payment, PaymentNotification, Status
from alzette.personal.payments.providers.base import (
    InvalidNotification,
    Notification,
    PaymentProvider,
)
from alzette.personal.payments.providers.simulator import SimulatorProvider, sign
from alzette.personal.payments.registry import UnknownProvider, get_provider
from alzette.personal.payments.signals import payment_status_changed
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def changes():
    """Every payment_status_changed sent during the test: (payment id, previous, new)."""
    sent = []

    def listener(sender, payment, previous_status, **kwargs):
        sent.append((payment.pk, previous_status, payment.status))

    payment_status_changed.connect(listener, dispatch_uid="test-payments")
    yield sent
    payment_status_changed.disconnect(dispatch_uid="test-payments")


def _payment(user, amount_cents=4250, **fields) -> Payment:
    return services.create_payment(
        user,
        amount_cents,
        fields.pop("label", "Cantine scolaire, septembre"),
        fields.pop("reference", "dossier:0f3c6a1e-5b2d-4c61-9a3b-7d2e8f1a4b6c"),
        fields.pop("return_url", "/dashboard/"),
        **fields,
    )


def _notify(payment, choice):
    return SimulatorProvider().notification_data(payment, choice)


# --- Creation ---------------------------------------------------------------------


def test_create_payment_uses_the_configured_provider(citizen, settings):
    settings.ALZETTE_PAYMENT_PROVIDER = "simulator"
    payment = _payment(citizen)
    assert payment.provider == "simulator"
    assert payment.status == Status.PENDING
    assert payment.currency == "EUR"
    assert payment.provider_reference == f"SIM{payment.pk.hex}"
    assert payment.reference == "dossier:0f3c6a1e-5b2d-4c61-9a3b-7d2e8f1a4b6c"
    assert payment.paid_at is None


def test_without_a_configured_provider_nothing_is_created(citizen, settings):
    settings.ALZETTE_PAYMENT_PROVIDER = ""
    with pytest.raises(ImproperlyConfigured, match="ALZETTE_PAYMENT_PROVIDER"):
        _payment(citizen)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"amount_cents": 0},
        {"amount_cents": -100},
        {"amount_cents": True},
        {"amount_cents": 12.5},
        {"label": "x" * 101},
        {"label": "   "},
        {"return_url": "https://evil.example.com/"},
        {"return_url": "//evil.example.com/"},
    ],
)
def test_create_payment_refuses_bad_input(citizen, fields):
    with pytest.raises(ValidationError):
        _payment(citizen, **fields)
    assert not Payment.objects.exists()


def test_create_payment_needs_a_payer():
    with pytest.raises(ValidationError, match="payer"):
        _payment(None)
    assert not Payment.objects.exists()


def test_create_payment_refuses_an_unknown_provider(citizen):
    with pytest.raises(UnknownProvider):
        _payment(citizen, provider="paypal")
    assert not Payment.objects.exists()


def test_checkout_url_of_the_simulator(citizen):
    payment = _payment(citizen)
    url = services.checkout_url(payment, "https://alzette.example.org/")
    assert url == f"https://alzette.example.org/payments/simulator/{payment.pk}/"


# --- Notifications ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "status", "kind"),
    [
        ("pay", Status.PAID, "payment.paid"),
        ("refuse", Status.REFUSED, "payment.failed"),
        ("cancel", Status.CANCELLED, "payment.failed"),
    ],
)
def test_a_notification_changes_the_status_once(citizen, changes, choice, status, kind):
    payment = _payment(citizen)
    entries = LedgerEntry.objects.count()

    result = services.apply_notification("simulator", _notify(payment, choice))

    payment.refresh_from_db()
    assert result.pk == payment.pk
    assert payment.status == status
    assert (payment.paid_at is not None) == (status == Status.PAID)
    assert changes == [(payment.pk, Status.PENDING, status)]
    receipt = StoredReceipt.objects.get(user=citizen)
    assert (receipt.kind, receipt.object_ref) == (kind, f"payment:{payment.pk}")
    assert receipt.payload["amount_cents"] == 4250
    assert receipt.payload["status"] == status
    assert LedgerEntry.objects.count() == entries + 1
    log = PaymentNotification.objects.get(payment=payment)
    assert (log.status, log.outcome) == (status, Outcome.APPLIED)


def test_a_repeated_notification_changes_nothing(citizen, changes):
    payment = _payment(citizen)
    data = _notify(payment, "pay")
    services.apply_notification("simulator", data)
    paid_at = Payment.objects.get(pk=payment.pk).paid_at

    services.apply_notification("simulator", data)

    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert payment.paid_at == paid_at
    assert len(changes) == 1
    assert StoredReceipt.objects.filter(user=citizen).count() == 1
    outcomes = list(payment.notifications.values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]


def test_a_paid_payment_never_becomes_refused(citizen, changes):
    payment = _payment(citizen)
    services.apply_notification("simulator", _notify(payment, "pay"))

    with pytest.raises(InvalidNotification, match="already paid"):
        services.apply_notification("simulator", _notify(payment, "refuse"))

    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert len(changes) == 1
    assert StoredReceipt.objects.filter(user=citizen).count() == 1
    last = payment.notifications.last()
    assert (last.status, last.outcome) == (Status.REFUSED, Outcome.CONFLICT)


def _unchanged(payment, entries):
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert payment.paid_at is None
    assert not StoredReceipt.objects.exists()
    assert LedgerEntry.objects.count() == entries


@pytest.mark.parametrize(
    "tamper",
    [
        {"signature": "0" * 64},
        {"status": "paid", "signature": ""},
        {"amount": "1"},  # the signature no longer matches
        {"status": "refunded"},
        {"amount": "12,50"},
        {"reference": ""},
    ],
)
def test_a_forged_notification_is_refused_with_nothing_changed(citizen, changes, tamper):
    payment = _payment(citizen)
    entries = LedgerEntry.objects.count()
    data = {**_notify(payment, "refuse"), **tamper}
    if "status" in tamper and tamper["status"] == "paid":
        data["status"] = "paid"  # a refusal turned into a payment, signature left behind

    with pytest.raises(InvalidNotification):
        services.apply_notification("simulator", data)

    _unchanged(payment, entries)
    assert changes == []
    assert not PaymentNotification.objects.exists()


def test_a_notification_with_another_amount_is_refused_and_logged(citizen, changes):
    payment = _payment(citizen)
    entries = LedgerEntry.objects.count()
    # Correctly signed, but for 1 cent: the provider took another amount.
    data = {
        "reference": payment.provider_reference,
        "status": "paid",
        "amount": "1",
        "signature": sign(payment.provider_reference, "paid", 1),
    }

    with pytest.raises(InvalidNotification, match="amount"):
        services.apply_notification("simulator", data)

    _unchanged(payment, entries)
    assert changes == []
    log = payment.notifications.get()
    assert log.outcome == Outcome.REJECTED


class WaitingProvider(PaymentProvider):
    """A service that says "still in progress" (as some do before the final answer)."""

    def checkout_url(self, payment, base_url):
        return base_url

    def parse_notification(self, data):
        return Notification(data["status"], data["reference"], dict(data))


def test_a_waiting_notification_changes_nothing(citizen, settings, changes):
    settings.ALZETTE_PAYMENT_PROVIDERS = {"slow": "tests.test_payments_services.WaitingProvider"}
    payment = _payment(citizen, provider="slow")
    data = {"reference": payment.provider_reference, "status": "pending"}

    services.apply_notification("slow", data)
    services.apply_notification("slow", {**data, "status": "paid"})

    with pytest.raises(InvalidNotification, match="already paid"):
        services.apply_notification("slow", data)  # "in progress" after the payment

    payment.refresh_from_db()
    assert payment.status == Status.PAID
    outcomes = list(payment.notifications.values_list("outcome", flat=True))
    assert outcomes == [Outcome.WAITING, Outcome.APPLIED, Outcome.CONFLICT]
    assert changes == [(payment.pk, Status.PENDING, Status.PAID)]


def test_a_provider_cannot_invent_a_status(citizen, settings):
    settings.ALZETTE_PAYMENT_PROVIDERS = {"slow": "tests.test_payments_services.WaitingProvider"}
    payment = _payment(citizen, provider="slow")
    with pytest.raises(InvalidNotification, match="Unknown status"):
        services.apply_notification(
            "slow", {"reference": payment.provider_reference, "status": "refunded"}
        )
    payment.refresh_from_db()
    assert payment.status == Status.PENDING
    assert not payment.notifications.exists()


def test_a_payment_whose_payer_is_gone_is_recorded_by_the_platform(citizen):
    payment = _payment(citizen)
    Payment.objects.filter(pk=payment.pk).update(user=None)  # e.g. deleted in the admin

    services.apply_notification("simulator", _notify(payment, "pay"))

    entry = LedgerEntry.objects.order_by("-index").first()
    assert (entry.kind, entry.actor, entry.object) == (
        "payment.paid",
        "system:payments",
        f"payment:{payment.pk}",
    )
    assert not StoredReceipt.objects.exists()


def test_a_notification_for_no_payment_is_refused(citizen):
    payment = _payment(citizen)
    data = _notify(payment, "pay")
    Payment.objects.filter(pk=payment.pk).update(provider_reference="SIMother")
    with pytest.raises(InvalidNotification, match="No such payment"):
        services.apply_notification("simulator", data)


def test_a_notification_names_a_payment_of_its_own_provider_only(citizen, settings):
    settings.ALZETTE_PAYMENT_PROVIDERS = {
        **settings.ALZETTE_PAYMENT_PROVIDERS,
        "other": "alzette.personal.payments.providers.simulator.SimulatorProvider",
    }
    payment = _payment(citizen)
    with pytest.raises(InvalidNotification, match="No such payment"):
        services.apply_notification("other", _notify(payment, "pay"))
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_an_unknown_provider_notification_is_refused():
    with pytest.raises(InvalidNotification, match="Unknown payment provider"):
        services.apply_notification("paypal", {"status": "paid"})


def test_checkout_refuses_a_final_payment(citizen):
    payment = _payment(citizen)
    services.apply_notification("simulator", _notify(payment, "cancel"))
    payment.refresh_from_db()
    with pytest.raises(ValidationError):
        services.checkout_url(payment, "https://alzette.example.org")


# --- Expiry -------------------------------------------------------------------------


def test_expire_pending_expires_old_pending_payments_once(citizen, changes):
    old, recent, paid = _payment(citizen), _payment(citizen), _payment(citizen)
    services.apply_notification("simulator", _notify(paid, "pay"))
    long_ago = timezone.now() - timedelta(days=2)
    Payment.objects.filter(pk__in=[old.pk, paid.pk]).update(created_at=long_ago)
    changes.clear()

    expired = services.expire_pending(timedelta(hours=24))
    again = services.expire_pending(timedelta(hours=24))

    assert [p.pk for p in expired] == [old.pk]
    assert again == []
    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert statuses == {old.pk: Status.EXPIRED, recent.pk: Status.PENDING, paid.pk: Status.PAID}
    assert changes == [(old.pk, Status.PENDING, Status.EXPIRED)]
    assert StoredReceipt.objects.filter(kind="payment.failed", object_ref=old.object_ref).exists()


# --- Registry -----------------------------------------------------------------------


class NotAProvider:
    pass


class EchoProvider(PaymentProvider):
    key = "echo"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("alzette.personal.payments.providers.nowhere.Provider", "cannot import"),
        ("alzette.personal.payments.providers.simulator.Nothing", "cannot import"),
        ("tests.test_payments_services.NotAProvider", "not a PaymentProvider subclass"),
        ("tests.test_payments_services.sign", "not a PaymentProvider subclass"),
    ],
)
def test_a_bad_dotted_path_is_improperly_configured(settings, path, message):
    settings.ALZETTE_PAYMENT_PROVIDERS = {"broken": path}
    with pytest.raises(ImproperlyConfigured, match=message):
        get_provider("broken")


def test_a_provider_is_found_by_its_key(settings):
    settings.ALZETTE_PAYMENT_PROVIDERS = {"mine": "tests.test_payments_services.EchoProvider"}
    provider = get_provider("mine")
    assert isinstance(provider, EchoProvider)
    assert provider.key == "mine"
    with pytest.raises(UnknownProvider):
        get_provider("echo")


def test_the_simulator_refuses_production(settings, citizen):
    payment = _payment(citizen)
    settings.ALZETTE_MODE = "production"
    with pytest.raises(ImproperlyConfigured, match="never runs in production"):
        get_provider("simulator")
    with pytest.raises(ImproperlyConfigured):
        services.apply_notification("simulator", _notify(payment, "pay"))
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


# --- My data and erasure ------------------------------------------------------------


def test_my_data_lists_the_persons_payments_only(citizen, partner):
    _payment(citizen, amount_cents=1250, label="Stationnement résidentiel")
    _payment(partner)
    rows = mydata.collect(citizen)["payments"]
    assert len(rows) == 1
    assert rows[0]["label"] == "Stationnement résidentiel"
    row = rows[0]
    assert (row["amount"], row["currency"], row["status"]) == ("12.50", "EUR", "pending")


def test_a_pending_payment_holds_the_erasure(citizen):
    _payment(citizen)
    with pytest.raises(mydata.ErasureRefused):
        mydata.erase_account(citizen)
    assert Payment.objects.filter(user=citizen).exists()


def test_a_payment_outlives_the_account_without_its_link(citizen):
    payment = _payment(citizen)
    services.apply_notification("simulator", _notify(payment, "pay"))

    mydata.erase_account(citizen)

    payment.refresh_from_db()
    assert payment.user is None
    assert (payment.status, payment.amount_cents) == (Status.PAID, 4250)
    assert payment.notifications.count() == 1


def test_a_failing_listener_does_not_undo_the_payment(citizen, changes, caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("procedures are down")

    payment_status_changed.connect(broken, dispatch_uid="test-broken")
    try:
        payment = _payment(citizen)
        services.apply_notification("simulator", _notify(payment, "pay"))
    finally:
        payment_status_changed.disconnect(dispatch_uid="test-broken")

    payment.refresh_from_db()
    assert payment.status == Status.PAID
    assert changes == [(payment.pk, Status.PENDING, Status.PAID)]
    assert "procedures are down" in caplog.text


def test_the_expirepayments_command(citizen):
    from io import StringIO

    from django.core.management import call_command

    old = _payment(citizen)
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=3))
    out = StringIO()
    call_command("expirepayments", "--hours", "2", stdout=out)
    assert out.getvalue().strip() == "1 payment(s) expired."
    old.refresh_from_db()
    assert old.status == Status.EXPIRED
