"""The identity providers this platform offers, from settings (registry of two)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from alzette.personal.identity.models import Provider
from alzette.personal.identity.oidc import ProviderSettings

_SETTINGS_PREFIX = {Provider.FRANCECONNECT: "FRANCECONNECT", Provider.PROCONNECT: "PROCONNECT"}


def provider_settings(slug: str, request: HttpRequest) -> ProviderSettings | None:
    """The configured provider ``slug``, or None when it is not offered here.

    Outside production an empty issuer points at the built-in simulator of the
    request's own origin, so the demo works on any loopback host and port.
    """
    prefix = _SETTINGS_PREFIX.get(slug)
    if prefix is None:
        return None
    issuer = getattr(settings, f"ALZETTE_{prefix}_ISSUER")
    if not issuer and getattr(settings, "ALZETTE_DEV_IDP", False):
        issuer = request.build_absolute_uri(f"/dev-idp/{slug}")
    client_id = getattr(settings, f"ALZETTE_{prefix}_CLIENT_ID")
    secret = getattr(settings, f"ALZETTE_{prefix}_CLIENT_SECRET")
    if not (issuer and client_id and secret):
        return None
    return ProviderSettings(
        slug=slug,
        name=Provider(slug).label,
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        client_secret=secret,
        scopes=getattr(settings, f"ALZETTE_{prefix}_SCOPES"),
        acr_values=getattr(settings, f"ALZETTE_{prefix}_ACR"),
    )


def offered(request: HttpRequest) -> list[ProviderSettings]:
    """Providers to show on the sign-in page."""
    found = (provider_settings(slug, request) for slug in _SETTINGS_PREFIX)
    return [provider for provider in found if provider is not None]
