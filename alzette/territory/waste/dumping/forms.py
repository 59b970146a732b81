"""Forms of the dumping pages: fields for places, days and categories, never free text."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.territory.waste.dumping.models import Category, Intervention, Volume


class ReportForm(forms.Form):
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                           help_text=_("Decimal degrees, e.g. 49.4742"))  # fmt: skip
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180,
                           help_text=_("Decimal degrees, e.g. 5.9583"))  # fmt: skip
    categories = forms.MultipleChoiceField(
        label=_("Kind of waste"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    volume = forms.ChoiceField(label=_("Estimated volume"), choices=Volume.choices)
    observed_on = forms.DateField(
        label=_("Observed on"), initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip


class PlanForm(forms.Form):
    target = forms.CharField(widget=forms.HiddenInput, max_length=50)
    team = forms.CharField(label=_("Team"), max_length=80)
    planned_for = forms.DateField(
        label=_("Planned for"), initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip

    def clean_planned_for(self):  # noqa: ANN201
        day = self.cleaned_data["planned_for"]
        if day < timezone.localdate():
            raise forms.ValidationError(_("An intervention cannot be planned in the past."))
        return day


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Intervention.Outcome.choices)


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Reports of the last"), coerce=int, required=False,
        choices=[(30, _("30 days")), (90, _("90 days")), (365, _("365 days"))],
    )  # fmt: skip
