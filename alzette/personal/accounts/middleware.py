"""Agents and administrators must have a second factor before doing anything else; a
signed-in person on a new browser gets the interface in the language of their account."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation

from alzette.core.problems import is_api_path, problem_response

# Paths that stay reachable while the second factor is being set up.
_ALLOWED_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/static/",
    "/i18n/",
    "/healthz",
    "/readyz",
    "/metrics",
)


def has_totp(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireSecondFactorMiddleware:
    """Send agents and administrators without TOTP to its set-up page (403 on the API)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "requires_second_factor", False)
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and not has_totp(user)
        ):
            if is_api_path(request.path):
                return problem_response(
                    request, 403, "Agents and administrators must set up a second factor (TOTP)."
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class PreferredLanguageMiddleware:
    """A signed-in person whose browser has no language cookie yet (a new phone, after
    clearing cookies) gets the language kept on their account, and the cookie with it.
    The cookie wins otherwise: the header's switch sets both, so they agree."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = _preferred(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # The header's switch or the preferences page may have just set another one.
        chose = settings.LANGUAGE_COOKIE_NAME in response.cookies
        if language and not chose and response.get("Content-Type", "").startswith("text/html"):
            from alzette.personal.accounts.views import set_language_cookie

            set_language_cookie(response, language)
        return response


def _preferred(request: HttpRequest) -> str:
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES or is_api_path(request.path):
        return ""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    language = getattr(user, "preferred_language", "")
    return language if language in {code for code, _name in settings.LANGUAGES} else ""
