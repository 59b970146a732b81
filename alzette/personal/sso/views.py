"""Pages and endpoints of the OpenID Provider: thin adapters over DOT and ``services``.

DOT's own views serve the token, revocation, userinfo and JWKS endpoints
unchanged. Subclassed here: the authorization endpoint (the consent screen),
discovery (what this provider really supports) and RP-initiated logout (its
page). The "connected services" page lets a person withdraw a consent.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import (
    AuthorizationView,
    ConnectDiscoveryInfoView,
    RPInitiatedLogoutView,
    UserInfoView,
)
from oauthlib.oauth2.rfc6749.errors import ConsentRequired

from alzette.personal.sso import services
from alzette.personal.sso.conf import SCOPES
from alzette.personal.sso.models import Consent


def _invalid_request() -> str:
    return gettext("This request is not valid. Go back to the service and try again.")


def _ui_locale(request: HttpRequest) -> None:
    """Honour the service's ``ui_locales`` unless the person chose a language here."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    supported = {code for code, _name in settings.LANGUAGES}
    for tag in request.GET.get("ui_locales", "").split():
        language = tag.split("-")[0].lower()
        if language in supported:
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return


class ConsentView(AuthorizationView):
    """The authorization endpoint: asks the signed-in person whether to share, with
    which service, what (each scope described in their language).

    A consent is remembered: the screen comes back only when the service asks for
    more, or sends ``prompt=consent``. ``prompt=none`` without a remembered consent
    gets ``consent_required``. Allow and Deny post the form (CSRF-protected);
    Deny sends ``access_denied`` back to the service.
    """

    template_name = "sso/consent.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _ui_locale(request)
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        prompt = set(request.GET.get("prompt", "").split())
        if "create" in prompt and (response := self.handle_prompt_create()) is not None:
            return response
        if "login" in prompt:
            return self.handle_prompt_login()

        application = get_application_model().objects.get(client_id=credentials["client_id"])
        try:
            services.relying_party(application)
        except services.SectorError:
            return self._problem(
                gettext(
                    "This service is not set up correctly for signing in with Alzette. "
                    "Please tell the service."
                ),
                application,
            )
        if isinstance(credentials.get("ui_locales"), list):
            credentials["ui_locales"] = " ".join(credentials["ui_locales"])

        remembered = "consent" not in prompt and services.consent_covers(
            request.user, application, scopes
        )
        if application.skip_authorization or remembered:
            return self._approve(scopes, credentials, application)
        if "none" in prompt:
            error = ConsentRequired(state=credentials.get("state"))
            return self.error_response(
                OAuthToolkitError(error=error, redirect_uri=credentials["redirect_uri"]),
                application,
            )

        self.oauth2_data = {
            key: credentials[key]
            for key in (
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "code_challenge",
                "code_challenge_method",
                "nonce",
            )
            if key in credentials
        }
        self.oauth2_data["scopes"] = scopes
        if credentials.get("claims"):
            self.oauth2_data["claims"] = json.dumps(credentials["claims"])
        return self.render_to_response(
            self.get_context_data(
                form=self.get_form(),
                application=application,
                service=services.service_label(application),
                scope_items=services.scope_items(scopes),
                return_host=urlsplit(credentials["redirect_uri"]).hostname,
            )
        )

    def handle_prompt_login(self) -> HttpResponse:
        """``prompt=login``: the person signs in again, even with a session open (DOT
        would send them to the sign-in page, which lets a signed-in person through)."""
        if self.request.user.is_authenticated:
            logout(self.request)
        return super().handle_prompt_login()

    def _approve(self, scopes: list[str], credentials: dict, application: Any) -> HttpResponse:
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def _problem(self, message: str, application: Any = None) -> HttpResponse:
        return self.render_to_response(
            self.get_context_data(problem=message, application=application), status=400
        )

    def form_valid(self, form: Any) -> HttpResponse:
        # The hidden fields come back from the browser: check them before DOT trusts
        # them, even to send a refusal (never redirect to an unregistered address).
        application = (
            get_application_model().objects.filter(client_id=form.cleaned_data["client_id"]).first()
        )
        if application is None or not application.redirect_uri_allowed(
            form.cleaned_data["redirect_uri"]
        ):
            return self._problem(_invalid_request())
        self.success_url = None
        response = super().form_valid(form)
        # oauthlib answers most refusals with a redirect too: only a code means success.
        granted = self.success_url and "code" in parse_qs(urlsplit(self.success_url).query)
        if form.cleaned_data.get("allow") and granted:
            services.give_consent(
                self.request.user, application, form.cleaned_data["scope"].split()
            )
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        return self._problem(_invalid_request())


class DiscoveryView(ConnectDiscoveryInfoView):
    """OpenID Provider metadata: DOT's, corrected to what this provider supports."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        data = json.loads(super().get(request, *args, **kwargs).content)
        data.update(
            {
                "scopes_supported": list(SCOPES),
                "claims_supported": services.supported_claims(),
                "id_token_signing_alg_values_supported": ["RS256"],
                "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
                "response_modes_supported": ["query"],
                "revocation_endpoint": self._get_endpoint_url(
                    request, "revoke-token", required=True
                ),
                "revocation_endpoint_auth_methods_supported": list(
                    oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
                ),
                "prompt_values_supported": ["none", "login", "consent"],
                "ui_locales_supported": [code for code, _name in settings.LANGUAGES],
                "claims_parameter_supported": False,
                "request_parameter_supported": False,
                "request_uri_parameter_supported": False,
                "frontchannel_logout_supported": False,
                "backchannel_logout_supported": False,
            }
        )
        response = JsonResponse(data)
        response["Access-Control-Allow-Origin"] = "*"
        return response


class UserinfoView(UserInfoView):
    """DOT's userinfo endpoint, which refuses an access token in the query string
    (RFC 9700, section 4.3.2): it would end up in logs and browser history."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "access_token" in request.GET:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Send the access token in the Authorization header.",
                },
                status=400,
            )
            response["WWW-Authenticate"] = 'Bearer error="invalid_request"'
            return response
        return super().dispatch(request, *args, **kwargs)


class LogoutView(RPInitiatedLogoutView):
    """RP-initiated logout: DOT's checks (ID token hint, registered post-logout URI), our page.

    Other services keep their tokens: their own sessions are theirs to end (this
    provider offers no front- or back-channel logout).
    """

    template_name = "sso/logout.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _ui_locale(request)
        return super().get(request, *args, **kwargs)

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
        token_user: Any = None,
    ) -> HttpResponse:
        """End the platform session and revoke the tokens of the service that asked
        (DOT would revoke every service's: OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS is off)."""
        user = token_user or self.request.user
        if application is not None and user.is_authenticated:
            services.revoke_tokens(user, application)
        return super().do_logout(application, post_logout_redirect_uri, state, token_user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if context.get("application") is not None:
            context["service"] = services.service_label(context["application"])
        return context


@never_cache
@login_required
@require_GET
def connected_services(request: HttpRequest) -> HttpResponse:
    consents = Consent.objects.filter(user=request.user).select_related("application")
    items = [
        {
            "consent": consent,
            "service": services.service_label(consent.application),
            "scope_items": services.scope_items(consent.scopes),
        }
        for consent in consents
    ]
    return render(request, "sso/services.html", {"items": items})


@never_cache
@login_required
@require_POST
def withdraw(request: HttpRequest, pk: Any) -> HttpResponse:
    try:
        consent = services.withdraw_consent(request.user, pk)
    except Consent.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(
        request,
        gettext("Consent withdrawn: %(service)s no longer receives anything from your account.")
        % {"service": services.service_label(consent.application)},
    )
    return redirect("sso:services")
