"""Online procedures in a real browser: a citizen through each of the five demo
procedures (conditional fields, repeated block, map point, upload, payment), and an
agent through instruction to a decision. Pages pass axe-core."""

from __future__ import annotations

import pyotp
import pytest

from alzette.personal.procedures.models import Dossier, Status
from tests.browser import log_in, wcag_violations
from tests.conftest import ALL_DATABASES
from tests.factories import PASSWORD
from tests.files_helpers import use_attachments_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=ALL_DATABASES)]

PHONE = {"viewport": (390, 844)}


@pytest.fixture(autouse=True)
def _attachments(settings, tmp_path):
    use_attachments_dir(settings, tmp_path / "attachments")


def fresh_totp(secret: str) -> str:
    """A code that stays valid while the browser submits it: the server accepts
    the current 30 s period only, so near its end wait for the next one."""
    import time

    remaining = 30 - time.time() % 30
    if remaining < 5:
        time.sleep(remaining + 0.1)
    return pyotp.TOTP(secret).now()


def log_in_agent(page, live_server, user, next_path: str) -> None:
    """The login form, then the second factor (agents must have one)."""
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("main input[name=login]", user.email)
    page.fill("main input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("main input[name=password]", "Enter")
    page.fill("main input[name=code]", fresh_totp(user.totp_secret))
    with page.expect_navigation(url=live_server.url + next_path):
        page.press("main input[name=code]", "Enter")


def _start(page, live_server, slug: str) -> None:
    page.goto(f"{live_server.url}/procedures/")
    with page.expect_navigation():
        page.click(f"li[data-slug={slug}] button[type=submit]")


def _identity(page, commune="54580") -> None:
    page.fill("#id-f-given_name", "Camille")
    page.fill("#id-f-family_name", "Martin")
    page.fill("#id-f-address-street", "1 rue de la Gare")
    page.select_option("#id-f-address-commune", commune)


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_creche_on_a_phone_with_conditional_fields(page, live_server, citizen, procedures, axe):
    log_in(page, live_server, citizen, "/procedures/")
    assert wcag_violations(axe, page) == []
    _start(page, live_server, "preinscription-creche")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.is_hidden("#field-f-birthdate") and page.is_hidden("#field-f-expected_date")
    _identity(page)
    page.fill("#id-f-child_name", "Léa")
    page.check("#id-f-born-no")
    assert page.is_visible("#field-f-expected_date") and page.is_hidden("#field-f-birthdate")
    page.check("#id-f-born-yes")
    assert page.is_visible("#field-f-birthdate")
    page.fill("#id-f-birthdate", "2025-03-02")
    page.check("#id-f-days-1")
    page.fill("#id-f-start", "2027-09-01")
    assert wcag_violations(axe, page) == []
    _submit(page)
    assert page.locator("[data-status=submitted]").count() == 1
    assert page.locator("a[href$='receipt.pdf']").count() == 1
    assert wcag_violations(axe, page) == []


def test_a_wrong_answer_is_announced_and_kept(page, live_server, citizen, procedures, axe):
    log_in(page, live_server, citizen, "/procedures/")
    _start(page, live_server, "demande-bac")
    _identity(page)
    page.select_option("#id-f-reason", "broken")
    assert page.is_visible("#field-f-photo")
    _submit(page)  # the size is missing
    assert page.locator("#form-errors").count() == 1
    assert page.get_attribute("#id-f-size", "aria-invalid") == "true"
    assert page.input_value("#id-f-address-street") == "1 rue de la Gare"
    assert wcag_violations(axe, page) == []
    page.select_option("#id-f-size", "240")
    page.set_input_files(
        "#id-f-photo", files=[{"name": "bac.png", "mimeType": "image/png", "buffer": _png()}]
    )
    _submit(page)
    dossier = Dossier.objects.get(user=citizen)
    assert dossier.status == Status.SUBMITTED and len(dossier.answers["photo"]) == 1


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(buffer, format="PNG")
    return buffer.getvalue()


def test_canteen_with_two_children_and_the_fee_paid(page, live_server, citizen, procedures):
    log_in(page, live_server, citizen, "/procedures/")
    _start(page, live_server, "inscription-cantine")
    _identity(page)
    page.fill("#id-f-pupils-0-pupil_name", "Léo Martin")
    page.select_option("#id-f-pupils-0-school", "pasteur")
    page.select_option("#id-f-pupils-0-diet", "standard")
    with page.expect_navigation():
        page.click("button[name=action][value=save]")  # a new empty entry appears
    page.fill("#id-f-pupils-1-pupil_name", "Zoé Martin")
    page.select_option("#id-f-pupils-1-school", "jean-moulin")
    page.select_option("#id-f-pupils-1-diet", "no-meat")
    page.check("#id-f-rules-yes")
    _submit(page)  # then the payment simulator
    assert "/payments/simulator/" in page.url, page.locator("main").inner_text()
    with page.expect_navigation():
        page.click("main button[value=pay]")
    dossier = Dossier.objects.get(user=citizen)
    assert [p["pupil_name"] for p in dossier.answers["pupils"]] == ["Léo Martin", "Zoé Martin"]
    dossier.refresh_from_db()
    assert dossier.payment.status == "paid" and not dossier.awaiting_payment


def test_an_anonymous_dump_report_with_a_map_point(page, live_server, procedures, axe):
    _start(page, live_server, "signalement-depot-sauvage")
    page.wait_for_selector(".pr-map.leaflet-container")
    box = page.locator(".pr-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.input_value("#id-f-where-lat") and page.input_value("#id-f-where-lon")
    page.select_option("#id-f-commune", "57038")
    page.check("#id-f-kind-1")
    assert wcag_violations(axe, page) == []
    _submit(page)
    dossier = Dossier.objects.get(user=None)
    assert dossier.status == Status.SUBMITTED and dossier.commune.code == "57038"
    assert 49.3 < dossier.answers["where"]["lat"] < 49.6


def test_parking_permit_with_a_proof_and_the_fee(page, live_server, citizen, procedures):
    from alzette.personal.files.pdf import Document, Paragraph, render_pdf

    log_in(page, live_server, citizen, "/procedures/")
    _start(page, live_server, "permis-stationnement-resident")
    _identity(page, commune="57038")
    page.fill("#id-f-plate", "AB-123-CD")
    proof = render_pdf(Document(title="Quittance", blocks=[Paragraph("Loyer")]))
    page.set_input_files(
        "#id-f-proof",
        files=[{"name": "quittance.pdf", "mimeType": "application/pdf", "buffer": proof}],
    )
    _submit(page)
    with page.expect_navigation():
        page.click("main button[value=pay]")
    dossier = Dossier.objects.get(user=citizen)
    assert dossier.status == Status.SUBMITTED and dossier.payment.status == "paid"


def test_an_agent_instructs_to_a_decision(
    page, live_server, citizen, procedures, agent_villerupt, axe
):
    from alzette.personal.procedures import services
    from tests.test_procedures import CRECHE

    dossier = services.start(citizen, procedures["preinscription-creche"])
    services.submit(citizen, dossier.pk, CRECHE)
    log_in_agent(page, live_server, agent_villerupt, "/procedures/office/")
    assert page.locator(f"tr[data-reference='{dossier.reference}']").count() == 1
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click(f"tr[data-reference='{dossier.reference}'] a")
    assert wcag_violations(axe, page) == []
    with page.expect_navigation():
        page.click("form:has(input[name=action][value=take]) button")
    page.fill("#note-text", "Fratrie à vérifier")
    with page.expect_navigation():
        page.click("form:has(#note-text) button")
    page.check("#decision-accept")
    page.fill("#decision-text", "Place attribuée aux Tilleuls.")
    with page.expect_navigation():
        page.click("form:has(#decision-text) button")
    assert page.locator("[data-status=accepted]").count() == 1
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.motive == "Place attribuée aux Tilleuls."


def test_an_agent_creates_and_revokes_an_api_token(page, live_server, agent_villerupt, axe):
    from django.test import Client

    log_in_agent(page, live_server, agent_villerupt, "/procedures/office/")
    with page.expect_navigation():
        page.click("main a[href='/procedures/office/tokens/']")
    page.fill("#token-name", "GED de Villerupt")
    page.fill("#token-days", "30")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    token = page.input_value("#new-token")
    assert token.startswith("alz_")
    assert wcag_violations(axe, page) == []
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/procedures/files").status_code == 200

    with page.expect_navigation():
        page.get_by_role("button", name="Révoquer le jeton GED de Villerupt").click()
    assert "révoqué" in page.locator("main").inner_text()
    assert page.locator("#new-token").count() == 0  # shown once only
    assert api.get("/api/v1/procedures/files").status_code == 401
