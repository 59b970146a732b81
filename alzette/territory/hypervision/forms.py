"""The live map's filters and the boards' forms (plain GET/POST forms, no script needed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alzette.territory.hypervision import layers


def _communes() -> list[tuple[str, str]]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    rows = TerritorialUnit.objects.using(layers.DB).filter(kind=UnitKind.COMMUNE)
    return [(code, name) for code, name in rows.order_by("name").values_list("code", "name")]


class MapFilterForm(forms.Form):
    """Which layers, of which theme, in which commune (all when empty)."""

    commune = forms.ChoiceField(label=_("Commune"), required=False)
    theme = forms.ChoiceField(label=_("Theme"), required=False)
    layers = forms.MultipleChoiceField(
        label=_("Layers"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = [("", _("All communes")), *_communes()]
        self.fields["theme"].choices = [("", _("All themes")), *layers.THEMES.items()]
        self.fields["layers"].choices = [(s, lay.title) for s, lay in layers.layers().items()]

    def selected(self) -> list[layers.Layer]:
        data = self.cleaned_data if self.is_bound else {}
        return layers.select(data.get("layers") or (), data.get("theme") or "")

    def chosen_commune(self) -> str | None:
        return (self.cleaned_data.get("commune") if self.is_bound else None) or None


class BoardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    shared = forms.BooleanField(label=_("Share with every agent"), required=False)
