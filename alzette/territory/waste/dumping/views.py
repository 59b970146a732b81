"""Agents' pages of illegal dumping, at /hypervision/dumping/ (namespace ``waste_dumping``).

The map is drawn in the browser from the page's own GeoJSON; the same reports and
hot spots are in tables, which are the page's content without JavaScript. The
report form works with plain latitude and longitude inputs; a click on the map
only fills them in.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.waste.dumping import hotspots, services
from alzette.territory.waste.dumping.forms import CloseForm, PeriodForm, PlanForm, ReportForm
from alzette.territory.waste.dumping.models import Category, Intervention

DB = "territory"


def _actor(request: HttpRequest, commune: str | None = None) -> services.Actor:
    actor = services.actor_of(request.user)
    if not services.abilities(actor, commune)["view"]:
        raise PermissionDenied("Agents only.")
    return actor


def _communes() -> dict[str, str]:
    units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)
    return dict(units.values_list("code", "name"))


def _kinds(categories: tuple[str, ...] | list[str]) -> str:
    labels = dict(Category.choices)
    return ", ".join(str(labels.get(category, category)) for category in categories)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    period = PeriodForm(request.GET or None)
    days = (period.cleaned_data.get("days") if period.is_valid() else None) or 90
    reports = services.recent(days)
    spots = hotspots.find(reports)
    communes = _communes()
    features = [view.feature() for view in reports] + [spot.feature() for spot in spots]
    return render(request, "dumping/index.html", {
        "period": period, "days": days, "total": len(reports),
        "reports": [(view, communes.get(view.commune, view.commune), _kinds(view.categories))
                    for view in reports[:200]],
        "more": max(0, len(reports) - 200),
        "spots": [(spot, communes.get(spot.commune, spot.commune)) for spot in spots],
        "features": {"type": "FeatureCollection", "features": features},
        "grid": hotspots.density(reports), "eps": hotspots.eps_metres(),
        "min_samples": hotspots.min_samples(), "open_interventions":
        services.interventions(open_only=True).count(), "can": services.abilities(actor),
    })  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            found = services.report(lon=data["lon"], lat=data["lat"],
                                    categories=data["categories"],
                                    observed_on=data["observed_on"], volume=data["volume"],
                                    actor=actor)  # fmt: skip
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The report is recorded."))
            return redirect(f"{_url('waste_dumping:intervention_plan')}?target=report:{found.pk}")
    return render(request, "dumping/report_form.html", {"form": form},
                  status=400 if request.method == "POST" else 200)  # fmt: skip


def _add_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error("lat" if isinstance(exc, services.OutsideTerritory) else None, exc.messages)


def _url(name: str, **kwargs: Any) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


@login_required
@require_GET
def interventions(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    status, communes = request.GET.get("status", ""), _communes()
    found = services.interventions()
    if status in Intervention.Status.values:
        found = found.filter(status=status)
    return render(request, "dumping/interventions.html", {
        "interventions": [(item, communes.get(item.commune_code, item.commune_code))
                          for item in found[:500]],
        "status": status, "statuses": Intervention.Status.choices,
        "can": services.abilities(actor),
    })  # fmt: skip


def _intervention(pk: str) -> Intervention:
    try:
        found = services.interventions().filter(pk=pk).first()
    except ValidationError:
        found = None
    if found is None:
        raise Http404("No such intervention.")
    return found


@login_required
@require_GET
def intervention_detail(request: HttpRequest, pk: str) -> HttpResponse:
    return _detail(request, _intervention(pk))


def _detail(request: HttpRequest, intervention: Intervention, form: CloseForm | None = None,
            status: int = 200) -> HttpResponse:  # fmt: skip
    actor = _actor(request)
    target = services.report_view(intervention.target_ref)
    return render(request, "dumping/intervention.html", {
        "intervention": intervention, "target": target, "close_form": form or CloseForm(),
        "commune": _communes().get(intervention.commune_code, intervention.commune_code),
        "kinds": _kinds(target.categories) if target else "",
        "can": services.abilities(actor, intervention.commune_code),
    }, status=status)  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def intervention_plan(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    ref = request.POST.get("target") or request.GET.get("target", "")
    target = services.report_view(ref)
    if target is None:
        raise Http404("No such report.")
    if not services.abilities(actor, target.commune)["plan"]:
        raise PermissionDenied("Not your commune.")
    form = PlanForm(request.POST or None, initial={"target": ref})
    if request.method == "POST" and form.is_valid():
        try:
            found = services.plan(
                ref,
                team=form.cleaned_data["team"],
                planned_for=form.cleaned_data["planned_for"],
                actor=actor,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The intervention is planned."))
            return redirect("waste_dumping:intervention", pk=found.pk)
    return render(request, "dumping/plan_form.html", {
        "form": form, "target": target, "kinds": _kinds(target.categories),
        "commune": _communes().get(target.commune, target.commune),
    }, status=400 if request.method == "POST" else 200)  # fmt: skip


@login_required
@require_POST
def intervention_start(request: HttpRequest, pk: str) -> HttpResponse:
    return _transition(request, pk, "start")


@login_required
@require_POST
def intervention_close(request: HttpRequest, pk: str) -> HttpResponse:
    return _transition(request, pk, "close")


@login_required
@require_POST
def intervention_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    return _transition(request, pk, "cancel")


def _transition(request: HttpRequest, pk: str, action: str) -> HttpResponse:
    intervention = _intervention(pk)
    actor = _actor(request, intervention.commune_code)
    if not services.abilities(actor, intervention.commune_code)[action]:
        raise PermissionDenied("Not your commune.")
    form = CloseForm(request.POST) if action == "close" else None
    try:
        if action == "start":
            services.start(intervention, actor=actor)
        elif action == "cancel":
            services.cancel(intervention, actor=actor)
        elif form is not None and form.is_valid():
            services.close(intervention, outcome=form.cleaned_data["outcome"], actor=actor)
        else:
            return _detail(request, intervention, form, status=400)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _detail(request, _intervention(pk), form, status=409)
    messages.success(request, _("The intervention is updated."))
    return redirect("waste_dumping:intervention", pk=intervention.pk)
