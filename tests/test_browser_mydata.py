"""The "my data" space in a real browser: export download, erasure, WCAG 2.1 AA."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone

from alzette.ledger import services as ledger
from alzette.ledger.receipts import verify_receipt
from alzette.personal.accounts.models import User
from alzette.personal.mydata import services
from alzette.personal.mydata.models import AccessorKind
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]


def _log_in(page, live_server, user) -> None:
    log_in(page, live_server, user, "/my-data/")


def _verifies(receipt: dict) -> bool:
    return verify_receipt(receipt, ledger.signing_key().public_key) == []


def test_download_the_export_then_erase_the_account(page, live_server, citizen):
    _log_in(page, live_server, citizen)
    assert page.get_attribute("html", "lang") == "fr"

    with page.expect_download() as info:
        page.click("main form[action='/my-data/export/'] button[type=submit]")
    download = info.value
    assert download.suggested_filename == (f"alzette-my-data-{timezone.localdate():%Y-%m-%d}.zip")
    with zipfile.ZipFile(download.path()) as archive:
        data = json.loads(archive.read("data.json"))
        assert data["categories"]["account"][0]["email"] == citizen.email
        assert citizen.email in archive.read("account.csv").decode("utf-8")
        assert _verifies(json.loads(archive.read("receipt.json")))

    # The export left a receipt and a line in the access log.
    page.reload()
    assert page.locator("#category-access_log tbody tr").count() == 1
    with page.expect_download() as info:
        page.click("#category-receipts a[href^='/my-data/receipts/']")
    receipt = json.loads(Path(info.value.path()).read_text())
    assert receipt["entry"]["kind"] == "personal_data.exported"
    assert _verifies(receipt)

    with page.expect_navigation():
        page.click("main a[href='/my-data/erase/']")
    page.fill("main input[name=email]", citizen.email)
    page.fill("main input[name=password]", PASSWORD)
    with page.expect_navigation(url=f"{live_server.url}/my-data/erased/**"):
        page.click("main button.mydata-danger")
    assert not User.objects.filter(pk=citizen.pk).exists()

    with page.expect_download() as info:
        page.click("main a[href$='/receipt.json']")
    erasure = json.loads(Path(info.value.path()).read_text())
    assert erasure["entry"]["kind"] == "personal_data.erased"
    assert erasure["entry"]["actor"] == citizen.pseudonym
    assert _verifies(erasure)

    # Signed out: "my data" now asks to log in.
    page.goto(live_server.url + "/my-data/")
    assert "/accounts/login/" in page.url


def test_a_wrong_password_erases_nothing(page, live_server, citizen):
    _log_in(page, live_server, citizen)
    page.goto(live_server.url + "/my-data/erase/")
    page.fill("main input[name=email]", citizen.email)
    page.fill("main input[name=password]", "not-the-password")
    with page.expect_navigation():
        page.click("main button.mydata-danger")
    assert page.locator("main .errorlist").count() == 1
    assert page.get_attribute("main input[name=password]", "aria-invalid") == "true"
    assert User.objects.filter(pk=citizen.pk).exists()


@pytest.fixture
def history(citizen):
    """Some data in every section: an access by an agent, a receipt."""
    services.log_access(citizen, AccessorKind.AGENT, "Villerupt", "account", "Request RQ-7")
    services.record_receipt(citizen, "personal_data.exported", "personal_data:test", {})
    return citizen


@pytest.mark.parametrize("path", ["/my-data/", "/my-data/erase/"])
@pytest.mark.parametrize("page", [{}, {"viewport": (375, 740)}], indirect=True)
def test_my_data_pages_have_no_wcag_violation(page, live_server, history, axe, path):
    _log_in(page, live_server, history)
    page.goto(live_server.url + path)
    assert wcag_violations(axe, page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_erase_form_errors_and_goodbye_page_are_accessible(page, live_server, citizen, axe):
    _log_in(page, live_server, citizen)
    page.goto(live_server.url + "/my-data/erase/")
    page.fill("main input[name=email]", "someone.else@example.org")
    page.fill("main input[name=password]", "wrong")
    with page.expect_navigation():
        page.click("main button.mydata-danger")
    assert page.locator("main .errorlist").count() == 2
    assert wcag_violations(axe, page) == []

    page.fill("main input[name=email]", citizen.email)
    page.fill("main input[name=password]", PASSWORD)
    with page.expect_navigation(url=f"{live_server.url}/my-data/erased/**"):
        page.click("main button.mydata-danger")
    assert wcag_violations(axe, page) == []
