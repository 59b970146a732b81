"""Each person's language: stored by the header's switch and the preferences page, in
"my data", and used for every e-mail sent to them (water warnings, procedure news,
agents' alerts, catalogue alerts), the default language (French) when none is chosen.

Messages are checked against translations that exist in the compiled catalogues."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import translation

from alzette.core import mail as mailing
from alzette.personal.accounts import alertmail, services
from alzette.personal.accounts.models import User
from alzette.personal.homewater import services as homewater
from alzette.personal.households.services import create_household
from alzette.personal.mydata import services as mydata
from alzette.personal.procedures import services as procedures_services
from alzette.territory.catalogue import alerts as catalogue_alerts
from alzette.territory.water import signals as water_signals
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory
from tests.test_procedures import _filed

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

SERIAL = "W26-000042"
LEAK = {
    "de": "[Alzette] Mögliches Wasserleck bei Ihnen zu Hause",
    "fr": "[Alzette] Fuite d\u2019eau possible à votre domicile",
}


def _subjects() -> dict[tuple[str, ...], str]:
    return {tuple(message.to): message.subject for message in mail.outbox}


# --- E-mails in the recipient's language ------------------------------------------------


def test_the_water_warning_reaches_each_member_in_their_language(
    citizen, django_capture_on_commit_callbacks
):
    citizen.preferred_language = "de"
    citizen.save()
    partner = UserFactory(email="partner@example.org")  # chose no language: French
    household = create_household("57038", "AUD-0042", members=[citizen, partner])
    homewater.allocate_meter(household, SERIAL, "system:test", persons=2)
    since = datetime(2026, 11, 30, 22, tzinfo=UTC)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        water_signals.leak_suspected.send(None, meter=SERIAL, since=since, min_litres_per_hour=3)
    assert _subjects() == {(citizen.email,): LEAK["de"], (partner.email,): LEAK["fr"]}
    german = next(m for m in mail.outbox if m.to == [citizen.email])
    assert "Details:" in german.body and "Détails" not in german.body


def test_procedure_news_reach_a_portuguese_applicant_in_portuguese(
    citizen, procedures, agent_villerupt, django_capture_on_commit_callbacks
):
    citizen.preferred_language = "pt"
    citizen.save()
    with django_capture_on_commit_callbacks(execute=True):
        dossier = _filed(citizen, procedures)
    (received,) = mail.outbox
    assert received.subject == f"O seu processo {dossier.reference} foi recebido."
    assert "Submetido" in received.body  # the status, in Portuguese too
    # An agent working in English asks for a correction: the applicant reads Portuguese.
    procedures_services.take(agent_villerupt, dossier.pk)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        procedures_services.request_correction(agent_villerupt, dossier.pk, "Les jours ?")
    assert mail.outbox[-1].subject == (
        f"O seu processo {dossier.reference} precisa de uma correção."
    )


def test_without_a_language_the_applicant_reads_french(
    citizen, procedures, django_capture_on_commit_callbacks
):
    assert citizen.preferred_language == ""
    with translation.override("de"), django_capture_on_commit_callbacks(execute=True):
        dossier = _filed(citizen, procedures)
    assert mail.outbox[-1].subject == f"Votre dossier {dossier.reference} a bien été reçu."


def test_instructors_are_reminded_each_in_their_language(citizen, procedures, agent_villerupt):
    dossier = _filed(citizen, procedures)
    agent_villerupt.preferred_language = "de"
    agent_villerupt.save()
    mail.outbox.clear()
    assert procedures_services.remind(dossier.due_at) == 1
    (reminder,) = mail.outbox
    assert reminder.to == [agent_villerupt.email]
    assert reminder.subject.startswith(f"Vorgang {dossier.reference} ist am ")


def test_supervision_alerts_reach_each_agent_in_their_language(agent_audun, agent_epci):
    agent_audun.preferred_language = "de"
    agent_audun.save()
    rule = SimpleNamespace(name="Bac plein", unit="57038", get_severity_display=lambda: "—")
    alert = SimpleNamespace(pk=1, rule=rule, message="95 %", entity_id="urn:ngsi-ld:X:1",
                            fired_at=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip
    alertmail.on_alert_fired(None, alert)
    assert _subjects() == {
        (agent_audun.email,): "[Alzette] Alarm: Bac plein",
        (agent_epci.email,): "[Alzette] Alerte : Bac plein",
    }


def test_catalogue_alerts_use_the_language_of_the_account_holding_the_address(agent_epci, settings):
    agent_epci.preferred_language = "de"
    agent_epci.save()
    # Addresses from the settings, in any case; one of them has no account.
    settings.ALZETTE_CATALOGUE_ALERT_EMAILS = [agent_epci.email.upper(), "ops@example.org"]
    dataset = SimpleNamespace(identifier="communes", refreshed_at=None, row_count=8)
    catalogue_alerts.recovered(dataset, None)
    assert _subjects() == {
        (agent_epci.email.upper(),): (
            "[Alzette] Datensatz communes: Aktualisierung funktioniert wieder"
        ),
        ("ops@example.org",): (
            "[Alzette] Jeu de données communes : la mise à jour fonctionne de nouveau"
        ),
    }


def test_only_active_accounts_with_a_language_answer_for_an_address(citizen):
    gone = UserFactory(email="gone@example.org", preferred_language="de", is_active=False)
    citizen.preferred_language = "lb"
    citizen.save()
    answer = services.languages_of_addresses([citizen.email, gone.email, "nobody@example.org"])
    assert answer == {citizen.email: "lb"}
    assert mailing.languages_of(["nobody@example.org", citizen.email, ""]) == [
        ("nobody@example.org", None),
        (citizen.email, "lb"),
    ]


def test_a_failing_look_up_sends_in_the_default_language(monkeypatch, caplog, settings):
    def broken(addresses):
        raise RuntimeError("personal database unreachable")

    monkeypatch.setattr(mailing, "address_language_lookups", [broken])
    settings.ALZETTE_CATALOGUE_ALERT_EMAILS = ["ops@example.org"]
    dataset = SimpleNamespace(identifier="x", refreshed_at=None, row_count=1)
    catalogue_alerts.recovered(dataset, None)
    assert [m.subject for m in mail.outbox] == [
        "[Alzette] Jeu de données x : la mise à jour fonctionne de nouveau"
    ]
    assert "language look-up" in caplog.text


def test_a_language_no_longer_offered_falls_back_and_a_mail_server_down_is_logged(caplog):
    def build() -> tuple[str, str]:
        return translation.gettext("Details:"), ""

    assert mailing.render_in_language("xx", build) == ("Détails :", "")

    def refused(*args, **kwargs):
        raise OSError("connection refused")

    sent = mailing.send_in_language([("a@example.org", "de")], build, context="t", send=refused)
    assert sent == 0 and "e-mail (t) in de not sent" in caplog.text


# --- Storing the language ---------------------------------------------------------------


def _switch(client, language: str):
    return client.post("/i18n/setlang/", {"language": language, "next": "/procedures/"})


def test_the_switch_stores_the_language_of_a_signed_in_person(client, citizen):
    client.force_login(citizen)
    response = _switch(client, "de")
    assert response.status_code == 302 and response["Location"] == "/procedures/"
    assert response.cookies["django_language"].value == "de"
    citizen.refresh_from_db()
    assert citizen.preferred_language == "de"


def test_the_switch_stores_nothing_for_an_anonymous_visitor(client, citizen):
    response = _switch(client, "pt")
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "pt"  # the interface still switches
    assert not User.objects.exclude(preferred_language="").exists()


@pytest.mark.parametrize("language", ["xx", "", "pt-br", "DE"])
def test_the_switch_refuses_an_unknown_language_without_storing(client, citizen, language):
    client.force_login(citizen)
    response = _switch(client, language)
    assert response.status_code == 400
    assert "django_language" not in response.cookies
    citizen.refresh_from_db()
    assert citizen.preferred_language == ""


def test_the_switch_takes_only_post(client, citizen):
    client.force_login(citizen)
    assert client.get("/i18n/setlang/?language=de").status_code == 405
    citizen.refresh_from_db()
    assert citizen.preferred_language == ""


def test_the_preferences_page_shows_and_changes_the_language(client, citizen):
    client.force_login(citizen)
    page = client.get("/accounts/preferences/")
    assert page.status_code == 200 and 'data-language=""' in page.content.decode()
    response = client.post("/accounts/preferences/", {"preferred_language": "pt"})
    assert response.status_code == 302 and response["Location"] == "/accounts/preferences/"
    assert response.cookies["django_language"].value == "pt"
    citizen.refresh_from_db()
    assert citizen.preferred_language == "pt"
    assert 'data-language="pt"' in client.get("/accounts/preferences/").content.decode()
    # Back to "not chosen": the default language again.
    client.post("/accounts/preferences/", {"preferred_language": ""})
    citizen.refresh_from_db()
    assert citizen.preferred_language == "" and citizen.mail_language == "fr"


def test_the_preferences_page_refuses_an_unknown_language(client, citizen):
    client.force_login(citizen)
    response = client.post("/accounts/preferences/", {"preferred_language": "xx"})
    assert response.status_code == 400
    assert 'id="id_preferred_language-errors"' in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.preferred_language == ""


def test_the_preferences_page_is_for_signed_in_people(client):
    response = client.get("/accounts/preferences/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post("/accounts/preferences/", {"preferred_language": "de"}).status_code == 302
    assert not User.objects.exclude(preferred_language="").exists()


def test_nobody_changes_another_person_s_language(citizen, agent_audun):
    with pytest.raises(PermissionDenied):
        services.set_preferred_language(agent_audun, citizen, "de")
    with pytest.raises(services.UnknownLanguage):
        services.set_preferred_language(citizen, citizen, "xx")
    citizen.refresh_from_db()
    assert citizen.preferred_language == ""


def test_the_language_is_in_my_data_and_its_export(citizen):
    assert mydata.collect(citizen)["preferences"] == [{"preferred_language": None}]
    services.set_preferred_language(citizen, citizen, "de")
    assert mydata.collect(citizen)["preferences"] == [{"preferred_language": "de"}]


# --- The interface follows the account on a new browser ---------------------------------


def test_a_new_browser_gets_the_account_s_language_and_its_cookie(client, citizen):
    citizen.preferred_language = "de"
    citizen.save()
    client.force_login(citizen)
    response = client.get("/")
    assert '<html lang="de">' in response.content.decode()
    assert response.cookies["django_language"].value == "de"
    assert response["Content-Language"] == "de"


def test_the_cookie_wins_once_set(client, citizen):
    citizen.preferred_language = "de"
    citizen.save()
    client.force_login(citizen)
    client.cookies["django_language"] = "pt"
    response = client.get("/")
    assert '<html lang="pt">' in response.content.decode()
    assert "django_language" not in response.cookies  # left as it is


def test_without_a_preference_or_an_account_the_default_language_stays(client, citizen):
    assert '<html lang="fr">' in client.get("/").content.decode()  # anonymous
    client.force_login(citizen)  # no language chosen
    response = client.get("/")
    assert '<html lang="fr">' in response.content.decode()
    assert "django_language" not in response.cookies


def test_api_answers_get_no_language_cookie(client, citizen):
    citizen.preferred_language = "de"
    citizen.save()
    client.force_login(citizen)
    response = client.get("/api/v1/water/me", HTTP_ACCEPT="application/json")  # a 404 problem
    assert "django_language" not in response.cookies


def test_switching_on_a_new_browser_keeps_the_new_choice(client, citizen):
    citizen.preferred_language = "de"
    citizen.save()
    client.force_login(citizen)  # no cookie yet: the account's German would apply
    response = client.post("/i18n/setlang/", {"language": "pt", "next": "/"})
    assert response.cookies["django_language"].value == "pt"
    citizen.refresh_from_db()
    assert citizen.preferred_language == "pt"
    assert '<html lang="pt">' in client.get("/").content.decode()
