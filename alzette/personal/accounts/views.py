"""The language switch and the preferences page: thin adapters over ``services``.

The header's switch is Django's ``set_language`` plus one thing: a signed-in
person's choice is kept on their account, so that e-mails reach them in it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from alzette.personal.accounts import services
from alzette.personal.accounts.forms import PreferencesForm


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface's language; for a signed-in person, remember it too."""
    language = request.POST.get("language", "")
    if language not in services.offered_languages():
        # Django would silently keep the current language; an unknown one is a bad request.
        raise BadRequest("unknown language")
    response = i18n.set_language(request)
    if request.user.is_authenticated:
        services.set_preferred_language(request.user, request.user, language)
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            language = form.cleaned_data["preferred_language"]
            services.set_preferred_language(user, user, language)
            response = redirect("account_preferences")
            if language:  # the interface follows, as with the header's switch
                set_language_cookie(response, language)
            with translation.override(language or translation.get_language()):
                messages.success(request, _("Your preferences are saved."))
            return response
    else:
        form = PreferencesForm(initial={"preferred_language": user.preferred_language})
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "default_language": translation.get_language_info(settings.LANGUAGE_CODE)},
        status=400 if form.errors else 200,
    )


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """The interface's language cookie (the preferences page, the account's language)."""
    # The same cookie, with the same attributes, as django.views.i18n.set_language.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
