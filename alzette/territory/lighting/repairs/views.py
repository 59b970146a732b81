"""Agents' pages of streetlight repairs, at /hypervision/lighting/repairs/.

The list holds the open repairs per commune (with their source, fault and age) and a
small map of them drawn from the page's own GeoJSON; the table is the page's content
without JavaScript. A repair's page shows the lamp, its alert, the citizens' reports
(anonymised: what is wrong and the day) and the plan and close forms.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.lighting.repairs import services
from alzette.territory.lighting.repairs.forms import CloseForm, PlanForm, ReportForm
from alzette.territory.lighting.repairs.models import Repair

DB = services.DB


def _actor(request: HttpRequest) -> services.Actor:
    actor = services.actor_of(request.user)
    if not services.abilities(actor)["view"]:
        raise PermissionDenied("Agents only.")
    return actor


def _communes() -> dict[str, str]:
    units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)
    return dict(units.values_list("code", "name"))


def _faults() -> dict[str, str]:
    return {
        "defectiveLamp": _("Defective lamp"), "columnIssue": _("Column issue"),
        "brokenLantern": _("Broken lantern"), "lampOut": _("Lamp out"),
        "off": _("Off at night (citizen)"), "flickering": _("Flickering (citizen)"),
        "on-by-day": _("On by day (citizen)"), "damaged": _("Damaged (citizen)"),
        "breaker-tripped": _("Breaker tripped"), "door-open": _("Cabinet door open"),
        "meter-error": _("Meter error"),
    }  # fmt: skip


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    communes, faults, now = _communes(), _faults(), timezone.now()
    rows, features = [], []
    for repair in services.repairs(open_only=True).order_by("commune_code", "reported_at")[:500]:
        found = services.asset(repair.asset_id)
        age = (now - repair.reported_at).days
        rows.append((repair, communes.get(repair.commune_code, repair.commune_code),
                     faults.get(repair.fault, repair.fault), age))  # fmt: skip
        if found is not None and found.lon is not None:
            features.append({
                "type": "Feature", "id": str(repair.pk),
                "geometry": {"type": "Point", "coordinates": [found.lon, found.lat]},
                "properties": {"number": repair.number, "status": repair.status,
                               "fault": faults.get(repair.fault, repair.fault),
                               "url": f"{request.path}{repair.pk}/"},
            })  # fmt: skip
    return render(request, "lighting_repairs/index.html", {
        "rows": rows, "features": {"type": "FeatureCollection", "features": features},
        "can": services.abilities(actor), "form": ReportForm(),
    })  # fmt: skip


@login_required
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            repair = services.report_by_agent(form.cleaned_data["lamp"],
                                              form.cleaned_data["fault"], actor=actor)  # fmt: skip
        except PermissionError:
            # Another commune's lamp: said next to the number, which may be a typing slip.
            form.add_error("lamp", _("Only the agents of this lamp's commune or of the EPCI "
                                     "may report its faults."))  # fmt: skip
            return render(request, "lighting_repairs/report_form.html", {"form": form},
                          status=403)  # fmt: skip
        except ValidationError as exc:
            form.add_error("lamp", exc.messages)
        else:
            messages.success(request, _("The repair is recorded."))
            return redirect("lighting_repairs:detail", pk=repair.pk)
    return render(request, "lighting_repairs/report_form.html", {"form": form}, status=400)


def _repair(pk: str) -> Repair:
    try:
        found = services.repairs().filter(pk=pk).first()
    except ValidationError:
        found = None
    if found is None:
        raise Http404("No such repair.")
    return found


@login_required
@require_GET
def detail(request: HttpRequest, pk: str) -> HttpResponse:
    return _detail(request, _repair(pk))


def _detail(request: HttpRequest, repair: Repair, plan: PlanForm | None = None,
            close: CloseForm | None = None, status: int = 200) -> HttpResponse:  # fmt: skip
    actor = _actor(request)
    found = services.asset(repair.asset_id)
    reports = [
        (event.observed_on, _faults().get(next(iter(event.categories), ""), ""), event.status)
        for event in repair.events.order_by("observed_on")
    ]
    feature = None
    if found is not None and found.lon is not None:
        point = {"type": "Point", "coordinates": [found.lon, found.lat]}
        properties = {"number": repair.number, "status": repair.status, "fault": ""}
        one = {"type": "Feature", "geometry": point, "properties": properties}
        feature = {"type": "FeatureCollection", "features": [one]}
    return render(request, "lighting_repairs/repair.html", {
        "repair": repair, "asset": found, "alert": services.alert_of(repair),
        "device": repair.asset_id.rsplit(":", 1)[-1], "reports": reports,
        "fault": _faults().get(repair.fault, repair.fault),
        "commune": _communes().get(repair.commune_code, repair.commune_code),
        "plan_form": plan or PlanForm(initial={"team": repair.team}),
        "close_form": close or CloseForm(), "features": feature,
        "can": services.abilities(actor, repair.commune_code),
    }, status=status)  # fmt: skip


@login_required
@require_http_methods(["POST"])
def action(request: HttpRequest, pk: str, name: str) -> HttpResponse:
    actor = _actor(request)
    repair = _repair(pk)
    if name not in ("plan", "start", "close", "cancel"):
        raise Http404("No such action.")
    if not services.abilities(actor, repair.commune_code)[name]:
        raise PermissionDenied("Not your commune.")
    plan = close = None
    try:
        if name == "plan":
            plan = PlanForm(request.POST)
            if not plan.is_valid():
                return _detail(request, repair, plan=plan, status=400)
            services.plan(repair, team=plan.cleaned_data["team"],
                          planned_for=plan.cleaned_data["planned_for"], actor=actor)  # fmt: skip
        elif name == "start":
            services.start(repair, actor=actor)
        elif name == "close":
            close = CloseForm(request.POST)
            if not close.is_valid():
                return _detail(request, repair, close=close, status=400)
            services.close(repair, outcome=close.cleaned_data["outcome"], actor=actor)
        else:
            services.cancel(repair, actor=actor)
    except ValidationError as exc:
        form: Any = plan or close
        if form is not None and hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.error(request, " ".join(exc.messages))
            return redirect("lighting_repairs:detail", pk=repair.pk)
        return _detail(request, repair, plan=plan, close=close, status=400)
    messages.success(request, _("The repair is updated."))
    return redirect("lighting_repairs:detail", pk=repair.pk)
