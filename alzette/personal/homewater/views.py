"""Pages under /water/: the citizen's own consumption, and the agents' meter office.

Thin adapters over ``services``; every page asks ``services.abilities`` what the
signed-in person may do. Agents allocate meters but never see a household's
consumption; a household of another commune answers 404 to an agent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.personal.homewater import charts, forms, services
from alzette.personal.homewater.models import MeterAllocation
from alzette.personal.households.models import Household
from alzette.personal.households.services import communes_in_scope


def page_context(household: Household, today: date) -> dict[str, Any]:
    data = services.overview(household, today)
    days, months = data["days"], data["months"]
    for row in days:
        row["label"] = date_format(row["day"], "j")
        row["long"] = date_format(row["day"], "D j M")
    for row in months:
        row["label"] = date_format(date(row["year"], row["month"], 1), "M")
        row["long"] = date_format(date(row["year"], row["month"], 1), "F Y")
    data["day_chart"] = charts.bars(
        [r["litres"] for r in days], [r["label"] for r in days], every=5
    )
    data["month_chart"] = charts.bars([r["litres"] for r in months], [r["label"] for r in months])
    data["open_warnings"] = [w for w in data["warnings"] if w.open]
    data["past_warnings"] = [w for w in data["warnings"] if not w.open]
    data["total_30"] = sum(r["litres"] for r in days)
    return data


@never_cache
@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if not services.abilities(request.user)["read_own"]:
        raise PermissionDenied
    household = services.household_of(request.user)
    context: dict[str, Any] = {"household": household, "meter": None}
    if household is not None:
        context["meter"] = services.current_meter(household)
        if context["meter"] is not None:
            context.update(page_context(household, timezone.localdate()))
    return render(request, "homewater/index.html", context)


@never_cache
@login_required
@require_POST
def seen(request: HttpRequest, pk: Any) -> HttpResponse:
    warning = services.warnings_for(request.user).filter(pk=pk).first()
    if warning is None or not services.abilities(request.user)["read_own"]:
        raise Http404
    services.mark_seen(warning)
    messages.success(request, _("Warning marked as seen."))
    return redirect("homewater:index")


# --- Agents -----------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def agents(request: HttpRequest) -> HttpResponse:
    if not services.abilities(request.user)["manage"]:
        raise PermissionDenied
    communes = communes_in_scope(request.user)
    households = list(
        Household.objects.filter(commune_code__in=communes).order_by("commune_code", "reference")[
            :500
        ]
    )
    meters = dict(
        MeterAllocation.objects.filter(household__in=households, ends_on__isnull=True).values_list(
            "household_id", "serial"
        )
    )
    for household in households:
        household.meter_serial = meters.get(household.pk, "")
    return render(request, "homewater/agents.html", {"households": households})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agent_household(request: HttpRequest, pk: Any) -> HttpResponse:
    household = Household.objects.filter(pk=pk).first()
    if household is None or not services.abilities(request.user, household)["allocate_meter"]:
        if not services.abilities(request.user)["manage"]:
            raise PermissionDenied
        raise Http404
    form = forms.MeterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.allocate_meter(
                    household,
                    data["serial"],
                    request.user.pseudonym,
                    starts_on=data["starts_on"],
                    persons=data["persons"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Meter allocated."))
                return redirect("homewater:agent_household", household.pk)
        status = 400
    return render(
        request,
        "homewater/agent_household.html",
        {
            "household": household,
            "form": form,
            "allocations": household.water_meters.order_by("-starts_on"),
        },
        status=status,
    )
