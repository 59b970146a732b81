"""The agents' street lighting energy page (/hypervision/lighting/energy/)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from alzette.territory.lighting.energy import charts, services
from alzette.territory.lighting.energy.forms import EnergyFilterForm
from alzette.territory.supervision.services import actor_of


def _communes() -> list[tuple[str, str]]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    units = TerritorialUnit.objects.using(services.DB).filter(kind=UnitKind.COMMUNE)
    return list(units.order_by("name").values_list("code", "name"))


def _month_choices(today: date) -> list[tuple[str, str]]:
    firsts = services.months_list(24, today)
    return [(f"{m:%Y-%m}", formats.date_format(m, "YEAR_MONTH_FORMAT")) for m in reversed(firsts)]


@never_cache
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Energy per month against full power, totals, and one month per commune."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not services.abilities(actor_of(request.user))["view"]:
        raise PermissionDenied
    today = timezone.localdate()
    communes = _communes()
    form = EnergyFilterForm(request.GET, communes=communes, month_choices=_month_choices(today))
    context = {"form": form, "eur_per_kwh": services.eur_per_kwh(),
               "kg_co2_per_kwh": services.kg_co2_per_kwh()}  # fmt: skip
    if not form.is_valid():
        return render(request, "lighting_energy/index.html", context, status=400)
    data = form.cleaned_data
    commune = data["commune"] or None
    rows = services.territory_savings(commune, data["months"], today)
    month = data["month"] or rows[-1].month
    per_commune = services.savings(None, 1, month)
    names = dict(communes)
    context.update({
        "commune": commune, "commune_name": names.get(commune or "", ""),
        "months": data["months"], "rows": rows, "totals": services.total(rows),
        "chart": charts.monthly(rows), "month": month,
        "per_commune": [(names.get(r.commune, r.commune), r) for r in per_commune],
        "month_total": services.total(services.territory_savings(None, 1, month)),
    })  # fmt: skip
    return render(request, "lighting_energy/index.html", context)
