"""Dashboard widgets of the households app (registered in the dashboard's registry)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.widget import Widget


class MyBinLiftsWidget(Widget):
    slug = "my-bin-lifts"
    title = _("My bin lifts and estimated bill")
    description = _("Your household's bin lifts this year and the bill they lead to.")
    template_name = "households/widget_bill.html"

    def available(self, user: Any) -> bool:
        from alzette.personal.households.services import households_of

        return households_of(user).exists()

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        from alzette.personal.households import services

        household = services.household_of(user)
        year = timezone.localdate().year
        rows = services.lifts_by_month(household, year) if household else []
        return {
            "year": year,
            "lifts": sum(row["lifts"] for row in rows),
            "bill": services.bill_for(household, year) if household else None,
            "url": reverse("households:index"),
        }


class CentreOccupancyWidget(Widget):
    slug = "recycling-centres"
    title = _("Recycling centre occupancy")
    description = _("How many vehicles are inside the recycling centres right now.")
    template_name = "households/widget_occupancy.html"
    in_default_layout = False

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        from alzette.personal.households import services
        from alzette.personal.households.views import centre_rows

        year = timezone.localdate().year
        return {"centres": centre_rows(services.household_of(user), year)}
