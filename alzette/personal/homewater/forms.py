"""Agents' form: allocate a water meter to a household."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _


class MeterForm(forms.Form):
    serial = forms.CharField(
        label=_("Meter serial"),
        max_length=16,
        validators=[
            RegexValidator(
                r"^\s*[A-Za-z][A-Za-z0-9]{1,5}-[0-9]{4,9}\s*$",
                _("A meter serial looks like W26-000123."),
            )
        ],
        help_text=_("Printed on the meter, e.g. W26-000123."),
    )
    persons = forms.IntegerField(
        label=_("Persons living in the household"), min_value=1, max_value=30, initial=1
    )
    starts_on = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
