"""Connected services: the third-party services the person lets sign them in (single sign-on).

Read from django-oauth-toolkit's tokens (``oauth2_provider``, the platform's
OpenID Provider): a service is connected while the person holds an unexpired
access token or an unrevoked refresh token for it. "Since" is the creation date
of the oldest token the platform still keeps for that service and person.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Min
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.widget import Widget


class ConnectedServicesWidget(Widget):
    slug = "connected-services"
    title = _("Connected services")
    description = _("The services you let sign you in with your Alzette account, and since when.")
    template_name = "dashboard/widgets/connected.html"

    def available(self, user: Any) -> bool:
        return apps.is_installed("oauth2_provider")

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        try:
            manage_url = reverse("sso:services")  # the single sign-on app's own page
        except NoReverseMatch:
            manage_url = None
        return {"services": connected_services(user), "manage_url": manage_url}


def connected_services(user: Any) -> list[dict[str, Any]]:
    """[{"name", "since"}] of the applications ``user`` has authorised, by name."""
    from oauth2_provider.models import (
        get_access_token_model,
        get_application_model,
        get_refresh_token_model,
    )

    access_tokens = get_access_token_model().objects.filter(user=user, application__isnull=False)
    refresh_tokens = get_refresh_token_model().objects.filter(user=user)
    now = timezone.now()
    live = set(
        access_tokens.filter(expires__gt=now).values_list("application_id", flat=True)
    ) | set(refresh_tokens.filter(revoked__isnull=True).values_list("application_id", flat=True))
    if not live:
        return []
    since: dict[Any, Any] = {}
    for tokens in (access_tokens, refresh_tokens):
        for row in (
            tokens.filter(application_id__in=live)
            .order_by()
            .values("application_id")
            .annotate(first=Min("created"))
        ):
            known = since.get(row["application_id"])
            since[row["application_id"]] = min(known, row["first"]) if known else row["first"]
    applications = get_application_model().objects.filter(pk__in=live)
    return sorted(
        (
            {"name": application.name, "since": since.get(application.pk)}
            for application in applications
        ),
        key=lambda service: (service["name"] or "").casefold(),
    )
