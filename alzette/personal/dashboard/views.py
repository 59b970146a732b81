"""The dashboard pages: a thin adapter over ``dashboard.services``.

Every page and action concerns the signed-in person's own dashboard: no URL
names another account. The edit mode works without JavaScript (one POST form
per action, redirecting back); ``dashboard.js`` sends the same forms with
``Accept: application/json`` and gets the new editor back instead of a redirect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from alzette.personal.dashboard import registry, services
from alzette.personal.dashboard.models import Size
from alzette.personal.dashboard.widget import Widget

logger = logging.getLogger(__name__)


def _unique(paths: list[str]) -> list[str]:
    return list(dict.fromkeys(paths))


@never_cache
@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    widgets = registry.widgets()
    placed = services.shown(services.layout_for(user, widgets), user, widgets)
    items = [
        {"widget": item.widget, "size": item.size, "body": _body(item.widget, request)}
        for item in placed
    ]
    shown = [item["widget"] for item in items if item["body"] is not None]
    return render(
        request,
        "dashboard/index.html",
        {
            "items": items,
            "stylesheets": _unique([p for widget in shown for p in widget.stylesheets]),
            "scripts": _unique([p for widget in shown for p in widget.scripts]),
        },
    )


def _body(widget: Widget, request: HttpRequest) -> str | None:
    """The widget's HTML, or None when it failed: one broken widget does not take the
    dashboard down (outside DEBUG, where the error shows as usual)."""
    try:
        return render_to_string(
            widget.template_name, widget.context(request.user, request), request=request
        )
    except Exception:
        if settings.DEBUG:
            raise
        logger.exception("Dashboard widget %r failed", widget.slug)
        return None


def _editor(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    widgets = registry.widgets()
    layout = services.layout_for(user, widgets)
    return {
        "placed": services.shown(layout, user, widgets),
        "addable": services.addable(layout, user, widgets),
        "WIDE": Size.WIDE,
        "NORMAL": Size.NORMAL,
    }


@never_cache
@login_required
@require_GET
def edit(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/edit.html", _editor(request))


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _change(request: HttpRequest, apply: Callable[[Any, dict], str]) -> HttpResponse:
    """Run one change; answer with the editor (JSON) or a redirect to it (forms)."""
    try:
        message = apply(request.user, registry.widgets())
    except services.LayoutRefused as refusal:
        if _wants_json(request):
            return JsonResponse({"error": str(refusal)}, status=400)
        return render(
            request, "dashboard/edit.html", {**_editor(request), "error": str(refusal)}, status=400
        )
    if _wants_json(request):
        html = render_to_string("dashboard/_editor.html", _editor(request), request=request)
        return JsonResponse({"message": message, "html": html})
    messages.success(request, message)
    response = redirect("dashboard:edit")
    response.status_code = 303  # See Other: the browser follows with a GET
    return response


@never_cache
@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("widget", "")

    def apply(user: Any, widgets: dict) -> str:
        placed = services.add(user, slug, widgets)
        return _("“%(widget)s” was added at the end of your dashboard.") % {
            "widget": placed.widget.title
        }

    return _change(request, apply)


@never_cache
@login_required
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("widget", "")

    def apply(user: Any, widgets: dict) -> str:
        widget = services.remove(user, slug, widgets)
        return _("“%(widget)s” was removed from your dashboard.") % {"widget": widget.title}

    return _change(request, apply)


@never_cache
@login_required
@require_POST
def move(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("widget", "")
    direction = request.POST.get("direction", "")

    def apply(user: Any, widgets: dict) -> str:
        placed = services.move(user, slug, direction, widgets)
        return _("“%(widget)s” is now in position %(position)s of %(count)s.") % {
            "widget": placed.widget.title,
            "position": placed.position,
            "count": placed.count,
        }

    return _change(request, apply)


@never_cache
@login_required
@require_POST
def resize(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("widget", "")
    size = request.POST.get("size", "")

    def apply(user: Any, widgets: dict) -> str:
        placed = services.resize(user, slug, size, widgets)
        if placed.size == Size.WIDE:
            return _("“%(widget)s” is now wide on large screens.") % {"widget": placed.widget.title}
        return _("“%(widget)s” is now of normal width on large screens.") % {
            "widget": placed.widget.title
        }

    return _change(request, apply)


@never_cache
@login_required
@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    def apply(user: Any, widgets: dict) -> str:
        services.reset(user, widgets)
        return _("Your dashboard is back to the default layout.")

    return _change(request, apply)
