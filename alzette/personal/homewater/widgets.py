"""The dashboard widget of the homewater app (registered in the dashboard's registry)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.widget import Widget


class MyWaterWidget(Widget):
    slug = "my-water"
    title = _("My water consumption")
    description = _("Your household's water use over the last days, and any leak warning.")
    template_name = "homewater/widget.html"

    def available(self, user: Any) -> bool:
        from alzette.personal.homewater import services

        household = services.household_of(user)
        return (
            services.abilities(user)["read_own"]
            and household is not None
            and services.current_meter(household) is not None
        )

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        from alzette.personal.homewater import services

        household = services.household_of(user)
        days = services.days_of(household, timezone.localdate(), 7) if household else []
        return {
            "week": sum(d["litres"] for d in days),
            "yesterday": days[-1]["litres"] if days else 0,
            "open": list(household.water_warnings.filter(ended_at__isnull=True))
            if household
            else [],
            "url": reverse("homewater:index"),
        }
