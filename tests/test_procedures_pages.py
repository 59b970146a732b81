"""Pages of online procedures: good input, bad input and the wrong role for each."""

from __future__ import annotations

import pytest
from django.test import Client

from alzette.personal.procedures.models import Dossier, Procedure, Status
from tests.conftest import ALL_DATABASES
from tests.test_procedures import CRECHE

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
POST = {
    "f-given_name": "Camille",
    "f-family_name": "Martin",
    "f-phone": "06 12 34 56 78",
    "f-address-street": "1 rue de la Gare",
    "f-address-commune": "54580",
    "f-child_name": "Léa",
    "f-born": "yes",
    "f-birthdate": "2025-03-02",
    "f-days": ["mon", "tue"],
    "f-start": CRECHE["start"],
}


def _client(user=None, **options) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def _started(client, slug="preinscription-creche") -> str:
    response = client.post(f"/procedures/{slug}/start/")
    assert response.status_code == 302
    return response["Location"]


def test_the_catalogue_lists_the_open_procedures(procedures):
    html = _client().get("/procedures/", **EN).content.decode()
    assert html.count('class="pr-card"') == 6 and "Crèche pre-registration" in html
    Procedure.objects.filter(slug="demande-bac").update(published=False)
    assert _client().get("/procedures/").content.decode().count('class="pr-card"') == 5


def test_a_citizen_saves_a_draft_then_submits(citizen, procedures):
    client = _client(citizen)
    url = _started(client)
    page = client.get(url, **EN).content.decode()
    assert 'data-condition="' in page and 'name="f-given_name"' in page
    assert client.post(url, {"f-child_name": "Léa", "action": "save"}).status_code == 302
    dossier = Dossier.objects.get(user=citizen)
    assert dossier.answers["child_name"] == "Léa" and dossier.status == Status.DRAFT
    response = client.post(url, {**POST, "action": "submit"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED
    follow = client.get(url, **EN).content.decode()
    assert "Submitted" in follow and "Ledger entry" in follow
    # Editing a submitted file is refused: the page shows the follow-up, a post changes nothing.
    client.post(url, {**POST, "f-child_name": "Autre", "action": "submit"})
    dossier.refresh_from_db()
    assert dossier.answers["child_name"] == "Léa"


def test_bad_answers_show_errors_and_save_nothing(citizen, procedures):
    client = _client(citizen)
    url = _started(client)
    response = client.post(
        url, {**POST, "f-birthdate": "2099-01-01", "f-phone": "12", "action": "submit"}, **EN
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "2 answers to correct" in html
    assert Dossier.objects.get(user=citizen).status == Status.DRAFT


def test_a_file_is_private_to_its_applicant(citizen, procedures, partner):
    url = _started(_client(citizen))
    assert _client(partner).get(url).status_code == 404
    assert _client().get(url).status_code == 404
    assert _client(partner).post(url, {**POST, "action": "submit"}).status_code == 404


def test_anonymous_reports_stay_with_the_session_that_started_them(procedures):
    login = _client().post("/procedures/preinscription-creche/start/")
    assert "/accounts/login/" in login["Location"]
    reporter = _client()
    url = _started(reporter, "signalement-depot-sauvage")
    assert reporter.get(url).status_code == 200
    assert _client().get(url).status_code == 404
    response = reporter.post(
        url,
        {
            "f-where-lat": "49.47",
            "f-where-lon": "5.98",
            "f-commune": "57038",
            "f-kind": ["bulky"],
            "action": "submit",
        },
    )
    assert response.status_code == 302
    assert Dossier.objects.get(user=None).status == Status.SUBMITTED


def test_agents_see_only_their_groups_files(citizen, procedures, agent_audun, agent_villerupt):
    client = _client(citizen)
    url = _started(client)
    client.post(url, {**POST, "action": "submit"})
    dossier = Dossier.objects.get(user=citizen)
    assert dossier.reference in _client(agent_villerupt).get("/procedures/office/").content.decode()
    audun = _client(agent_audun)
    assert dossier.reference not in audun.get("/procedures/office/").content.decode()
    assert audun.get(f"/procedures/office/{dossier.pk}/").status_code == 404
    assert (
        audun.post(f"/procedures/office/{dossier.pk}/act/", {"action": "take"}).status_code == 404
    )
    assert _client(citizen).get("/procedures/office/").status_code == 403
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED


def test_an_agent_instructs_and_decides(citizen, procedures, agent_villerupt):
    client = _client(citizen)
    url = _started(client)
    client.post(url, {**POST, "action": "submit"})
    dossier = Dossier.objects.get(user=citizen)
    agent = _client(agent_villerupt)
    act = f"/procedures/office/{dossier.pk}/act/"
    page = agent.get(f"/procedures/office/{dossier.pk}/", **EN).content.decode()
    assert "Léa" in page and "Start instructing" in page
    agent.post(act, {"action": "take"})
    agent.post(act, {"action": "note", "text": "Vérifier la fratrie"})
    agent.post(act, {"action": "refuse", "text": ""})  # refused: no motive
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_INSTRUCTION
    agent.post(act, {"action": "accept", "text": "Place attribuée"})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED
    citizen_view = client.get(url, **EN).content.decode()
    assert "Place attribuée" in citizen_view and "Vérifier la fratrie" not in citizen_view


def test_instruction_needs_csrf(citizen, procedures, agent_villerupt):
    client = _client(citizen)
    url = _started(client)
    client.post(url, {**POST, "action": "submit"})
    dossier = Dossier.objects.get(user=citizen)
    strict = _client(agent_villerupt, enforce_csrf_checks=True)
    assert (
        strict.post(f"/procedures/office/{dossier.pk}/act/", {"action": "take"}).status_code == 403
    )
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED


def test_batch_without_an_action_changes_nothing(citizen, procedures, agent_villerupt):
    client = _client(citizen)
    client.post(_started(client), {**POST, "action": "submit"})
    dossier = Dossier.objects.get(user=citizen)
    agent = _client(agent_villerupt)
    agent.post("/procedures/office/batch/", {"dossier": [dossier.pk], "action": ""})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.SUBMITTED
    agent.post("/procedures/office/batch/", {"dossier": [dossier.pk], "action": "take"})
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_INSTRUCTION


def test_the_dashboard_widget_lists_my_files(citizen, procedures):
    client = _client(citizen)
    url = _started(client)
    client.post(url, {**POST, "action": "submit"})
    assert client.post("/dashboard/edit/add/", {"widget": "my-procedures"}).status_code == 303
    html = client.get("/dashboard/", **EN).content.decode()
    widget = html.split('id="widget-my-procedures"')[1].split("</section>")[0]
    dossier = Dossier.objects.get(user=citizen)
    assert dossier.reference in widget and f'href="{url}"' in widget
    assert 'href="/procedures/"' in widget
