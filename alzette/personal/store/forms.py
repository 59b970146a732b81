"""Forms of the service store: search, the provider's service form, moderation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.validators import AllowedURIValidator

from alzette.core.translated import language_codes
from alzette.personal.accounts.models import OrganisationalUnit, UnitKind
from alzette.personal.sso.conf import REQUIRED_SCOPE, SCOPES
from alzette.personal.store import services
from alzette.personal.store.models import Provider, Service, Theme

#: Fields written in every platform language: name -> (label, widget, max length).
TRANSLATED = {
    "name": (_("Name"), forms.TextInput, 80),
    "summary": (_("Summary (one sentence)"), forms.TextInput, 200),
    "description": (_("Description"), forms.Textarea, 4000),
}


def communes() -> Any:
    return OrganisationalUnit.objects.filter(kind=UnitKind.COMMUNE).order_by("name")


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    theme = forms.ChoiceField(
        label=_("Theme"), required=False, choices=[("", _("All themes")), *Theme.choices]
    )
    commune = forms.ModelChoiceField(
        label=_("Commune"),
        required=False,
        queryset=communes(),
        to_field_name="code",
        empty_label=_("All communes"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes()


class ServiceForm(forms.ModelForm):
    """A provider's service: texts in every language (French required), links, logo,
    and what single sign-on it needs."""

    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Provider.objects.none())
    communes = forms.ModelMultipleChoiceField(
        label=_("Communes served"),
        queryset=communes(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none for a service of the whole territory."),
    )
    logo_file = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG, WebP or GIF, 1 MB at most; shown at 256 pixels at most."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Account details the service asks for"),
        required=False,
        choices=[(scope, text) for scope, text in SCOPES.items() if scope != REQUIRED_SCOPE],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only with single sign-on. People see and accept this list."),
    )

    web_url = forms.URLField(label=_("Web address"), required=False, assume_scheme="https")
    android_url = forms.URLField(label=_("Android app"), required=False, assume_scheme="https")
    ios_url = forms.URLField(label=_("iOS app"), required=False, assume_scheme="https")

    class Meta:
        model = Service
        fields = ("provider", "slug", "theme", "communes", "web_url", "android_url", "ios_url")
        help_texts = {
            "slug": _("Used in the address of the service's page, e.g. compost-collection."),
        }

    def __init__(self, *args: Any, providers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["communes"].queryset = communes()
        self.fields["redirect_uris"] = forms.CharField(
            label=_("Redirect URIs for single sign-on"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=_(
                "One per line. Leave empty for a service that does not sign people in "
                "with their Alzette account."
            ),
        )
        self.language_fields: list[tuple[str, list[forms.BoundField]]] = []
        instance = self.instance
        for field, (label, widget, max_length) in TRANSLATED.items():
            bound = []
            for code in language_codes():
                key = f"{field}_{code}"
                self.fields[key] = forms.CharField(
                    label=get_language_info(code)["name_local"].capitalize(),
                    required=code == settings.LANGUAGE_CODE,
                    max_length=max_length,
                    widget=widget(
                        attrs={"lang": code, "rows": 4}
                        if widget is forms.Textarea
                        else {"lang": code}
                    ),
                    initial=(getattr(instance, field) or {}).get(code, "")
                    if not instance._state.adding
                    else "",
                )
                bound.append(self[key])
            self.language_fields.append((str(label), bound))
        if not instance._state.adding:
            self.fields["redirect_uris"].initial = "\n".join(instance.redirect_uris.split())
            self.fields["scopes"].initial = instance.requested_scopes.split()
            if instance.signs_in:
                # The client exists: its addresses are the operators' to change.
                self.fields["redirect_uris"].disabled = True
        self.order_fields(["provider", "slug", *self._translated_names(), "theme"])

    def _translated_names(self) -> list[str]:
        return [f"{field}_{code}" for field in TRANSLATED for code in language_codes()]

    def clean_redirect_uris(self) -> str:
        uris = self.cleaned_data["redirect_uris"].split()
        validator = AllowedURIValidator(
            oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES, name="redirect uri", allow_path=True
        )
        for uri in uris:
            try:
                validator(uri)
            except ValidationError as exc:
                raise ValidationError(
                    _("%(uri)s is not an allowed redirect URI (https, no fragment)."),
                    params={"uri": uri},
                ) from exc
        return " ".join(uris)

    def clean_logo_file(self) -> bytes | None:
        """The logo re-encoded as PNG: checked here for a clear error, stored by the view
        once the whole form is valid."""
        upload = self.cleaned_data.get("logo_file")
        return services.logo_png(upload, upload.size) if upload else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        scopes = cleaned.get("scopes") or []
        if scopes and not cleaned.get("redirect_uris"):
            self.add_error("redirect_uris", _("Single sign-on needs at least one redirect URI."))
        for field in TRANSLATED:
            setattr(
                self.instance,
                field,
                {
                    code: text
                    for code in language_codes()
                    if (text := (cleaned.get(f"{field}_{code}") or "").strip())
                },
            )
        self.instance.redirect_uris = cleaned.get("redirect_uris", "")
        self.instance.requested_scopes = " ".join(scopes)
        return cleaned


class ModerationForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Publish")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note to the provider"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject: say what to change."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Tell the provider why the service is rejected."))
        return cleaned
