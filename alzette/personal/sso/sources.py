"""What "my data" shows of single sign-on: the consents given to services.

Registered as the "sso_services" category by ``SsoConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.sso.models import Consent


def connected_services(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "service": consent.application.name or consent.application.client_id,
            "scopes": consent.scope,
            "given_at": consent.updated_at,
        }
        for consent in Consent.objects.filter(user=user).select_related("application")
    ]


def data_source() -> Any:
    from alzette.personal.mydata.services import DataSource

    return DataSource(
        "alzette.personal.sso.sources.connected_services",
        _("Connected services"),
        {
            "service": _("Service name"),
            "scopes": _("Scopes"),
            "given_at": _("Consent given"),
        },
        _("The services you sign in to with your Alzette account, and what they may receive."),
    )
