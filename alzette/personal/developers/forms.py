"""Forms of the developer portal; the rules themselves are checked by the models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners import scopes as vocab
from alzette.territory.partners.models import App, Community


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name of the organisation"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[c for c in Organisation.Kind.choices if c[0] != Organisation.Kind.PUBLIC],
    )
    siret = forms.CharField(
        label=_("SIRET (optional)"),
        max_length=14,
        required=False,
        validators=[RegexValidator(r"^[0-9]{14}$", _("A SIRET number has 14 digits."))],
    )
    description = forms.CharField(
        label=_("What you do"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    url = forms.URLField(label=_("Web site"), required=False, assume_scheme="https")
    contact_email = forms.EmailField(
        label=_("Contact address of the organisation"),
        required=False,
        help_text=_("A shared mailbox rather than a person's address."),
    )


class AppForm(forms.Form):
    name = forms.CharField(label=_("Name of the application"), max_length=120)
    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=App.Environment.choices,
        initial=App.Environment.SANDBOX,
        widget=forms.RadioSelect,
        help_text=_("Start in the sandbox: synthetic data for every theme, the same APIs."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=list(vocab.SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
    )


class GrantForm(forms.Form):
    on_behalf = forms.ChoiceField(
        label=_("On behalf of"),
        required=False,
        help_text=_("For an API scope; a dataset is always shared by its publisher."),
    )
    subject = forms.ChoiceField(label=_("What to share"))
    grantee = forms.ChoiceField(label=_("With whom"))
    purpose = forms.CharField(
        label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )
    starts = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends = forms.DateField(
        label=_("Until (included)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        *args: Any,
        owners: list[Organisation],
        datasets: list[Dataset],
        organisations: list[Organisation],
        communities: list[Community],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["on_behalf"].choices = [(o.slug, o.name) for o in owners]
        if len(owners) == 1:
            self.fields["on_behalf"].widget = forms.HiddenInput()
            self.fields["on_behalf"].initial = owners[0].slug
        self.fields["starts"].initial = today
        self.fields["ends"].initial = today + timedelta(days=90)
        self.fields["subject"].choices = [
            (
                _("Datasets"),
                [(f"dataset:{d.identifier}", d.title.get("fr", d.identifier)) for d in datasets],
            ),
            (
                _("API scopes"),
                [(f"scope:{s}", f"{s} — {vocab.SCOPES[s]}") for s in vocab.GRANTABLE],
            ),
        ]
        self.fields["grantee"].choices = [
            (_("Organisations"), [(f"organisation:{o.slug}", o.name) for o in organisations]),
            (_("Communities"), [(f"community:{c.slug}", c.name) for c in communities]),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        single = len(self.fields["on_behalf"].choices) == 1
        if not data.get("on_behalf") and single:
            data["on_behalf"] = self.fields["on_behalf"].choices[0][0]
        if not data.get("on_behalf") and str(data.get("subject", "")).startswith("scope:"):
            self.add_error("on_behalf", _("Say on behalf of which organisation you share."))
        if data.get("starts") and data.get("ends") and data["ends"] < data["starts"]:
            self.add_error("ends", _("The end must come after the start."))
        return data


class CommunityForm(forms.Form):
    slug = forms.SlugField(label=_("Short name"), max_length=100)
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    members = forms.MultipleChoiceField(
        label=_("Members"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].choices = [(o.slug, o.name) for o in organisations]
