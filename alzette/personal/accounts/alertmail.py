"""E-mails for supervision alerts, sent from the personal side.

The territory's alert engine knows no person: it sends ``alert_fired`` with the
alert, whose rule names an organisational unit by code. Here, where addresses
live, the active agents of that unit (and of its services) and the EPCI's agents
receive a short message with a link to the alerts page, each in their own
language. Connected in ``AccountsConfig.ready``; a mail failure never reaches the
engine.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext

from alzette.core.mail import Recipient, send_in_language
from alzette.personal.accounts.models import Role, UnitKind, User


def recipients(unit_code: str) -> list[Recipient]:
    """Addresses and languages of the active agents of a unit, its sub-units, and the
    EPCI."""
    agents = User.objects.filter(is_active=True, role=Role.AGENT).filter(
        Q(unit__code=unit_code) | Q(unit__parent__code=unit_code) | Q(unit__kind=UnitKind.EPCI)
    )
    rows = agents.exclude(email="").values_list("email", "preferred_language")
    return sorted(set(rows))


def on_alert_fired(sender: Any, alert: Any, **kwargs: Any) -> None:
    """Receiver of ``supervision.alerts.alert_fired``."""
    base = getattr(settings, "ALZETTE_PUBLIC_URL", "").rstrip("/")

    def build() -> tuple[str, str]:
        subject = gettext("[Alzette] Alert: %(rule)s") % {"rule": alert.rule.name}
        body = gettext(
            "%(message)s\n\nEntity: %(entity)s\nSeverity: %(severity)s\nFired: %(at)s\n\n"
            "Acknowledge or close it: %(url)s\n"
        ) % {
            "message": alert.message, "entity": alert.entity_id,
            "severity": alert.rule.get_severity_display(), "at": alert.fired_at.isoformat(),
            "url": f"{base}/hypervision/supervision/alerts/",
        }  # fmt: skip
        return subject, body

    # A mail server down never loses the alert: it is shown in-app anyway.
    send_in_language(recipients(alert.rule.unit), build, context=f"alert {alert.pk}")


def connect() -> None:
    from alzette.territory.supervision import alerts

    alerts.alert_fired.connect(on_alert_fired, dispatch_uid="accounts-alertmail")
