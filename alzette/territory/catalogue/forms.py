"""The catalogue's search form: every GET parameter of /data/ is checked here, so that
a bad one is a form error (400), never a server error."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from alzette.territory.catalogue import search, services, vocab
from alzette.territory.catalogue.models import Organisation

_COMMUNE = re.compile(r"(2A|2B|[0-9]{2})[0-9]{3}")


class _CodesField(forms.MultipleChoiceField):
    """Several INSEE codes: any well-formed code is accepted (a commune the territory
    does not know simply matches nothing)."""

    def valid_value(self, value: str) -> bool:
        return bool(_COMMUNE.fullmatch(value))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search the datasets"), required=False, max_length=200)
    theme = forms.MultipleChoiceField(label=_("Themes"), required=False,
                                      choices=list(vocab.THEMES.items()))  # fmt: skip
    publisher = forms.MultipleChoiceField(label=_("Publishers"), required=False)
    licence = forms.MultipleChoiceField(
        label=_("Licences"),
        required=False,
        choices=[(key, licence.title) for key, licence in vocab.LICENCES.items()],
    )
    format = forms.MultipleChoiceField(
        label=_("Formats"),
        required=False,
        choices=[(key, search.FORMAT_LABELS.get(key, key)) for key in services.FORMATS],
    )
    commune = _CodesField(label=_("Communes"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("title", _("Title")), ("updated", _("Most recently updated"))],
    )
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slugs = Organisation.objects.using(services.DB).values_list("slug", "name")
        self.fields["publisher"].choices = list(slugs)

    def filters(self) -> dict[str, list[str]]:
        """Facet name -> the values chosen (a valid form)."""
        return {name: self.cleaned_data.get(name) or [] for name in search.FACETS}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, comma or semicolon separated, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
