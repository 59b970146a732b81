"""Hypervision pages for agents, mounted at /hypervision/ (namespace ``hypervision``).

- the live map: its layers fetched as GeoJSON, then kept current by server-sent
  events (``live.py``); without script, the same page lists counts per layer and
  the latest changes;
- boards: dashboards an agent composes from the widget registry, edited with
  plain forms; every write is a function of ``services.py`` (authorised, atomic,
  recorded in the ledger), the views only translate HTTP to and from it.

Only agents and administrators see any of it (``authz.map_abilities``); the
person is read from ``request.user`` by attributes (``partners.authz.actor_of``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_http_methods

from alzette.territory.hypervision import authz, layers, live, services, widgets
from alzette.territory.hypervision.forms import BoardForm, MapFilterForm
from alzette.territory.hypervision.models import Board
from alzette.territory.partners.authz import Actor, actor_of

DB = layers.DB
RECENT = 20


def _agent(request: HttpRequest) -> Actor | HttpResponse:
    """The agent behind a page request; the login page for a visitor, 403 for others."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = actor_of(request.user)
    if not authz.map_abilities(actor)["view"]:
        raise PermissionDenied
    return actor


def _query(form: MapFilterForm) -> str:
    if not form.is_bound:
        return ""
    data = form.cleaned_data
    pairs = [("commune", data.get("commune") or ""), ("theme", data.get("theme") or "")]
    pairs += [("layers", slug) for slug in data.get("layers") or ()]
    return urlencode([(k, v) for k, v in pairs if v])


# --- The live map -------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = _agent(request)
    if isinstance(actor, HttpResponse):
        return actor
    form = MapFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "hypervision/map.html", {"form": form}, status=400)
    commune = form.chosen_commune()
    selected = form.selected()
    recent = [f for layer in selected for f in layer.recent(RECENT)]
    recent = [f for f in recent if not commune or f["properties"]["commune"] == commune]
    recent.sort(key=lambda f: f["properties"]["observedAt"] or "", reverse=True)
    query = _query(form)
    return render(
        request,
        "hypervision/map.html",
        {
            "form": form,
            "layers": [
                {"layer": layer, "count": layer.count(commune), "theme": layers.THEMES[layer.theme]}
                for layer in selected
            ],
            "recent": recent[:RECENT],
            "titles": {slug: str(layer.title) for slug, layer in layers.layers().items()},
            "features_url": reverse("hypervision:features") + (f"?{query}" if query else ""),
            "live_url": reverse("hypervision:live") + (f"?{query}" if query else ""),
            "abilities": authz.map_abilities(actor),
        },
    )


@gzip_page  # 15,000 features: 4.9 MB, 340 kB compressed; no secret in it (no BREACH)
@require_GET
def features(request: HttpRequest) -> HttpResponse:
    """The selected layers' features as one FeatureCollection, with the cursor the
    live stream starts from (taken before reading, so nothing falls between)."""
    if not actor_of(request.user).agent:
        return HttpResponseForbidden()
    form = MapFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_json(), content_type="application/json")
    cursor = layers.iso(datetime.now(UTC))
    commune = form.chosen_commune()
    selected = form.selected()
    body = {
        "type": "FeatureCollection",
        "cursor": cursor,
        "layers": [
            {
                "slug": layer.slug,
                "title": str(layer.title),
                "theme": layer.theme,
                "colour": layer.colour,
            }
            for layer in selected
        ],
        "features": [f for layer in selected for f in layer.features(commune)],
    }
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")), content_type="application/geo+json"
    )
    response["Cache-Control"] = "no-store"
    return response


def _live_filters(params: Any) -> tuple[list[layers.Layer], str | None] | None:
    form = MapFilterForm(params)
    if not form.is_valid():
        return None
    return form.selected(), form.chosen_commune()


async def live_view(request: HttpRequest) -> HttpResponse:
    """Server-sent events of the selected layers' changes (protocol in ``live.py``).

    Under ASGI the stream is an async generator; under WSGI (the test server) a
    plain one, since Django would buffer an async one whole."""
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    user = await request.auser()
    if not (await sync_to_async(actor_of)(user)).agent:
        return HttpResponseForbidden()
    filters = await sync_to_async(_live_filters)(request.GET)
    if filters is None:
        return HttpResponseBadRequest()
    selected, commune = filters
    since = live.parse_cursor(request.headers.get("Last-Event-ID")) or live.parse_cursor(
        request.GET.get("since")
    )
    poller = live.Poller(selected, commune, since)
    stream = (
        live.stream_async(poller) if isinstance(request, ASGIRequest) else live.stream_sync(poller)
    )
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # no proxy buffering
    return response


# --- Boards -------------------------------------------------------------------------------


def _board(actor: Actor, pk: int, ability: str) -> Board:
    try:
        return services.board_for(actor, pk, ability)
    except services.UnknownBoard:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def boards(request: HttpRequest) -> HttpResponse:
    actor = _agent(request)
    if isinstance(actor, HttpResponse):
        return actor
    form = BoardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        board = services.create_board(actor, form.cleaned_data["name"], form.cleaned_data["shared"])
        return redirect("hypervision:board_edit", board.pk)
    listed = [(b, authz.board_abilities(actor, b)) for b in services.visible_boards(actor)]
    return render(
        request,
        "hypervision/boards.html",
        {"form": form, "boards": listed},
        status=400 if form.is_bound else 200,
    )


def _rendered(request: HttpRequest, board: Board, *, draw: bool = True) -> list[dict[str, Any]]:
    registry = widgets.widgets()
    out = []
    for n, item in enumerate(board.widgets):
        widget = registry.get(item.get("slug")) if isinstance(item, dict) else None
        if widget is None:
            continue  # unregistered since: skipped, never an error
        options = widget.clean_options(item.get("options") or {})
        labels = [widget.option_label(k, v) for k, v in options.items()]
        out.append(
            {
                "n": n,
                "widget": widget,
                "options": options,
                "labels": labels,
                "context": widget.context(request, options) if draw else {},
            }
        )
    return out


@require_GET
def board(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _agent(request)
    if isinstance(actor, HttpResponse):
        return actor
    found = _board(actor, pk, "view")
    return render(
        request,
        "hypervision/board.html",
        {
            "board": found,
            "items": _rendered(request, found),
            "abilities": authz.board_abilities(actor, found),
        },
    )


def _position(data: Any) -> int:
    try:
        return int(data.get("position", ""))
    except ValueError:
        return -1  # refused by the services as an unknown widget


def _edit(actor: Actor, pk: int, data: Any) -> bool:
    """Apply one edit from the form (``services.BoardError`` when refused); True
    when the board was deleted."""
    action = data.get("action")
    if action == "delete":
        services.delete_board(actor, pk)
        return True
    if action == "add":
        services.add_widget(actor, pk, data.get("slug", ""), data)
    elif action == "remove":
        services.remove_widget(actor, pk, _position(data))
    elif action in ("up", "down"):
        services.move_widget(actor, pk, _position(data), action)
    elif action == "rename":
        form = BoardForm(data)
        form.is_valid()  # an invalid name is left out, and refused by the services
        shared = form.cleaned_data.get("shared", False)
        services.update_board(actor, pk, form.cleaned_data.get("name", ""), shared)
    else:
        raise services.BoardError(_("Unknown action."))
    return False


def _addable() -> list[tuple[str, widgets.Widget, list]]:
    return [
        (
            slug,
            widget,
            [
                (name, [(v, widget.option_label(name, v)) for v in values])
                for name, values in widget.choices.items()
            ],
        )
        for slug, widget in widgets.widgets().items()
    ]


@require_http_methods(["GET", "POST"])
def board_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _agent(request)
    if isinstance(actor, HttpResponse):
        return actor
    found = _board(actor, pk, "edit")
    status = 200
    if request.method == "POST":
        try:
            deleted = _edit(actor, found.pk, request.POST)
        except services.UnknownBoard:
            raise Http404 from None  # deleted meanwhile
        except services.BoardError as error:
            messages.error(request, error.message)
            status = 400
        else:
            if deleted:
                messages.success(request, _("The board was deleted."))
                return redirect("hypervision:boards")
            return redirect("hypervision:board_edit", found.pk)
    return render(
        request,
        "hypervision/board_edit.html",
        {
            "board": found,
            "items": _rendered(request, found, draw=False),
            "addable": _addable(),
            "form": BoardForm(initial={"name": found.name, "shared": found.shared}),
        },
        status=status,
    )
