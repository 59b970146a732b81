"""The indicators page, at /hypervision/indicators/ (namespace ``indicators``): every
indicator of the registry for a year, with its method, sources and ISO reference, or
the reason it cannot be computed. A read-only copy at ``public/`` for everyone: the
figures are territory-wide aggregates, never about a person."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from alzette.territory.indicators.indicators import registry
from alzette.territory.indicators.population import POPULATIONS, SOURCE, YEAR

FIRST_YEAR = 2020


def _agent(user: object) -> bool:
    return getattr(user, "role", "") in ("agent", "administrator")


def _years() -> list[int]:
    return list(range(timezone.localdate().year, FIRST_YEAR - 1, -1))


def _page(request: HttpRequest, public: bool) -> HttpResponse:
    years = _years()
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and int(raw) in years else years[0]
    bad = bool(raw) and str(year) != raw
    rows = [(indicator, indicator.compute(year)) for indicator in registry()]
    return render(request, "indicators/index.html", {
        "rows": rows, "year": year, "years": years, "bad_year": bad, "public": public,
        "population": sum(POPULATIONS.values()), "population_source": SOURCE,
        "population_year": YEAR,
    }, status=400 if bad else 200)  # fmt: skip


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if not _agent(request.user):
        raise PermissionDenied("Agents only.")
    return _page(request, public=False)


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    return _page(request, public=True)
