"""Online procedures, the domain: filing, routing, instruction, deadlines, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from alzette.ledger.models import LedgerEntry
from alzette.personal.mydata.models import StoredReceipt
from alzette.personal.procedures import services
from alzette.personal.procedures.models import Dossier, DossierEvent, Procedure, Status
from tests.conftest import ALL_DATABASES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

IDENTITY = {
    "given_name": "Camille",
    "family_name": "Martin",
    "address": {"street": "1 rue de la Gare", "commune": "54580"},
}
CRECHE = {
    **IDENTITY,
    "child_name": "Léa",
    "born": True,
    "birthdate": "2025-03-02",
    "days": ["mon", "tue"],
    "start": (timezone.localdate() + timedelta(days=90)).isoformat(),
}


def _filed(user, procedures, slug="preinscription-creche", answers=None, commune="54580"):
    dossier = services.start(user, procedures[slug])
    answers = answers or {**CRECHE, "address": {**CRECHE["address"], "commune": commune}}
    return services.submit(user, dossier.pk, answers)


def _kinds(user) -> list[str]:
    return list(
        StoredReceipt.objects.filter(user=user)
        .order_by("created_at")
        .values_list("kind", flat=True)
    )


def test_a_file_is_routed_to_its_commune_s_group_with_a_deadline(
    citizen, procedures, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = _filed(citizen, procedures)
    assert dossier.status == Status.SUBMITTED and dossier.commune.code == "54580"
    assert dossier.group.unit.code == "54580"
    assert dossier.due_at - dossier.submitted_at == timedelta(days=60)
    assert dossier.answers["address"]["commune_name"] == "Villerupt"
    assert _kinds(citizen) == ["procedure.submitted"]
    assert mail.outbox and dossier.reference in mail.outbox[-1].subject


def test_a_wrong_answer_saves_nothing_and_a_second_submission_is_refused(citizen, procedures):
    dossier = services.start(citizen, procedures["preinscription-creche"])
    with pytest.raises(services.AnswersInvalid) as caught:
        services.submit(
            citizen, dossier.pk, {**CRECHE, "birthdate": "2099-01-01", "given_name": ""}
        )
    assert set(caught.value.errors) == {"birthdate", "given_name"}
    dossier.refresh_from_db()
    assert dossier.status == Status.DRAFT and dossier.submitted_at is None
    services.submit(citizen, dossier.pk, CRECHE)
    with pytest.raises(services.Conflict):
        services.submit(citizen, dossier.pk, CRECHE)
    with pytest.raises(PermissionDenied):
        services.save_draft(citizen, Dossier.objects.get(pk=dossier.pk), {"given_name": "X"})
    assert _kinds(citizen) == ["procedure.submitted"]


def test_a_file_keeps_the_version_it_was_filed_under(citizen, procedures, agent_epci, agent_audun):
    creche = procedures["preinscription-creche"]
    first = _filed(citizen, procedures)
    with pytest.raises(PermissionDenied):
        services.publish_version(agent_audun, creche, creche.current_version.schema)
    new_form = [
        *creche.current_version.schema,
        {"key": "extra", "type": "text", "label": {"fr": "En plus"}, "required": True},
    ]
    version = services.publish_version(agent_epci, creche, new_form)
    assert version.number == 2 and Procedure.objects.get(pk=creche.pk).current_version == version
    first.refresh_from_db()
    assert first.version.number == 1


def test_only_the_commune_s_instructors_see_and_instruct(
    citizen, procedures, agent_audun, agent_villerupt
):
    dossier = _filed(citizen, procedures)
    assert not dossier.get_abilities(agent_audun)["view"]
    with pytest.raises(PermissionDenied):
        services.take(agent_audun, dossier.pk)
    other = UserFactory(email="voisin@example.org")
    assert dossier.get_abilities(other) == dict.fromkeys(dossier.get_abilities(other), False)
    services.take(agent_villerupt, dossier.pk)
    dossier.refresh_from_db()
    assert dossier.status == Status.IN_INSTRUCTION and dossier.assignee == agent_villerupt


def test_instruction_with_a_correction_then_a_decision(citizen, procedures, agent_villerupt):
    dossier = _filed(citizen, procedures)
    services.take(agent_villerupt, dossier.pk)
    with pytest.raises(services.AnswersInvalid):
        services.request_correction(agent_villerupt, dossier.pk, "  ")
    services.request_correction(agent_villerupt, dossier.pk, "Précisez les jours.")
    dossier.refresh_from_db()
    assert (
        dossier.get_abilities(citizen)["edit"]
        and not dossier.get_abilities(agent_villerupt)["decide"]
    )
    services.submit(citizen, dossier.pk, {**CRECHE, "days": ["mon", "tue", "wed"]})
    services.take(agent_villerupt, dossier.pk)
    with pytest.raises(services.AnswersInvalid):
        services.decide(agent_villerupt, dossier.pk, "refuse", "")
    services.decide(
        agent_villerupt, dossier.pk, "accept", "Place attribuée à la crèche des Tilleuls."
    )
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED and dossier.decided_at is not None
    assert _kinds(citizen) == [
        "procedure.submitted",
        "procedure.status_changed",
        "procedure.status_changed",
        "procedure.status_changed",
        "procedure.status_changed",
        "procedure.decided",
    ]
    decided = LedgerEntry.objects.get(kind="procedure.decided")
    assert decided.actor == agent_villerupt.pseudonym
    with pytest.raises(PermissionDenied):
        services.decide(agent_villerupt, dossier.pk, "refuse", "trop tard")


def test_private_notes_and_messages(citizen, procedures, agent_villerupt, agent_audun):
    dossier = _filed(citizen, procedures)
    services.add_note(agent_villerupt, dossier, "Fratrie déjà inscrite")
    services.post_message(citizen, dossier, "Bonjour, une question.")
    services.post_message(agent_villerupt, dossier, "Bonjour, je vous réponds.")
    with pytest.raises(PermissionDenied):
        services.add_note(citizen, dossier, "je ne suis pas agent")
    with pytest.raises(PermissionDenied):
        services.post_message(agent_audun, dossier, "autre commune")
    kinds = list(DossierEvent.objects.filter(dossier=dossier).values_list("kind", "from_agent"))
    assert ("note", True) in kinds and ("message", False) in kinds and ("message", True) in kinds


def test_an_anonymous_report_is_filed_and_routed(procedures, agent_audun):
    with pytest.raises(PermissionDenied):
        services.start(None, procedures["preinscription-creche"])
    dossier = services.start(None, procedures["signalement-depot-sauvage"])
    report = {"where": {"lat": 49.47, "lon": 5.98}, "commune": "57038", "kind": ["bulky"]}
    services.submit(None, dossier.pk, report)
    dossier.refresh_from_db()
    assert dossier.status == Status.SUBMITTED and dossier.group.unit.code == "57038"
    assert LedgerEntry.objects.get(kind="procedure.submitted").actor == "system:procedures"
    assert dossier.get_abilities(agent_audun)["instruct"]
    assert not dossier.get_abilities(agent_audun)["request_correction"]  # nobody to answer


def test_silence_is_acceptance_only_where_the_procedure_says_so(citizen, procedures):
    canteen = _filed(
        citizen,
        procedures,
        "inscription-cantine",
        {
            **IDENTITY,
            "pupils": [{"pupil_name": "Léo", "school": "pasteur", "diet": "standard"}],
            "rules": True,
        },
    )
    creche = _filed(citizen, procedures)
    later = timezone.now() + timedelta(days=61)
    assert services.accept_silently(later) == [canteen.reference]
    canteen.refresh_from_db()
    creche.refresh_from_db()
    assert canteen.status == Status.ACCEPTED and creche.status == Status.SUBMITTED
    assert (
        LedgerEntry.objects.filter(kind="procedure.decided", actor="system:procedures").count() == 1
    )


def test_instructors_are_reminded_once_before_the_deadline(citizen, procedures, agent_villerupt):
    dossier = _filed(citizen, procedures)
    mail.outbox.clear()
    assert services.remind(timezone.now()) == 0
    soon = dossier.due_at - timedelta(days=1)
    assert services.remind(soon) == 1
    assert mail.outbox[0].to == [agent_villerupt.email]
    assert services.remind(soon) == 0


def test_retention_anonymises_old_decided_files_only(citizen, procedures, agent_villerupt):
    old = _filed(citizen, procedures)
    recent = _filed(citizen, procedures)
    for dossier in (old, recent):
        services.take(agent_villerupt, dossier.pk)
        services.post_message(citizen, Dossier.objects.get(pk=dossier.pk), "Merci")
        services.decide(agent_villerupt, dossier.pk, "refuse", "Plus de place")
    Dossier.objects.filter(pk=old.pk).update(decided_at=timezone.now() - timedelta(days=731))
    assert services.apply_retention() == [old.reference]
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.answers == {} and old.user is None and old.motive == "" and old.anonymised_at
    assert set(old.events.values_list("kind", flat=True)) == {"status"}
    assert not old.events.exclude(body="").exists()
    assert recent.user == citizen and recent.answers["child_name"] == "Léa"
    assert services.apply_retention() == []
    stats = services.statistics()
    assert stats == [
        {
            "procedure": "preinscription-creche",
            "commune": "54580",
            "month": timezone.localtime(old.submitted_at).strftime("%Y-%m"),
            "filed": 2,
            "accepted": 0,
            "decided": 2,
            "mean_delay_days": stats[0]["mean_delay_days"],
        }
    ]


def test_batch_actions_check_each_file(citizen, procedures, agent_villerupt):
    mine = _filed(citizen, procedures)
    elsewhere = _filed(citizen, procedures, commune="57038")
    result = services.batch(agent_villerupt, [mine.pk, elsewhere.pk], "take")
    assert result.done == [mine.reference] and result.refused == [elsewhere.reference]
    result = services.batch(agent_villerupt, [mine.pk], "refuse", "")
    assert result.refused == [mine.reference]
    assert Dossier.objects.get(pk=mine.pk).status == Status.IN_INSTRUCTION


def test_the_retention_command_anonymises_and_reports(citizen, procedures, agent_villerupt):
    from io import StringIO

    from django.core.management import call_command

    dossier = _filed(citizen, procedures)
    services.take(agent_villerupt, dossier.pk)
    services.decide(agent_villerupt, dossier.pk, "accept", "")
    out = StringIO()
    call_command("procedures", "retention", stdout=out)
    assert out.getvalue().strip() == "0 file(s) anonymised"
    Dossier.objects.filter(pk=dossier.pk).update(decided_at=timezone.now() - timedelta(days=800))
    call_command("procedures", "retention", stdout=out)
    assert f"1 file(s) anonymised: {dossier.reference}" in out.getvalue()
    assert Dossier.objects.get(pk=dossier.pk).answers == {}
    call_command("procedures", "statistics", stdout=out)
    assert '"filed": 1' in out.getvalue() and "Camille" not in out.getvalue()


def test_open_files_hold_the_account_erasure_and_drafts_go_with_it(
    citizen, procedures, agent_villerupt
):
    from alzette.personal.mydata.services import ErasureRefused, erase_account

    draft = services.start(citizen, procedures["demande-bac"])
    dossier = _filed(citizen, procedures)
    with pytest.raises(ErasureRefused, match=dossier.reference):
        erase_account(citizen)
    services.take(agent_villerupt, dossier.pk)
    services.decide(agent_villerupt, dossier.pk, "refuse", "Complet")
    erase_account(citizen)
    assert not Dossier.objects.filter(pk=draft.pk).exists()
    kept = Dossier.objects.get(pk=dossier.pk)
    assert kept.user is None and kept.status == Status.REFUSED  # until its retention ends
