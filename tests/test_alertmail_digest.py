"""Supervision alert e-mails throttled per rule: the first alert of a window mailed at
once, the rule's next ones in one digest when the window is over (a network outage
must not send each agent thousands of e-mails)."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from alzette.core import jobs
from alzette.personal.accounts import alertmail
from alzette.personal.accounts.models import AlertMailOwed, AlertMailWindow
from alzette.territory.supervision import alerts
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

NODATA = SimpleNamespace(pk=7, name="Silence", unit="57038", get_severity_display=lambda: "!")
FULL = SimpleNamespace(pk=8, name="Bac plein", unit="57038", get_severity_display=lambda: "!")


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("down")


def _entity(number: int) -> str:
    return f"urn:ngsi-ld:Device:sensor-{number:05d}"


def _fire(rule, number: int) -> None:
    alert = SimpleNamespace(pk=number, rule=rule, message="no data", entity_id=_entity(number),
                            fired_at=datetime(2026, 12, 4, 8, tzinfo=UTC))  # fmt: skip
    alerts.alert_fired.send(sender=None, alert=alert)  # as the engine does, after commit


def _age_windows(minutes: int = 16) -> None:
    """Move every window (and its pending alerts) ``minutes`` into the past."""
    shift = timedelta(minutes=minutes)
    AlertMailWindow.objects.update(opened_at=F("opened_at") - shift)
    AlertMailWindow.objects.exclude(pending_since=None).update(
        pending_since=F("pending_since") - shift
    )


def _digests() -> str:
    return alertmail.send_due_digests()


@pytest.fixture(autouse=True)
def _window(settings):
    settings.ALZETTE_ALERT_MAIL_WINDOW_MINUTES = 15
    settings.ALZETTE_PUBLIC_URL = "https://alzette.example.org"


def test_an_outage_sends_one_mail_then_one_digest(agent_audun, agent_epci):
    _fire(NODATA, 0)
    (first,) = mail.outbox
    assert sorted(first.to) == sorted([agent_audun.email, agent_epci.email])
    assert _entity(0) in first.body

    for number in range(1, 501):
        _fire(NODATA, number)
    assert len(mail.outbox) == 1  # nothing more while the window lasts
    assert _digests() == "0 alert digest(s) sent, 0 to retry"
    window = AlertMailWindow.objects.get(rule_id=NODATA.pk)
    assert (window.pending_count, len(window.pending_sample)) == (500, alertmail.SAMPLE_SIZE)

    _age_windows()
    since = timezone.localtime(AlertMailWindow.objects.get().pending_since).strftime("%H:%M")
    assert _digests() == "1 alert digest(s) sent, 0 to retry"
    digest = mail.outbox[1]
    assert sorted(digest.to) == sorted([agent_audun.email, agent_epci.email])
    assert "500" in digest.subject and "Silence" in digest.subject
    assert "500" in digest.body and "480" in digest.body  # 20 listed, 480 counted
    listed = [line for line in digest.body.splitlines() if line.startswith("- ")]
    assert listed == [f"- {_entity(n)}" for n in range(1, 21)]
    rule_id = AlertMailWindow.objects.get().rule_id
    assert f"https://alzette.example.org/hypervision/supervision/alerts/?rule={rule_id}" in (
        digest.body)  # fmt: skip
    assert since in digest.body

    assert _digests() == "0 alert digest(s) sent, 0 to retry"  # sent once
    assert AlertMailWindow.objects.get().pending_count == 0


def test_an_alert_after_the_window_is_mailed_at_once_again(agent_audun):
    _fire(NODATA, 0)
    _fire(NODATA, 1)
    _age_windows()
    assert _digests().startswith("1 ")
    _fire(NODATA, 2)
    assert len(mail.outbox) == 3 and _entity(2) in mail.outbox[2].body
    _fire(NODATA, 3)  # the new window is open
    assert len(mail.outbox) == 3
    assert AlertMailWindow.objects.get().pending_count == 1


def test_the_next_alert_sends_the_pending_digest_when_the_job_has_not(agent_audun):
    _fire(NODATA, 0)
    _fire(NODATA, 1)
    _fire(NODATA, 2)
    _age_windows()
    _fire(NODATA, 3)  # window over, digest not sent yet: both go out now
    assert len(mail.outbox) == 3
    alert, digest = mail.outbox[1:]
    assert _entity(3) in alert.body
    assert _entity(1) in digest.body and _entity(2) in digest.body and "2" in digest.subject
    assert _entity(3) not in digest.body
    window = AlertMailWindow.objects.get()
    assert (window.pending_count, window.pending_sample) == (0, [])
    assert _digests().startswith("0 ")


def test_rules_are_throttled_independently(agent_audun):
    _fire(NODATA, 0)
    _fire(FULL, 100)  # another rule's first alert: mailed at once too
    assert len(mail.outbox) == 2
    for number in range(1, 4):
        _fire(NODATA, number)
    for number in range(101, 106):
        _fire(FULL, number)
    assert len(mail.outbox) == 2
    _age_windows()
    assert _digests() == "2 alert digest(s) sent, 0 to retry"
    by_rule = {("Silence" in m.subject): m for m in mail.outbox[2:]}
    assert "3" in by_rule[True].subject and _entity(101) not in by_rule[True].body
    assert "5" in by_rule[False].subject and _entity(105) in by_rule[False].body


def test_a_mail_server_down_keeps_the_digest_for_the_next_run(agent_audun, settings, caplog):
    _fire(NODATA, 0)
    for number in range(1, 31):
        _fire(NODATA, number)
    _age_windows()
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with caplog.at_level(logging.ERROR, logger="alzette.core.mail"):
        assert _digests() == "0 alert digest(s) sent, 1 to retry"
    assert "alert digest of rule 7" in caplog.text
    window = AlertMailWindow.objects.get()
    assert (window.pending_count, len(window.pending_sample)) == (30, alertmail.SAMPLE_SIZE)
    assert window.pending_sample[0] == _entity(1)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _digests() == "1 alert digest(s) sent, 0 to retry"
    assert "30" in mail.outbox[-1].subject and _entity(1) in mail.outbox[-1].body


def test_a_failed_digest_joins_the_alerts_counted_meanwhile():
    now = timezone.now()
    alertmail.note(NODATA.pk, "Silence", "57038", _entity(0), now - timedelta(minutes=20))
    alertmail.note(NODATA.pk, "Silence", "57038", _entity(1), now - timedelta(minutes=19))
    digest = alertmail.claim(NODATA.pk, now)
    assert digest is not None and digest.count == 1
    # Meanwhile a new window opened and counted an alert; then the digest failed.
    assert alertmail.note(NODATA.pk, "Silence", "57038", _entity(2), now) == (True, None)
    alertmail.note(NODATA.pk, "Silence", "57038", _entity(3), now)
    alertmail._put_back(digest)
    window = AlertMailWindow.objects.get()
    assert window.pending_count == 2
    assert window.pending_sample == [_entity(1), _entity(3)]
    assert window.pending_since == now - timedelta(minutes=19)


def test_a_window_is_claimed_once_and_only_when_over():
    now = timezone.now()
    alertmail.note(NODATA.pk, "Silence", "57038", _entity(0), now)
    alertmail.note(NODATA.pk, "Silence", "57038", _entity(1), now)
    assert alertmail.claim(NODATA.pk, now + timedelta(minutes=14)) is None  # not over
    later = now + timedelta(minutes=15)
    first = alertmail.claim(NODATA.pk, later)
    assert first is not None and (first.count, first.sample) == (1, (_entity(1),))
    assert alertmail.claim(NODATA.pk, later) is None  # a second sender finds nothing
    assert alertmail.claim(999, later) is None  # a rule that never fired


def test_a_window_another_process_opened_meanwhile_counts_the_alert(monkeypatch):
    now = timezone.now()
    assert alertmail.note(NODATA.pk, "Silence", "57038", _entity(0), now) == (True, None)
    # This process looked before the other one's window existed: its insert collides
    # with the unique rule id, and it falls back to counting in that window.
    real = alertmail._locked
    answers = iter([None])
    monkeypatch.setattr(alertmail, "_locked", lambda rule_id: next(answers, real(rule_id)))
    assert alertmail.note(NODATA.pk, "Silence", "57038", _entity(1), now) == (False, None)
    window = AlertMailWindow.objects.get()
    assert (window.pending_count, window.pending_sample) == (1, [_entity(1)])


def test_the_same_entity_is_listed_once_but_counted_each_time():
    now = timezone.now()
    for _ in range(4):
        alertmail.note(NODATA.pk, "Silence", "57038", _entity(1), now)
    window = AlertMailWindow.objects.get()
    assert (window.pending_count, window.pending_sample) == (3, [_entity(1)])


def test_a_window_of_zero_mails_every_alert(agent_audun, settings):
    settings.ALZETTE_ALERT_MAIL_WINDOW_MINUTES = 0
    for number in range(3):
        _fire(NODATA, number)
    assert len(mail.outbox) == 3
    assert not AlertMailWindow.objects.exists()


def test_digests_are_in_each_recipients_language(agent_audun, agent_epci):
    agent_audun.preferred_language = "de"
    agent_audun.save()
    _fire(NODATA, 0)
    _fire(NODATA, 1)
    _age_windows()
    mail.outbox.clear()
    _digests()
    assert sorted(tuple(m.to) for m in mail.outbox) == [(agent_audun.email,), (agent_epci.email,)]


def test_the_worker_job_and_the_command(agent_audun, capsys):
    job = next(j for j in jobs.JOBS if j.name == "alert-mail-digests")
    assert job.command == ("accounts", "alert-digests") and job.schedule == {"minute": "*"}
    assert not jobs.problems((job,))
    _fire(NODATA, 0)
    _fire(NODATA, 1)
    _age_windows()
    call_command("accounts", "alert-digests")
    assert capsys.readouterr().out.strip() == "1 alert digest(s) sent, 0 to retry"
    assert len(mail.outbox) == 2


# --- Messages some agents did not get -----------------------------------------------------


class GermanFailingBackend(locmem.EmailBackend):
    """A mail server that refuses the German messages (one language's batch) only."""

    def send_messages(self, messages):
        if any(m.subject.startswith("[Alzette] Alarm") or "weitere" in m.subject
               for m in messages):  # fmt: skip
            raise smtplib.SMTPRecipientsRefused({})
        return super().send_messages(messages)


@pytest.fixture
def german_audun(agent_audun, agent_epci, settings):
    agent_audun.preferred_language = "de"
    agent_audun.save()
    settings.EMAIL_BACKEND = f"{__name__}.GermanFailingBackend"
    return agent_audun


def _working(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_an_alert_mail_refused_in_one_language_is_owed_to_those_agents_only(
    german_audun, agent_epci, settings
):
    _fire(NODATA, 0)
    assert [m.to for m in mail.outbox] == [[agent_epci.email]]  # French went out
    owed = AlertMailOwed.objects.get()
    assert owed.recipients == [[german_audun.email, "de"]]
    assert (owed.count, owed.sample, owed.attempts) == (1, [_entity(0)], 1)
    assert alertmail.retry_owed(timezone.now()) == (0, 0)  # not due yet
    _working(settings)
    mail.outbox.clear()
    assert alertmail.retry_owed(owed.next_attempt_at) == (1, 0)
    assert [m.to for m in mail.outbox] == [[german_audun.email]]
    assert _entity(0) in mail.outbox[0].body and "weitere" in mail.outbox[0].subject
    assert not AlertMailOwed.objects.exists()


def test_a_digest_refused_in_one_language_stays_owed_not_back_in_the_window(
    german_audun, agent_epci, settings
):
    _working(settings)
    _fire(NODATA, 0)
    _fire(NODATA, 1)
    _fire(NODATA, 2)
    _age_windows()
    settings.EMAIL_BACKEND = f"{__name__}.GermanFailingBackend"
    mail.outbox.clear()
    assert _digests() == "1 alert digest(s) sent, 0 to retry"
    assert [m.to for m in mail.outbox] == [[agent_epci.email]]
    assert AlertMailWindow.objects.get().pending_count == 0  # the French one is not resent
    owed = AlertMailOwed.objects.get()
    assert (owed.recipients, owed.count) == ([[german_audun.email, "de"]], 2)


def test_owed_mails_back_off_and_are_given_up_after_the_last_attempt(german_audun, caplog):
    _fire(NODATA, 0)
    owed = AlertMailOwed.objects.get()
    delays = []
    for attempt in range(2, alertmail.MAX_ATTEMPTS + 1):
        due = owed.next_attempt_at
        assert alertmail.retry_owed(due) == (0, 1)
        assert alertmail.retry_owed(due) == (0, 0)  # claimed: a second worker skips it
        owed.refresh_from_db()
        assert owed.attempts == attempt
        delays.append(owed.next_attempt_at - due)
    assert delays[:3] == [timedelta(minutes=4), timedelta(minutes=8), timedelta(minutes=16)]
    assert max(delays) == alertmail.MAX_DELAY
    with caplog.at_level(logging.ERROR, logger="alzette.personal.accounts.alertmail"):
        assert alertmail.retry_owed(owed.next_attempt_at) == (1, 0)
    assert "given up" in caplog.text
    assert not AlertMailOwed.objects.exists()


def test_an_agent_who_left_the_unit_is_not_owed_the_mail(german_audun, settings):
    _fire(NODATA, 0)
    german_audun.is_active = False
    german_audun.save()
    _working(settings)
    mail.outbox.clear()
    assert alertmail.retry_owed(AlertMailOwed.objects.get().next_attempt_at) == (1, 0)
    assert mail.outbox == [] and not AlertMailOwed.objects.exists()


def test_the_digest_job_retries_owed_mails(german_audun, settings, capsys):
    _fire(NODATA, 0)
    _working(settings)
    AlertMailOwed.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    call_command("accounts", "alert-digests")
    out = capsys.readouterr().out.strip()
    assert out == "0 alert digest(s) sent, 0 to retry; owed e-mails: 1 done, 0 still owed"
