"""My services: the services the person activated in the service store, and those
they let sign them in with their Alzette account (a consent to a single sign-on
client given on the consent screen, outside the store).

Read from the store (``store.services.active_services``), which reads the
consents (``sso.Consent``) and the store's own activations: a service is listed
from the moment it is activated until it is deactivated or its consent withdrawn.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.widget import Widget


class ConnectedServicesWidget(Widget):
    slug = "connected-services"
    title = _("My services")
    description = _("The services you activated, and since when; find more in the service store.")
    template_name = "dashboard/widgets/connected.html"

    def available(self, user: Any) -> bool:
        return apps.is_installed("alzette.personal.store")

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        return {
            "services": connected_services(user),
            "store_url": reverse("store:index"),
            "manage_url": reverse("sso:services"),
        }


def connected_services(user: Any) -> list[dict[str, Any]]:
    """[{"name", "since", "url", "page"}] of what ``user`` activated, by name."""
    from alzette.personal.store.services import active_services

    return [
        {
            "name": item.name,
            "since": item.since,
            "url": item.url,
            "page": reverse("store:detail", args=[item.service.slug]) if item.service else "",
        }
        for item in active_services(user)
    ]
