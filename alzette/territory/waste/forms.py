"""Forms of the agents' waste pages: filtering containers, requesting and closing pick-ups."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alzette.territory.waste.models import PickupRequest

KIND_CHOICES = [
    ("", _("All kinds")),
    ("bin", _("Household bins")),
    ("droppoint", _("Drop points")),
    ("skip", _("Recycling centre skips")),
]


class ContainerFilterForm(forms.Form):
    commune = forms.ChoiceField(label=_("Commune"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=KIND_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, communes: list[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = [("", _("All communes")), *communes]


class PickupRequestForm(forms.Form):
    skip = forms.ChoiceField(label=_("Skip"))

    def __init__(self, *args: Any, skips: list[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skip"].choices = skips


class PickupChangeForm(forms.Form):
    """Schedule, cancel or close a pick-up request (closing needs the weight)."""

    ACTIONS = [("schedule", _("Scheduled")), ("cancel", _("Cancel")), ("done", _("Done"))]

    action = forms.ChoiceField(choices=ACTIONS)
    request = forms.ModelChoiceField(
        queryset=PickupRequest.objects.none(), widget=forms.HiddenInput
    )
    weight_kg = forms.DecimalField(
        label=_("Weight collected (kg)"),
        required=False,
        min_value=0,
        max_value=50_000,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )

    def __init__(self, *args: Any, requests: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if requests is not None:
            self.fields["request"].queryset = requests

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "done" and data.get("weight_kg") is None:
            self.add_error("weight_kg", _("Give the weight collected to close the request."))
        return data
