"""Files uploaded with a procedure, message attachments, receipts and decisions as PDF."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from alzette.personal.procedures import services
from alzette.personal.procedures.models import Dossier, Status
from tests.conftest import ALL_DATABASES
from tests.files_helpers import stored_paths, use_attachments_dir

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PARKING = {
    "f-given_name": "Jean",
    "f-family_name": "Weber",
    "f-address-street": "4 rue Clemenceau",
    "f-address-commune": "57038",
    "f-plate": "AB-123-CD",
}


@pytest.fixture
def storage(settings, tmp_path):
    return use_attachments_dir(settings, tmp_path / "attachments")


def _pdf_upload(name="justificatif.pdf") -> io.BytesIO:
    from alzette.personal.files.pdf import Document, Paragraph, render_pdf

    upload = io.BytesIO(render_pdf(Document(title="Facture", blocks=[Paragraph("EDF")])))
    upload.name = name
    return upload


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _start(client, slug="permis-stationnement-resident") -> str:
    return client.post(f"/procedures/{slug}/start/")["Location"]


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_proof_is_uploaded_kept_and_shown_to_the_instructors_only(
    storage, citizen, procedures, agent_audun, agent_villerupt
):
    client = _client(citizen)
    url = _start(client)
    response = client.post(url, {**PARKING, "f-proof": _pdf_upload(), "action": "submit"})
    assert response.status_code == 302  # then to the fee's checkout
    dossier = Dossier.objects.get(user=citizen)
    assert dossier.status == Status.SUBMITTED and len(dossier.answers["proof"]) == 1
    file_id = dossier.answers["proof"][0]
    download = f"{url}attachments/{file_id}/"
    assert _client(agent_audun).get(download)["Content-Type"] == "application/pdf"
    assert _client(agent_villerupt).get(download).status_code == 404
    assert _client().get(download).status_code == 404
    assert len(stored_paths(storage)) == 1


def test_a_disguised_file_is_refused_and_nothing_is_filed(storage, citizen, procedures):
    client = _client(citizen)
    url = _start(client)
    fake = io.BytesIO(b"<html><script>alert(1)</script></html>")
    fake.name = "justificatif.pdf"
    response = client.post(url, {**PARKING, "f-proof": fake, "action": "submit"}, **EN)
    assert response.status_code == 400
    assert 'id="id-f-proof-error"' in response.content.decode()
    assert Dossier.objects.get(user=citizen).status == Status.DRAFT
    assert stored_paths(storage) == []


def test_someone_else_s_upload_cannot_be_cited(storage, citizen, partner, procedures):
    other = _client(partner)
    other_url = _start(other)
    other.post(other_url, {**PARKING, "f-proof": _pdf_upload(), "action": "save"})
    foreign = Dossier.objects.get(user=partner).answers["__uploads__"][0]
    client = _client(citizen)
    url = _start(client)
    response = client.post(url, {**PARKING, "f-proof-keep": foreign, "action": "submit"})
    assert response.status_code == 400
    assert Dossier.objects.get(user=citizen).status == Status.DRAFT


def test_messages_carry_attachments(storage, citizen, procedures, agent_audun):
    client = _client(citizen)
    url = _start(client)
    client.post(url, {**PARKING, "f-proof": _pdf_upload(), "action": "submit"})
    dossier = Dossier.objects.get(user=citizen)
    picture = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(picture, format="PNG")
    picture.name = "photo.png"
    picture.seek(0)
    _client(agent_audun).post(
        f"/procedures/files/{dossier.pk}/message/",
        {"message": "Voici le formulaire", "attachment": [picture]},
    )
    event = dossier.events.get(kind="message")
    assert len(event.attachments) == 1
    page = client.get(url, **EN).content.decode()
    assert f"attachments/{event.attachments[0]}/" in page
    assert client.get(f"{url}attachments/{event.attachments[0]}/")["Content-Type"] == "image/png"


def test_receipt_and_decision_are_pdfs_with_their_ledger_receipts(
    citizen, procedures, agent_villerupt
):
    from tests.test_procedures import CRECHE

    dossier = services.start(citizen, procedures["preinscription-creche"])
    services.submit(citizen, dossier.pk, CRECHE)
    client = _client(citizen)
    base = f"/procedures/files/{dossier.pk}/"
    assert client.get(f"{base}decision.pdf").status_code == 404  # not decided yet
    receipt = client.get(f"{base}receipt.pdf")
    assert receipt["Content-Type"] == "application/pdf"
    text = _text(receipt.content)
    assert dossier.reference in text and "Léa" in text and "Camille" in text
    filed = dossier.events.get(to_status="submitted").receipt
    assert str(filed["leaf_index"]) in text
    services.take(agent_villerupt, dossier.pk)
    services.decide(agent_villerupt, dossier.pk, "refuse", "Aucune place disponible en 2027.")
    decision = _text(client.get(f"{base}decision.pdf").content)
    assert "Aucune place disponible en 2027." in decision and dossier.reference in decision
    assert _client(agent_villerupt).get(f"{base}receipt.pdf").status_code == 200
    assert Client().get(f"{base}receipt.pdf").status_code == 404


def test_retention_deletes_the_attachments(
    storage, citizen, procedures, agent_audun, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    client = _client(citizen)
    client.post(_start(client), {**PARKING, "f-proof": _pdf_upload(), "action": "submit"})
    dossier = Dossier.objects.get(user=citizen)
    Dossier.objects.filter(pk=dossier.pk).update(
        status=Status.REFUSED, decided_at=timezone.now() - timedelta(days=800)
    )
    with __import__("django.test", fromlist=["TestCase"]).TestCase.captureOnCommitCallbacks(
        execute=True
    ):
        services.apply_retention()
    assert stored_paths(storage) == []
