"""Agents' water pages: the network per district, its leaks, its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from alzette.territory.water import charts, detection, services
from alzette.territory.water.forms import DistrictForm
from alzette.territory.water.models import District


def _agent(request: HttpRequest) -> None:
    if not services.abilities(request.user)["view"]:
        raise PermissionDenied


def _names() -> dict[str, str]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using(services.DB).filter(kind=UnitKind.COMMUNE)
    return dict(units.values_list("code", "name"))


def open_alerts(entity_ids: list[str] | None = None) -> list[Any]:
    from alzette.territory.supervision.models import Alert

    rows = Alert.objects.using(services.DB).filter(
        rule__detector__in=(detection.NIGHT_FLOW, detection.CONTINUOUS_FLOW, detection.BALANCE),
        state__in=Alert.OPEN,
    ).select_related("rule").order_by("-fired_at")  # fmt: skip
    if entity_ids is not None:
        rows = rows.filter(entity_id__in=entity_ids)
    return list(rows[:200])


def _features(districts: list[District]) -> dict[str, Any]:
    features = []
    for district in districts:
        if district.geometry:
            features.append({"type": "Feature", "geometry": district.geometry,
                             "properties": {"kind": "district", "name": district.name,
                                            "slug": district.slug}})  # fmt: skip
        for kind, eid in (("inflow", district.inflow_entity),
                          ("pressure", services.pressure_id(district.slug)),
                          ("quality", services.quality_id(district.slug))):  # fmt: skip
            where = services.location_of(eid)
            if where is not None:
                features.append({"type": "Feature",
                                 "geometry": {"type": "Point", "coordinates": list(where)},
                                 "properties": {"kind": kind, "name": district.name,
                                                "slug": district.slug}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


@never_cache
@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Every district with its latest figures, the open leak alerts and the map."""
    _agent(request)
    districts = list(District.objects.using(services.DB).all())
    names = _names()
    rows = [(services.figures(d), names.get(d.commune, d.commune)) for d in districts]
    return render(request, "water/index.html", {
        "rows": rows, "alerts": open_alerts(), "features": _features(districts),
    })  # fmt: skip


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def district(request: HttpRequest, slug: str) -> HttpResponse:
    """One district: inflow over 7 days, night minima, pressure, quality, balance,
    its open alerts and, for agents of its commune or the EPCI, its settings."""
    _agent(request)
    found = District.objects.using(services.DB).filter(slug=slug).first()
    if found is None:
        raise Http404("No such district.")
    can = services.abilities(request.user, found)
    initial = {"name": found.name, "night_flow_threshold": found.night_flow_threshold,
               "balance_percent": round(found.balance_threshold * 100)}  # fmt: skip
    form = DistrictForm(initial=initial)
    status = 200
    if request.method == "POST":
        if not can["change"]:
            raise PermissionDenied
        form = DistrictForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_district(found, {
                    "name": data["name"], "night_flow_threshold": data["night_flow_threshold"],
                    "balance_threshold": data["balance_percent"] / 100,
                }, actor=getattr(request.user, "pseudonym", "") or "system:water")  # fmt: skip
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(None if field not in form.fields else field, errors)
            else:
                messages.success(request, _("The district's settings were saved."))
                return redirect("water:district", slug=found.slug)
        status = 400
    return render(request, "water/district.html", {
        **_district_context(found), "form": form, "can": can,
    }, status=status)  # fmt: skip


def _district_context(found: District) -> dict[str, Any]:
    now = datetime.now(UTC)
    figures = services.figures(found)
    blocks = services.hourly_flow(found, now=now)
    flow_points = [(timezone.localtime(t).strftime("%d/%m %Hh"), v) for t, v in blocks]
    nights = services.night_flows(found)
    night_points = [(d.strftime("%d/%m"), v) for d, v in nights]
    days = services.balances(found)
    balance_points = [(b.day.strftime("%d/%m"), b.inflow_m3) for b in days]
    quality = [(term, figures.quality.get(term), *services.QUALITY_LIMITS[term],
                services.QUALITY_UNITS[term]) for term in services.QUALITY_LIMITS]  # fmt: skip
    low, high = services.PRESSURE_SERVICE
    ids = [found.inflow_entity, services.pressure_id(found.slug), services.quality_id(found.slug)]
    return {
        "district": found,
        "commune": _names().get(found.commune, found.commune),
        "figures": figures,
        "flow_chart": charts.bars(flow_points),
        "flow_rows": [(timezone.localtime(t), v) for t, v in blocks],
        "night_chart": charts.bars(night_points, limit=found.night_flow_threshold),
        "nights": [(d, v, v is not None and v > found.night_flow_threshold) for d, v in nights],
        "balance_chart": charts.bars(
            balance_points, second=[b.estimated_m3 for b in days], decimals=1
        ),
        "balances": days,
        "balance_limit": round(found.balance_threshold * 100),
        "quality": quality,
        "pressure_low": low,
        "pressure_high": high,
        "pressure_ok": figures.pressure is None or low <= figures.pressure <= high,
        "alerts": open_alerts(ids) + _meter_alerts(found),
        "since": now - timedelta(days=7),
    }


def _meter_alerts(found: District) -> list[Any]:
    serials = found.meters.using(services.DB).values_list("serial", flat=True)
    return open_alerts([services.meter_entity_id(s) for s in serials])
