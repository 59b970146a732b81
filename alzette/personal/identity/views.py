"""FranceConnect and ProConnect sign-in, callback and sign-out (thin adapters)."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.internal.flows.login import perform_login
from allauth.account.models import Login
from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alzette.personal.identity import oidc, services
from alzette.personal.identity.models import Provider
from alzette.personal.identity.providers import provider_settings

PENDING = "oidc_pending"  # session: state -> sign-in in progress
SIGNED_IN = "oidc_signed_in"  # session: {provider, id_token} for the provider's logout
LOGOUT_STATE = "oidc_logout_state"
PENDING_TTL = 600  # seconds a started sign-in stays valid


def _provider(request: HttpRequest, slug: str) -> oidc.ProviderSettings:
    provider = provider_settings(slug, request)
    if provider is None:
        raise Http404("This identity provider is not offered here.")
    return provider


def _callback_uri(request: HttpRequest, slug: str) -> str:
    return request.build_absolute_uri(reverse("identity_callback", args=[slug]))


def _error(request: HttpRequest, provider: str, reason: str, status: int = 400) -> HttpResponse:
    return render(
        request, "identity/error.html", {"provider": provider, "reason": reason}, status=status
    )


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the browser to the provider, remembering a fresh state and nonce."""
    provider = _provider(request, slug)
    try:
        discovery = oidc.discover(provider.issuer)
    except oidc.OidcError as exc:
        return _error(request, provider.name, exc.reason, status=502)
    state, nonce = oidc.random_token(), oidc.random_token()
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    pending = _pending(request)
    pending[state] = {
        "provider": slug,
        "nonce": nonce,
        "next": next_url,
        "link": request.user.is_authenticated,
        "at": time.time(),
    }
    request.session[PENDING] = pending
    return redirect(
        oidc.authorization_url(provider, discovery, _callback_uri(request, slug), state, nonce)
    )


def _pending(request: HttpRequest) -> dict[str, Any]:
    now = time.time()
    return {
        state: value
        for state, value in request.session.get(PENDING, {}).items()
        if now - value["at"] < PENDING_TTL
    }


@require_GET
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    """Check the provider's answer, sign the person in (or link the identity)."""
    provider = _provider(request, slug)
    pending = _pending(request)
    started = pending.pop(request.GET.get("state", ""), None)
    request.session[PENDING] = pending  # single use, whatever happens next
    if started is None or started["provider"] != slug:
        return _error(
            request,
            provider.name,
            _("This sign-in is unknown, expired or was already used. Please start again."),
        )
    if "error" in request.GET:
        return _provider_error(request, provider.name, request.GET["error"])
    code = request.GET.get("code", "")
    if not code:
        return _error(request, provider.name, _("The identity provider sent no code."))
    try:
        discovery = oidc.discover(provider.issuer)
        result = oidc.complete(
            provider,
            discovery,
            code=code,
            redirect_uri=_callback_uri(request, slug),
            nonce=started["nonce"],
            callback_issuer=request.GET.get("iss"),
        )
        outcome = _sign_in(request, slug, result, started["link"])
    except oidc.OidcError as exc:
        return _error(request, provider.name, exc.reason)
    except services.SignInRefused as exc:
        return _error(request, provider.name, exc.reason, status=403)
    request.session[SIGNED_IN] = {"provider": slug, "id_token": result.id_token}
    if started["link"]:
        return redirect(started["next"] or "home")
    return perform_login(
        request,
        Login(
            user=outcome.user,
            email_verification="none",
            redirect_url=started["next"] or reverse("home"),
        ),
    )


def _sign_in(request: HttpRequest, slug: str, result: oidc.SignIn, link: bool) -> Any:
    claims = {**result.userinfo, "sub": result.id_claims["sub"]}
    if slug == Provider.FRANCECONNECT:
        return services.franceconnect_sign_in(claims, request.user if link else None)
    return services.proconnect_sign_in(
        claims, settings.ALZETTE_PROCONNECT_DOMAINS, request.user if link else None
    )


def _provider_error(request: HttpRequest, name: str, error: str) -> HttpResponse:
    if error == "access_denied":
        return _error(
            request, name, _("You cancelled the sign-in. Nothing was shared."), status=200
        )
    return _error(
        request,
        name,
        _("The identity provider could not sign you in (%(error)s).") % {"error": error[:64]},
    )


@require_POST
def sign_out(request: HttpRequest, slug: str) -> HttpResponse:
    """Sign out here, then at the provider (RP-initiated logout with id_token_hint)."""
    provider = _provider(request, slug)
    signed_in = request.session.get(SIGNED_IN) or {}
    logout(request)
    if signed_in.get("provider") != slug:
        return redirect("home")
    try:
        discovery = oidc.discover(provider.issuer)
    except oidc.OidcError:
        return redirect("home")  # signed out here; the provider's session will expire
    state = oidc.random_token()
    request.session[LOGOUT_STATE] = state
    return HttpResponseRedirect(
        oidc.end_session_url(
            discovery,
            signed_in["id_token"],
            state,
            request.build_absolute_uri(reverse("identity_logged_out", args=[slug])),
        )
    )


@require_GET
def logged_out(request: HttpRequest, slug: str) -> HttpResponse:
    """The provider sends the browser back here after its own logout."""
    provider = _provider(request, slug)
    expected = request.session.pop(LOGOUT_STATE, None)
    if not expected or request.GET.get("state") != expected:
        return _error(request, provider.name, _("This sign-out confirmation is unknown."))
    return redirect("home")
