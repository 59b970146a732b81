"""The filter of the energy page: a commune, how many months, and the month detailed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

MONTHS = [("12", _("12 months")), ("6", _("6 months")), ("24", _("24 months"))]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class EnergyFilterForm(forms.Form):
    commune = forms.ChoiceField(label=_("Commune"), required=False)
    months = forms.ChoiceField(label=_("Period"), choices=MONTHS, required=False)
    month = forms.ChoiceField(label=_("Month detailed per commune"), required=False)

    def __init__(self, *args: Any, communes: list[tuple[str, str]] = (),
                 month_choices: list[tuple[str, str]] = (), **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = [("", _("All communes")), *communes]
        self.fields["month"].choices = [("", _("Latest month")), *month_choices]

    def clean_months(self) -> int:
        return int(self.cleaned_data.get("months") or 12)

    def clean_month(self) -> date | None:
        raw = self.cleaned_data.get("month") or ""
        found = _MONTH.match(raw)
        return date(int(found.group(1)), int(found.group(2)), 1) if found else None
