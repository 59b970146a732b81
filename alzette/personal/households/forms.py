"""Agents' forms: households, bins, cards and tariffs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.personal.households.models import CardKind


def commune_choices(codes: frozenset[str]) -> list[tuple[str, str]]:
    from alzette.territory.geo.models import TerritorialUnit

    names = dict(TerritorialUnit.objects.filter(code__in=codes).values_list("code", "name"))
    return sorted(
        ((code, f"{names.get(code, code)} ({code})") for code in codes), key=lambda c: c[1]
    )


class HouseholdForm(forms.Form):
    commune = forms.ChoiceField(label=_("Commune"))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=64,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", _("Letters, digits, '.', '_' and '-'."))
        ],
        help_text=_("The household's billing reference, unique on the territory."),
    )
    member_email = forms.EmailField(
        label=_("E-mail address of a member (optional)"),
        required=False,
        help_text=_("The account of a person of the household, if they have one."),
    )

    def __init__(self, *args: Any, communes: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = commune_choices(communes)

    def clean_member_email(self) -> Any:
        email = self.cleaned_data["member_email"].strip().lower()
        if not email:
            return None
        user = get_user_model().objects.filter(email=email).first()
        if user is None:
            raise forms.ValidationError(_("No account has this e-mail address."))
        return user


class BinForm(forms.Form):
    bin_id = forms.CharField(
        label=_("Bin"),
        max_length=120,
        validators=[
            RegexValidator(
                r"^(urn:ngsi-ld:WasteContainer:)?bin-[0-9][0-9AB][0-9]{3}-[0-9]{1,6}$",
                _("A household bin is named bin-<INSEE code>-<number>, e.g. bin-57038-001."),
            )
        ],
        help_text=_("The bin's device name, e.g. bin-57038-001."),
    )
    starts_on = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class CardForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CardKind.choices)
    value = forms.CharField(
        label=_("Badge number or number plate"),
        max_length=64,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9 -]*$", _("Letters, digits, spaces and dashes."))
        ],
        help_text=_("Only its last three characters are kept readable."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class TariffForm(forms.Form):
    commune = forms.ChoiceField(label=_("Commune"), required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    fixed_eur = forms.DecimalField(
        label=_("Fixed part (€)"), min_value=0, max_digits=8, decimal_places=2
    )
    per_lift_eur = forms.DecimalField(
        label=_("Price per lift beyond those included (€)"),
        min_value=0,
        max_digits=6,
        decimal_places=2,
    )
    per_kg_eur = forms.DecimalField(
        label=_("Price per kg (€)"), min_value=0, max_digits=6, decimal_places=3
    )
    included_lifts = forms.IntegerField(
        label=_("Lifts included in the fixed part"), min_value=0, max_value=365
    )

    def __init__(
        self, *args: Any, communes: frozenset[str], territory_wide: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = commune_choices(communes)
        if territory_wide:
            choices = [("", _("Every commune without its own tariff")), *choices]
        self.fields["commune"].choices = choices
        self.fields["commune"].required = not territory_wide
        self.fields["year"].initial = timezone.localdate().year
