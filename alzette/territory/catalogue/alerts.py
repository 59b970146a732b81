"""Telling the operators that a dataset stopped refreshing, and that it recovered.

``services.refresh`` calls these on the two transitions only (``Dataset.failing_since``
set, then cleared), so a source down for a day sends two messages, not one per
five-minute retry. E-mail goes to ``ALZETTE_CATALOGUE_ALERT_EMAILS`` (the addresses
of ``ADMINS`` when empty), each in the language of the account holding the address
when there is one (``alzette.core.mail.languages_of``: the personal side answers the
language, nothing else), else in the platform's default; a mail server that fails is
logged, never raised, so the refresh's own bookkeeping is not undone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from alzette.core import mail
from alzette.territory.catalogue.models import Dataset

log = logging.getLogger(__name__)


def recipients() -> list[str]:
    configured = list(getattr(settings, "ALZETTE_CATALOGUE_ALERT_EMAILS", []) or [])
    return configured or [address for _name, address in getattr(settings, "ADMINS", [])]


def failed(dataset: Dataset, error: str) -> None:
    """The first failed refresh after a success."""
    log.error("catalogue refresh of %s failed, the last good snapshot is served: %s",
              dataset.identifier, error, extra={"dataset": dataset.identifier})  # fmt: skip

    def build() -> tuple[str, str]:
        subject = _("Dataset %(identifier)s: refresh failed") % {"identifier": dataset.identifier}
        if dataset.refreshed_at is not None:
            kept = _("Downloads keep serving the last good version, of %(good)s.") % {
                "good": _when(dataset.refreshed_at)
            }
        else:
            kept = _("There is no good version yet: downloads read the source directly.")
        body = _(
            "The refresh of the dataset %(identifier)s failed at %(when)s:\n\n%(error)s\n\n"
            "%(kept)s The refresh is retried on schedule; you will be told when it works "
            "again.\nRetry now with: alzette catalogue refresh %(identifier)s"
        ) % {"identifier": dataset.identifier, "when": _when(dataset.failing_since),
             "error": error, "kept": kept}  # fmt: skip
        return subject, body

    _send(build, dataset)


def recovered(dataset: Dataset, since: object) -> None:
    """The first successful refresh after failures (``since``: when they started)."""
    log.warning("catalogue refresh of %s works again", dataset.identifier,
                extra={"dataset": dataset.identifier})  # fmt: skip

    def build() -> tuple[str, str]:
        subject = _("Dataset %(identifier)s: refresh works again") % {
            "identifier": dataset.identifier
        }
        body = _(
            "The dataset %(identifier)s was refreshed at %(when)s (%(rows)s rows), after "
            "failing since %(since)s. Downloads serve the new version."
        ) % {"identifier": dataset.identifier, "when": _when(dataset.refreshed_at),
             "rows": dataset.row_count, "since": _when(since)}  # fmt: skip
        return subject, body

    _send(build, dataset)


def _send(build: mail.Build, dataset: Dataset) -> None:
    def prefixed() -> tuple[str, str]:
        subject, body = build()
        return f"[Alzette] {subject}", body

    # The alert is also in the log; the refresh must not fail on mail (errors are logged).
    mail.send_in_language(
        mail.languages_of(recipients()),
        prefixed,
        context=f"catalogue alert for {dataset.identifier}",
        send=send_mail,  # looked up here, so that tests can stand in for the mail server
    )


def _when(moment: object) -> str:
    return moment.isoformat(timespec="minutes") if hasattr(moment, "isoformat") else "—"
