"""Agents' pages of collection rounds: the list, computing one, its map and savings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from alzette.territory.waste.rounds import authz, services
from alzette.territory.waste.rounds.forms import PlanForm
from alzette.territory.waste.rounds.models import Round, Truck

#: One colour per truck (contrast at least 3:1 on the map tiles and on white).
COLOURS = ("#0b5d4b", "#b3261e", "#1d4ed8", "#8a4b00", "#6b21a8", "#0f766e", "#be185d", "#374151")


def _actor(request: HttpRequest) -> authz.Actor:
    actor = authz.actor_of(request.user)
    if not authz.round_abilities(actor)["view"]:
        raise PermissionDenied
    return actor


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The rounds computed so far, and the form to compute one."""
    actor = _actor(request)
    available = Truck.objects.using(services.DB).filter(active=True).count()
    form = PlanForm(request.POST or None, available=available)
    if request.method == "POST":
        if not authz.round_abilities(actor)["compute"]:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                found = services.plan_round(
                    trucks=data["trucks"],
                    threshold=float(data["threshold"]) / 100,
                    day=data["planned_for"],
                    horizon=data["horizon"],
                    actor=actor.ref,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Round computed: %(count)d containers.") % {"count": found.container_count},
                )
                return redirect("waste_rounds:detail", pk=found.pk)
    rounds = Round.objects.using(services.DB).prefetch_related("routes")[:100]
    return render(
        request,
        "rounds/index.html",
        {"form": form, "rounds": rounds, "available": available},
        status=400 if request.method == "POST" else 200,
    )


def _round(pk: UUID) -> Round:
    found = Round.objects.using(services.DB).filter(pk=pk).first()
    if found is None:
        raise Http404("No such round.")
    return found


@never_cache
@login_required
def detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    """A round: its routes on a map and in tables, its distances and savings."""
    actor = _actor(request)
    found = _round(pk)
    routes = list(found.routes.select_related("truck", "truck__depot").order_by("position"))
    coloured = [
        {"route": route, "colour": COLOURS[i % len(COLOURS)], "km": route.distance_m / 1000}
        for i, route in enumerate(routes)
    ]
    return render(
        request,
        "rounds/detail.html",
        {
            "round": found,
            "routes": coloured,
            "abilities": authz.round_abilities(actor, found),
            "geojson": routes_geojson(found, routes),
            "chart": chart(found),
        },
    )


@login_required
@require_POST
def status(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Validate a draft round, or mark a validated one done."""
    actor = _actor(request)
    found = _round(pk)
    wanted = request.POST.get("status", "")
    abilities = authz.round_abilities(actor, found)
    allowed = {
        Round.Status.VALIDATED: abilities["validate"],
        Round.Status.DONE: abilities["mark_done"],
    }
    if not allowed.get(wanted, False):
        messages.error(request, _("This round cannot take that status."))
        return redirect("waste_rounds:detail", pk=found.pk)
    try:
        services.change_status(found, wanted, actor=actor.ref)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Status changed."))
    return redirect("waste_rounds:detail", pk=found.pk)


def routes_geojson(found: Round, routes: list[Any]) -> dict[str, Any]:
    """Each route as a line from its depot through its stops back, and each stop as a
    point, with the truck's colour: what the page's map draws."""
    features: list[dict[str, Any]] = []
    for index, route in enumerate(routes):
        colour = COLOURS[index % len(COLOURS)]
        depot = [route.truck.depot.lon, route.truck.depot.lat]
        line = [depot, *([s["lon"], s["lat"]] for s in route.sequence), depot]
        properties = {"truck": route.truck.name, "colour": colour, "km": route.distance_m / 1000}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {**properties, "kind": "route", "stops": len(route.sequence)},
            }
        )
        for order, stop in enumerate(route.sequence, start=1):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [stop["lon"], stop["lat"]]},
                    "properties": {
                        **properties,
                        "kind": "stop",
                        "order": order,
                        "id": stop["id"],
                        "load_l": stop["load_l"],
                    },
                }
            )
    if routes:
        depot = routes[0].truck.depot
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [depot.lon, depot.lat]},
                "properties": {"kind": "depot", "name": depot.name},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def chart(found: Round) -> list[dict[str, Any]]:
    """Two horizontal bars: the fixed weekly round and this round, in km."""
    bars = [
        (_("Fixed weekly round"), found.baseline_distance_m, "#6b7280"),
        (_("This round"), found.distance_m, "#0b5d4b"),
    ]
    largest = max((metres for _label, metres, _colour in bars), default=0) or 1
    return [
        {
            "label": label,
            "km": metres / 1000,
            "width": round(300 * metres / largest, 1),
            "y": 10 + 40 * i,
            "colour": colour,
        }
        for i, (label, metres, colour) in enumerate(bars)
    ]
