"""My account security: second factor, e-mail address, linked FranceConnect or ProConnect."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from alzette.personal.accounts.models import Role
from alzette.personal.dashboard.widget import Widget
from alzette.personal.identity.models import FederatedIdentity, Provider
from alzette.personal.identity.providers import offered

#: Roles that sign in with ProConnect (agents); the others may link FranceConnect.
PROFESSIONAL_ROLES = (Role.AGENT, Role.ADMINISTRATOR)


class AccountSecurityWidget(Widget):
    slug = "account-security"
    title = _("My account security")
    description = _(
        "Whether your second factor is set up, your e-mail address confirmed, and which "
        "FranceConnect or ProConnect identities are linked to your account."
    )
    template_name = "dashboard/widgets/security.html"

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        address = (
            EmailAddress.objects.filter(user=user)
            .order_by("-primary", "-verified", "email")
            .first()
        )
        identities = list(FederatedIdentity.objects.filter(user=user).order_by("provider"))
        linked = {identity.provider for identity in identities}
        providers = {provider.slug: provider for provider in offered(request)}
        professional = user.role in PROFESSIONAL_ROLES
        return {
            "totp": totp,
            "email": address.email if address else user.email,
            "email_verified": bool(address and address.verified),
            "identities": identities,
            "franceconnect": (
                providers.get(Provider.FRANCECONNECT)
                if not professional and Provider.FRANCECONNECT not in linked
                else None
            ),
            "proconnect": (
                providers.get(Provider.PROCONNECT)
                if professional and Provider.PROCONNECT not in linked
                else None
            ),
        }
