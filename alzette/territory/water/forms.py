from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DistrictForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    night_flow_threshold = forms.IntegerField(
        label=_("Night minimum flow threshold (L/h)"), min_value=1, max_value=1_000_000,
        help_text=_("A leak is suspected when the lowest flow between 02:00 and 04:00 is above."),
    )  # fmt: skip
    balance_percent = forms.IntegerField(
        label=_("Network balance threshold (per cent of the inflow)"), min_value=1, max_value=99,
        help_text=_("The share of the inflow not found in metered use above which an alert fires."),
    )  # fmt: skip
