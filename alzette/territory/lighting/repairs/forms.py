"""Forms of the repairs pages: numbers, days and choices, never free text about people."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.territory.lighting.repairs.models import Repair


class ReportForm(forms.Form):
    lamp = forms.CharField(label=_("Number on the pole"), max_length=40,
                           help_text=_("For example 57038-001"))  # fmt: skip
    fault = forms.ChoiceField(
        label=_("Fault"),
        choices=[("defectiveLamp", _("Defective lamp")), ("columnIssue", _("Column issue")),
                 ("brokenLantern", _("Broken lantern")), ("lampOut", _("Lamp out"))],
    )  # fmt: skip


class PlanForm(forms.Form):
    team = forms.CharField(label=_("Team"), max_length=80)
    planned_for = forms.DateField(
        label=_("Planned for"), initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Repair.Outcome.choices)
