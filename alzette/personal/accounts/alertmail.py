"""E-mails for supervision alerts, sent from the personal side.

The territory's alert engine knows no person: it sends ``alert_fired`` with the
alert, whose rule names an organisational unit by code. Here, where addresses
live, the active agents of that unit (and of its services) and the EPCI's agents
receive a short message with a link to the alerts page, each in their own
language. Connected in ``AccountsConfig.ready``; a mail failure never reaches the
engine.

**Throttled per rule.** A network outage can make one "no data" rule fire
thousands of alerts in one check. The first alert of a rule opens a window of
``ALZETTE_ALERT_MAIL_WINDOW_MINUTES`` (15) and is mailed at once; the rule's
further alerts within the window are only counted (``AlertMailWindow``, with a
sample of their entity ids) and go out as one digest when the window is over:
``send_due_digests``, run by the worker every minute (``alzette accounts
alert-digests``), or the rule's next alert, whichever comes first. The window lives
in the personal database, updated under a row lock, because several web and worker
processes fire alerts. A burst fired together (``alerts_fired``) updates it once.

**Owed messages.** When the mail server refuses only some languages' messages, the
agents who did not get theirs are owed it (``AlertMailOwed``) and the same job
retries it for them only, with a growing delay, then gives up (logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from alzette.core.mail import Build, Recipient, send_in_language
from alzette.core.repositories import PERSONAL
from alzette.personal.accounts.models import (
    AlertMailOwed,
    AlertMailWindow,
    Role,
    UnitKind,
    User,
)

log = logging.getLogger(__name__)

#: How many entity ids a digest lists; it counts all the others.
SAMPLE_SIZE = 20
#: An e-mail some agents did not get is retried this many times, then given up.
MAX_ATTEMPTS = 12
#: The longest wait between two attempts.
MAX_DELAY = timedelta(hours=1)
ALERTS_PATH = "/hypervision/supervision/alerts/"


@dataclass(frozen=True)
class Digest:
    """The alerts of one rule not mailed one by one, taken out of their window."""

    rule_id: int
    rule_name: str
    unit: str
    since: datetime
    count: int
    sample: tuple[str, ...]


def recipients(unit_code: str) -> list[Recipient]:
    """Addresses and languages of the active agents of a unit, its sub-units, and the
    EPCI."""
    agents = User.objects.filter(is_active=True, role=Role.AGENT).filter(
        Q(unit__code=unit_code) | Q(unit__parent__code=unit_code) | Q(unit__kind=UnitKind.EPCI)
    )
    rows = agents.exclude(email="").values_list("email", "preferred_language")
    return sorted(set(rows))


def window() -> timedelta:
    """How long after a mailed alert the rule's next alerts wait for the digest."""
    return timedelta(minutes=getattr(settings, "ALZETTE_ALERT_MAIL_WINDOW_MINUTES", 15))


def on_alert_fired(sender: Any, alert: Any, **kwargs: Any) -> None:
    """Receiver of ``supervision.alerts.alert_fired``: mail the alert, or count it for
    its rule's digest."""
    on_alerts_fired(sender, [alert])


def on_alerts_fired(sender: Any, alerts: list[Any], **kwargs: Any) -> None:
    """Receiver of ``supervision.alerts.alerts_fired`` (a burst): per rule, one window
    update; the first alert is mailed if it opens a window, the others wait for the
    digest."""
    by_rule: dict[Any, list[Any]] = {}
    for alert in alerts:
        by_rule.setdefault(getattr(alert.rule, "pk", None), []).append(alert)
    for rule_id, group in by_rule.items():
        if rule_id is None or window() <= timedelta(0):  # nothing to throttle on
            for alert in group:
                mail_alert(alert)
            continue
        rule = group[0].rule
        ids = [alert.entity_id for alert in group]
        opens, earlier = note(rule_id, rule.name, rule.unit, ids, timezone.now())
        if opens:
            mail_alert(group[0])
        if earlier is not None:  # the previous window's digest, not sent by the job yet
            send_digest(earlier)


def note(
    rule_id: int, rule_name: str, unit: str, entity_ids: str | list[str], now: datetime
) -> tuple[bool, Digest | None]:
    """Record alerts (one entity id or several, fired together) in their rule's window.
    Returns whether the first opens a new window (mail it now; the others are then
    pending in it), and the digest of the previous window's alerts if they are still
    pending."""
    ids = [entity_ids] if isinstance(entity_ids, str) else list(entity_ids)
    with transaction.atomic(using=PERSONAL):
        row = _locked(rule_id)
        if row is None:
            try:
                with transaction.atomic(using=PERSONAL):
                    row = AlertMailWindow.objects.create(
                        rule_id=rule_id, rule_name=rule_name, unit=unit, opened_at=now
                    )
                    if len(ids) > 1:
                        _pend(row, ids[1:], now)
                return True, None
            except IntegrityError:  # another process opened it a moment ago: wait for it
                row = AlertMailWindow.objects.select_for_update().get(rule_id=rule_id)
        row.rule_name, row.unit = rule_name, unit
        if row.opened_at > now - window():
            _pend(row, ids, now)
            return False, None
        earlier = _take(row) if row.pending_count else None
        row.opened_at = now
        _pend(row, ids[1:], now)
        return True, earlier


def _pend(row: AlertMailWindow, entity_ids: list[str], now: datetime) -> None:
    """Count alerts as pending in the row's window (with a sample of their entities),
    and save the row."""
    if entity_ids:
        row.pending_count += len(entity_ids)
        row.pending_since = row.pending_since or now
        room = SAMPLE_SIZE - len(row.pending_sample)
        fresh = [e for e in dict.fromkeys(entity_ids) if e not in row.pending_sample]
        row.pending_sample = [*row.pending_sample, *fresh[: max(room, 0)]]
    row.save()


def mail_alert(alert: Any) -> int:
    """Mail one alert to its rule's unit; how many addresses were written to."""
    base = getattr(settings, "ALZETTE_PUBLIC_URL", "").rstrip("/")

    def build() -> tuple[str, str]:
        subject = gettext("[Alzette] Alert: %(rule)s") % {"rule": alert.rule.name}
        body = gettext(
            "%(message)s\n\nEntity: %(entity)s\nSeverity: %(severity)s\nFired: %(at)s\n\n"
            "Acknowledge or close it: %(url)s\n"
        ) % {
            "message": alert.message, "entity": alert.entity_id,
            "severity": alert.rule.get_severity_display(), "at": alert.fired_at.isoformat(),
            "url": f"{base}{ALERTS_PATH}",
        }  # fmt: skip
        return subject, body

    # A mail server down never loses the alert: it is shown in-app anyway, and the
    # agents whose message failed get it later, as a digest of one.
    unsent: list[Recipient] = []
    sent = send_in_language(
        recipients(alert.rule.unit), build, context=f"alert {alert.pk}", unsent=unsent
    )
    if unsent and getattr(alert.rule, "pk", None) is not None:
        one = Digest(rule_id=alert.rule.pk, rule_name=alert.rule.name, unit=alert.rule.unit,
                     since=alert.fired_at, count=1, sample=(alert.entity_id,))  # fmt: skip
        owe(one, unsent)
    return sent


def send_due_digests(now: datetime | None = None) -> str:
    """Send the digest of every rule whose window is over with alerts not yet mailed (the
    worker's job). A digest nobody could be sent is put back, for the next run."""
    now = now or timezone.now()
    due = AlertMailWindow.objects.filter(pending_count__gt=0, opened_at__lte=now - window())
    sent = failed = 0
    for rule_id in due.values_list("rule_id", flat=True):
        digest = claim(rule_id, now)
        if digest is None:  # taken by the rule's next alert meanwhile
            continue
        if send_digest(digest):
            sent += 1
        else:
            failed += 1
    summary = f"{sent} alert digest(s) sent, {failed} to retry"
    reached, owed = retry_owed(now)
    if reached or owed:
        summary += f"; owed e-mails: {reached} done, {owed} still owed"
    return summary


def claim(rule_id: int, now: datetime) -> Digest | None:
    """Take the rule's pending alerts out of its window if the window is over: the
    conditional update under a row lock that makes two senders never send the same
    alerts."""
    with transaction.atomic(using=PERSONAL):
        row = _locked(rule_id)
        if row is None or not row.pending_count or row.opened_at > now - window():
            return None
        digest = _take(row)
        row.save()
        return digest


def send_digest(digest: Digest) -> bool:
    """Mail a digest to its rule's unit. False when no message could be sent (the mail
    server down): its alerts are then back in the window, for the next run."""
    addresses = recipients(digest.unit)
    if not addresses:  # nobody to tell: nothing to keep either
        return True
    context = f"alert digest of rule {digest.rule_id}"
    unsent: list[Recipient] = []
    send_in_language(addresses, _digest_message(digest), context=context, unsent=unsent)
    if not unsent:
        return True
    if len(unsent) < len(addresses):  # some languages went out: the others are owed
        owe(digest, unsent)
        return True
    _put_back(digest)
    return False


def owe(digest: Digest, unsent: list[Recipient], now: datetime | None = None) -> AlertMailOwed:
    """Keep a message some recipients did not get, to retry for them only."""
    now = now or timezone.now()
    return AlertMailOwed.objects.create(
        rule_id=digest.rule_id, rule_name=digest.rule_name, unit=digest.unit,
        since=digest.since, count=digest.count, sample=list(digest.sample),
        recipients=[list(r) for r in sorted(set(unsent))], next_attempt_at=now + _delay(1),
    )  # fmt: skip


def retry_owed(now: datetime | None = None) -> tuple[int, int]:
    """Send the owed messages that are due, to their recipients still agents of the
    unit; ``(reached, still owed)`` counts of messages."""
    now = now or timezone.now()
    reached = owed = 0
    for row in AlertMailOwed.objects.filter(next_attempt_at__lte=now).order_by("pk"):
        # The conditional update claims the attempt: two workers never send it twice.
        claimed = AlertMailOwed.objects.filter(pk=row.pk, attempts=row.attempts).update(
            attempts=row.attempts + 1, next_attempt_at=now + _delay(row.attempts + 1)
        )
        if not claimed:
            continue
        if _retry(row, now):
            reached += 1
        else:
            owed += 1
    return reached, owed


def _retry(row: AlertMailOwed, now: datetime) -> bool:
    """One attempt at an owed message; True once nobody is owed it any more."""
    current = {address for address, _ in recipients(row.unit)}
    todo = [(a, lang) for a, lang in row.recipients if a in current]  # left the unit: skip
    digest = Digest(rule_id=row.rule_id, rule_name=row.rule_name, unit=row.unit,
                    since=row.since, count=row.count, sample=tuple(row.sample))  # fmt: skip
    unsent: list[Recipient] = []
    if todo:
        context = f"owed alert e-mail of rule {row.rule_id}"
        send_in_language(todo, _digest_message(digest), context=context, unsent=unsent)
    if not unsent:
        row.delete()
        return True
    if row.attempts + 1 > MAX_ATTEMPTS:
        log.error("alert e-mail of rule %s given up for %d address(es) after %d attempts",
                  row.rule_id, len(unsent), MAX_ATTEMPTS)  # fmt: skip
        row.delete()
        return True
    AlertMailOwed.objects.filter(pk=row.pk).update(recipients=[list(r) for r in unsent])
    return False


def _delay(attempts: int) -> timedelta:
    """Minutes doubling from 2 after each failed attempt, at most an hour."""
    return min(timedelta(minutes=2**attempts), MAX_DELAY)


def _digest_message(digest: Digest) -> Build:
    base = getattr(settings, "ALZETTE_PUBLIC_URL", "").rstrip("/")

    def build() -> tuple[str, str]:
        values = {
            "count": digest.count, "rule": digest.rule_name,
            "since": timezone.localtime(digest.since).strftime("%H:%M"),
        }  # fmt: skip
        subject = (
            ngettext(
                "[Alzette] %(count)s more alert: %(rule)s",
                "[Alzette] %(count)s more alerts: %(rule)s",
                digest.count,
            )
            % values
        )
        lines = [
            ngettext(
                "%(count)s more alert of the rule %(rule)s since %(since)s:",
                "%(count)s more alerts of the rule %(rule)s since %(since)s:",
                digest.count,
            )
            % values,
            "",
            *(f"- {entity}" for entity in digest.sample),
        ]
        others = digest.count - len(digest.sample)
        if others > 0:
            lines.append(
                ngettext("… and %(others)s more alert.", "… and %(others)s more alerts.", others)
                % {"others": others}
            )
        url = f"{base}{ALERTS_PATH}?rule={digest.rule_id}"  # the page filters by rule
        see = gettext("Acknowledge or close them: %(url)s") % {"url": url}
        return subject, "\n".join([*lines, "", see, ""])

    return build


def _locked(rule_id: int) -> AlertMailWindow | None:
    return AlertMailWindow.objects.select_for_update().filter(rule_id=rule_id).first()


def _take(row: AlertMailWindow) -> Digest:
    """The row's pending alerts as a digest; the row is emptied (not saved)."""
    digest = Digest(
        rule_id=row.rule_id, rule_name=row.rule_name, unit=row.unit,
        since=row.pending_since or row.opened_at, count=row.pending_count,
        sample=tuple(row.pending_sample),
    )  # fmt: skip
    row.pending_count, row.pending_since, row.pending_sample = 0, None, []
    return digest


def _put_back(digest: Digest) -> None:
    """Return a digest's alerts to their window (added to any that came meanwhile)."""
    with transaction.atomic(using=PERSONAL):
        row = _locked(digest.rule_id)
        if row is None:
            return
        row.pending_count += digest.count
        row.pending_since = min(filter(None, (row.pending_since, digest.since)))
        row.pending_sample = list(dict.fromkeys([*digest.sample, *row.pending_sample]))[
            :SAMPLE_SIZE
        ]
        row.save()
    log.warning("alert digest of rule %s kept for the next run", digest.rule_id)


def connect() -> None:
    from alzette.territory.supervision import alerts

    alerts.alert_fired.connect(on_alert_fired, dispatch_uid="accounts-alertmail")
    alerts.alerts_fired.connect(on_alerts_fired, dispatch_uid="accounts-alertmail-burst")
