"""What "my data" shows of the service store: the link-only services kept at hand.

Services that sign people in are listed with their consents (``sso.sources``).
Registered as the "store_services" category by ``StoreConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.store.models import Activation


def activated_services(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "service": activation.service.local_name(),
            "provider": activation.service.provider.name,
            "activated_at": activation.created_at,
        }
        for activation in Activation.objects.filter(user=user).select_related("service__provider")
    ]


def data_source() -> Any:
    from alzette.personal.mydata.services import DataSource

    return DataSource(
        "alzette.personal.store.sources.activated_services",
        _("Services kept at hand"),
        {
            "service": _("Service name"),
            "provider": _("Provider"),
            "activated_at": _("Activated on"),
        },
        _("The services of the store you activated that receive nothing from your account."),
    )
