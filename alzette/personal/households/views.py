"""Pages under /waste/: the citizen's household, and the agents' household office.

Thin adapters over ``services``; every page asks ``authz.abilities`` what the
signed-in person may do. A household of another commune answers 404 to an agent
(its existence is not disclosed), an agents' page answers 403 to anyone else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from alzette.personal.households import authz, charts, forms, services
from alzette.personal.households.models import Household, Tariff

#: The gate's reasons as a person reads them.
REASONS = {
    "allowed": gettext_lazy("entered"),
    "unknown_card": gettext_lazy("refused: card unknown"),
    "not_resident": gettext_lazy("refused: household outside the territory"),
    "quota_exhausted": gettext_lazy("refused: no visit left this year"),
    "full": gettext_lazy("refused: the centre was full"),
}


def month_labels() -> list[str]:
    return [date_format(date(2000, m, 1), "M") for m in range(1, 13)]


def centre_rows(household: Household | None, year: int) -> list[dict[str, Any]]:
    """Each centre with its live occupancy and, for a household, the visits left."""
    rows = []
    for info in services.centres():
        slug = info["slug"]
        state = services.occupancy(slug) or info
        rows.append(
            {
                "slug": slug,
                "name": info.get("name", slug),
                "inside": state.get("inside"),
                "capacity": state.get("capacity"),
                "updated_at": state.get("updated_at"),
                "full": bool(state.get("capacity"))
                and state.get("inside", 0) >= state.get("capacity", 0),
                "quota": services.quota(info),
                "left": services.visits_left(household, info, year) if household else None,
            }
        )
    return rows


@never_cache
@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    household = services.household_of(request.user)
    year = timezone.localdate().year
    context: dict[str, Any] = {"household": household, "year": year}
    if household is not None:
        rows = services.lifts_by_month(household, year)
        labels = month_labels()
        context.update(
            bins=household.bins.filter(ends_on__isnull=True).order_by("bin_id"),
            months=[{**row, "label": label} for row, label in zip(rows, labels, strict=True)],
            chart=charts.monthly(rows, labels),
            lifts=sum(row["lifts"] for row in rows),
            bill=services.bill_for(household, year),
            visits=[
                {"at": v.at, "centre": v.centre, "outcome": REASONS.get(v.reason, v.reason)}
                for v in household.visits.filter(at__year=year)[:10]
            ],
        )
    context["centres"] = centre_rows(household, year)
    return render(request, "households/index.html", context)


# --- Agents -----------------------------------------------------------------------------


def _general(request: HttpRequest, ability: str = "manage") -> dict[str, bool]:
    can = authz.abilities(request.user)
    if not can[ability]:
        raise PermissionDenied
    return can


def _household(request: HttpRequest, pk: Any, ability: str = "manage") -> Household:
    household = Household.objects.filter(pk=pk).first()
    if household is None or not authz.abilities(request.user, household)[ability]:
        raise Http404
    return household


@never_cache
@login_required
@require_GET
def agents(request: HttpRequest) -> HttpResponse:
    can = _general(request)
    communes = services.communes_in_scope(request.user)
    households = (
        Household.objects.filter(commune_code__in=communes)
        .annotate(n_members=Count("members", distinct=True), n_bins=Count("bins", distinct=True))
        .order_by("commune_code", "reference")
    )
    names = dict(forms.commune_choices(communes))
    shown = list(households[:500])
    for household in shown:
        household.commune_name = names.get(household.commune_code, household.commune_code)
    return render(
        request,
        "households/agents.html",
        {"abilities": can, "households": shown, "count": households.count()},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agent_new(request: HttpRequest) -> HttpResponse:
    _general(request, "create")
    communes = services.communes_in_scope(request.user)
    form = forms.HouseholdForm(request.POST or None, communes=communes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if Household.objects.filter(reference=data["reference"]).exists():
            form.add_error("reference", _("This reference is already taken."))
        else:
            member = data["member_email"]
            household = services.create_household(
                data["commune"], data["reference"], members=[member] if member else []
            )
            messages.success(request, _("Household created."))
            return redirect("households:agent_household", household.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "households/agent_new.html", {"form": form}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def agent_household(request: HttpRequest, pk: Any) -> HttpResponse:
    household = _household(request, pk)
    can = authz.abilities(request.user, household)
    bin_form = forms.BinForm(prefix="bin")
    card_form = forms.CardForm(prefix="card")
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "allocate" and can["allocate_bin"]:
            bin_form = forms.BinForm(request.POST, prefix="bin")
            if bin_form.is_valid():
                try:
                    services.allocate_bin(
                        household,
                        bin_form.cleaned_data["bin_id"],
                        request.user.pseudonym,
                        starts_on=bin_form.cleaned_data["starts_on"],
                    )
                except ValidationError as exc:
                    bin_form.add_error(None, exc)
                else:
                    messages.success(request, _("Bin allocated."))
                    return redirect("households:agent_household", household.pk)
        elif action == "card" and can["register_card"]:
            card_form = forms.CardForm(request.POST, prefix="card")
            if card_form.is_valid():
                try:
                    services.register_card(
                        household, card_form.cleaned_data["kind"], card_form.cleaned_data["value"]
                    )
                except ValidationError as exc:
                    card_form.add_error(None, exc)
                else:
                    messages.success(request, _("Card registered."))
                    return redirect("households:agent_household", household.pk)
        else:
            raise PermissionDenied
        status = 400
    year = timezone.localdate().year
    return render(
        request,
        "households/agent_household.html",
        {
            "household": household,
            "abilities": can,
            "bin_form": bin_form,
            "card_form": card_form,
            "allocations": household.bins.order_by("-starts_on"),
            "cards": household.cards.all(),
            "members": household.members.count(),
            "lifts": household.lifts.filter(lifted_at__year=year).count(),
            "bill": services.bill_for(household, year),
            "year": year,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tariffs(request: HttpRequest) -> HttpResponse:
    can = _general(request, "set_tariff")
    communes = services.communes_in_scope(request.user)
    wide = can["set_territory_tariff"]
    form = forms.TariffForm(request.POST or None, communes=communes, territory_wide=wide)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.set_tariff(
            data["commune"] or "",
            data["year"],
            fixed_eur=data["fixed_eur"],
            per_lift_eur=data["per_lift_eur"],
            per_kg_eur=data["per_kg_eur"],
            included_lifts=data["included_lifts"],
        )
        messages.success(request, _("Tariff saved."))
        return redirect("households:tariffs")
    visible = Tariff.objects.filter(commune_code__in=[*communes, ""])
    return render(
        request,
        "households/tariffs.html",
        {"form": form, "tariffs": visible},
        status=400 if request.method == "POST" else 200,
    )
