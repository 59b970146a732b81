"""Agents' waste pages (containers, a recycling centre and its pick-ups) and the
public occupancy of a centre."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from alzette.territory.waste import authz, services
from alzette.territory.waste.forms import ContainerFilterForm, PickupChangeForm, PickupRequestForm
from alzette.territory.waste.models import Centre, PickupRequest

PAGE_SIZE = 100


def _agent(request: HttpRequest) -> authz.Actor:
    actor = authz.actor_of(request.user)
    if not authz.container_abilities(actor)["view"]:
        raise PermissionDenied
    return actor


def _communes() -> list[tuple[str, str]]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using(services.DB).filter(kind=UnitKind.COMMUNE)
    return list(units.order_by("name").values_list("code", "name"))


@never_cache
@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Containers with their fill level and fill rate, filtered by commune and kind."""
    _agent(request)
    communes = _communes()
    form = ContainerFilterForm(request.GET, communes=communes)
    if not form.is_valid():
        context = {"form": form, "rows": [], "page": None, "centres": services.centres()}
        return render(request, "waste/index.html", context, status=400)
    data = form.cleaned_data
    found = services.containers(kind=data["kind"] or None, commune=data["commune"] or None)
    page = Paginator(found, PAGE_SIZE).get_page(data["page"] or 1)
    rates = services.fill_rates([c.id for c in page])
    names = dict(communes)
    rows = [(c, rates.get(c.id), names.get(c.commune, c.commune)) for c in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "waste/index.html", {
        "form": form, "rows": rows, "page": page, "total": len(found),
        "query": query.urlencode(), "centres": services.centres(),
    })  # fmt: skip


def _centre(slug: str) -> Centre:
    found = Centre.objects.using(services.DB).filter(slug=slug).first()
    if found is None:
        raise Http404("No such recycling centre.")
    return found


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def centre(request: HttpRequest, slug: str) -> HttpResponse:
    """A recycling centre: live occupancy, skips and their pick-up requests."""
    actor = _agent(request)
    found = _centre(slug)
    skips = services.skips(found)
    choices = [(s.short_id, s.name) for s in skips]
    requests = PickupRequest.objects.using(services.DB).filter(centre=found)
    ask = PickupRequestForm(skips=choices)
    change = PickupChangeForm(requests=requests)
    status = 200
    if request.method == "POST":
        if not authz.centre_abilities(actor)["request_pickup"]:
            raise PermissionDenied
        action = request.POST.get("action")
        if action == "request":
            ask = PickupRequestForm(request.POST, skips=choices)
            if _request(request, ask, actor):
                return redirect("waste:centre", slug=found.slug)
        else:
            change = PickupChangeForm(request.POST, requests=requests)
            if _change(request, change, actor):
                return redirect("waste:centre", slug=found.slug)
        status = 400
    context = _centre_context(found, skips, requests, actor, ask, change)
    return render(request, "waste/centre.html", context, status=status)


def _request(request: HttpRequest, form: PickupRequestForm, actor: authz.Actor) -> bool:
    if not form.is_valid():
        return False
    try:
        services.request_pickup(form.cleaned_data["skip"], actor.ref)
    except ValidationError as exc:
        form.add_error("skip", exc)
        return False
    messages.success(request, _("Pick-up requested."))
    return True


def _change(request: HttpRequest, form: PickupChangeForm, actor: authz.Actor) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    pickup = data["request"]
    abilities = authz.pickup_abilities(actor, pickup)
    wanted = {"schedule": "schedule", "cancel": "cancel", "done": "mark_done"}[data["action"]]
    if not abilities[wanted]:
        form.add_error(None, _("This pick-up request is closed."))
        return False
    try:
        if data["action"] == "schedule":
            services.schedule_pickup(pickup, actor.ref)
        elif data["action"] == "cancel":
            services.cancel_pickup(pickup, actor.ref)
        else:
            services.complete_pickup(pickup, float(data["weight_kg"]), actor.ref)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, _("Pick-up request updated."))
    return True


def _centre_context(
    found: Centre,
    skips: list,
    requests: Any,
    actor: authz.Actor,
    ask: PickupRequestForm,
    change: PickupChangeForm,
) -> dict[str, Any]:
    pickups = list(requests.order_by("-requested_at")[:50])
    waiting = {p.container_id for p in pickups if p.open}
    names = {s.id: s.name for s in skips}
    return {
        "centre": found,
        "occupancy": services.centre_occupancy(found),
        "skips": [(s, s.id in waiting) for s in skips],
        "pickups": [
            (
                p,
                names.get(p.container_id, services.short_id(p.container_id)),
                authz.pickup_abilities(actor, p),
            )
            for p in pickups
        ],
        "ask": ask,
        "change": change,
    }


@require_GET
def occupancy(request: HttpRequest, slug: str) -> JsonResponse:
    """Public: how many vehicles are inside a centre now (no personal data at all)."""
    found = Centre.objects.using(services.DB).filter(slug=slug).first()
    if found is None:
        return JsonResponse({"error": "unknown centre"}, status=404)
    state = services.centre_occupancy(found)
    response = JsonResponse({
        "centre": state["centre"], "name": state["name"], "inside": state["inside"],
        "capacity": state["capacity"], "updated_at": state["updated_at"].isoformat(),
        "opening_hours": state["opening_hours"],
    })  # fmt: skip
    response["Cache-Control"] = "public, max-age=15"
    response["Access-Control-Allow-Origin"] = "*"
    return response
