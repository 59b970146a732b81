"""Error pages in the visitor's language, for pages (the API answers problem+json).

Django's own handlers would render English pages; these render the site's
layout, translated, with a way back. The server error page is standalone: it
must not touch the database, the session or the user, which may be what failed.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext_lazy as _

PAGES = {
    400: (
        _("Bad request"),
        _("The request could not be understood. Go back and try again."),
    ),
    403: (
        _("Access refused"),
        _(
            "You are not allowed to see this page. If you think you should, sign in with "
            "the right account or ask the agent in charge."
        ),
    ),
    404: (
        _("Page not found"),
        _(
            "This page does not exist, or no longer exists. Check the address, or start again "
            "from the home page."
        ),
    ),
}

CSRF_PAGE = (
    _("The form has expired"),
    _(
        "For your security, the form could not be sent: it stayed open too long, or your "
        "browser blocks this site's cookies. Go back, reload the page and send the form again."
    ),
)


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"status": status, "title": title, "message": message}
    return render(request, "web/error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, *PAGES[400])


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The exception's text is for logs, never for the page: it may name internals.
    return _page(request, 403, *PAGES[403])


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, *PAGES[404])


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a stale or missing form token, said plainly."""
    return _page(request, 403, *CSRF_PAGE)


def server_error(request: HttpRequest) -> HttpResponse:
    """The standalone 500 page, with the request id that support can look up in the logs."""
    content = loader.render_to_string(
        "web/500.html", {"request_id": getattr(request, "request_id", "")}
    )
    return HttpResponseServerError(content)
