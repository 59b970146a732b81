"""The boards' widget of street lighting energy: energy and cost saved per month.

Register ``alzette.territory.lighting.energy.widgets.EnergySavedWidget`` in the
hypervision widget registry (``HYPERVISION_WIDGETS``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision.widgets import Widget
from alzette.territory.lighting.energy import charts, services


class EnergySavedWidget(Widget):
    """The territory's street lighting per month: used against full power, and saved."""

    slug = "lighting-energy-saved"
    title = _("Energy and cost saved by street lighting, per month")
    description = _(
        "Energy the streetlights used per month against full-power operation, with the "
        "energy and cost saved."
    )
    theme = "lighting"
    template_name = "lighting_energy/widget.html"
    choices = {"months": ("12", "6", "24")}

    def option_label(self, name: str, value: str) -> str:
        return str(_("%(months)s months") % {"months": value})

    def context(self, request: Any, options: dict[str, str]) -> dict[str, Any]:
        rows = services.territory_savings(None, int(options.get("months") or 12))
        return {"chart": charts.monthly(rows), "total": services.total(rows)}
