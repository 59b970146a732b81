"""The payment simulator in a real browser, on a phone: pay, come back to the
return page, both pages WCAG 2.1 AA (axe-core) and no horizontal scrolling."""

from __future__ import annotations

import pytest

from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.payments import services
from alzette.personal.payments.models import Outcome, Status
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

PHONE = {"viewport": (375, 740)}


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_pay_twice_notified_on_a_phone(page, live_server, axe, citizen):
    payment = services.create_payment(
        citizen, 3600, "Cantine scolaire, octobre", "dossier:7", "/my-data/"
    )
    url = services.checkout_url(payment, live_server.url)
    log_in(page, live_server, citizen, url.removeprefix(live_server.url))

    assert page.get_attribute("html", "lang") == "fr"
    assert "36,00 €" in page.inner_text("main")
    assert wcag_violations(axe, page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.check("#payment-twice")
    with page.expect_navigation(url=f"{live_server.url}/payments/{payment.pk}/return/"):
        page.click("main button[value=pay]")

    assert page.locator("[role=status]").get_attribute("data-status") == "paid"
    assert wcag_violations(axe, page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    payment.refresh_from_db()
    assert payment.status == Status.PAID
    outcomes = list(payment.notifications.values_list("outcome", flat=True))
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert StoredReceipt.objects.filter(user=citizen, kind="payment.paid").count() == 1

    with page.expect_navigation(url=f"{live_server.url}/my-data/"):
        page.click("main a.payment-continue")
