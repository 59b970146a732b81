"""The form agents fill in to compute a round."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.territory.waste.rounds import services

#: How far ahead a round may be planned.
MAX_DAYS_AHEAD = 60


class PlanForm(forms.Form):
    trucks = forms.IntegerField(
        label=_("Trucks"),
        min_value=1,
        max_value=50,
        help_text=_("How many of the active trucks go out."),
    )
    threshold = forms.DecimalField(
        label=_("Fill threshold (%)"),
        min_value=5,
        max_value=100,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
        initial=70,
        help_text=_("Bins at least this full are emptied, and those forecast to overflow."),
    )
    planned_for = forms.DateField(
        label=_("Day of the round"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("From today up to 60 days ahead."),
    )
    horizon = forms.IntegerField(
        label=_("Days until the next round"),
        min_value=1,
        max_value=60,
        initial=services.DEFAULT_HORIZON_DAYS,
        help_text=_("A bin forecast to overflow before then is emptied now."),
    )

    def __init__(self, *args: Any, available: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.available = available
        self.fields["trucks"].initial = available or 1
        self.fields["planned_for"].initial = timezone.localdate()

    def clean_trucks(self) -> int:
        trucks = self.cleaned_data["trucks"]
        if trucks > self.available:
            raise forms.ValidationError(
                _("Only %(count)d active trucks are available.") % {"count": self.available}
            )
        return trucks

    def clean_planned_for(self) -> Any:
        day = self.cleaned_data["planned_for"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError(_("A round cannot be planned in the past."))
        if day > today + timedelta(days=MAX_DAYS_AHEAD):
            raise forms.ValidationError(_("A round is planned at most 60 days ahead."))
        return day
