"""The preferences form: the language the platform writes to the person in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _


def _choices() -> list[tuple[str, Any]]:
    # Each language in its own name, as the header's switch shows them.
    return [("", _("Not chosen: the platform's default language"))] + [
        (code, get_language_info(code)["name_local"].capitalize())
        for code, _n in settings.LANGUAGES
    ]


class PreferencesForm(forms.Form):
    preferred_language = forms.ChoiceField(
        label=_("My language"),
        choices=_choices,
        required=False,
        help_text=_(
            "E-mails from the platform (water warnings, news of your files, alerts) are "
            "written in this language. Changing the language in the header changes it too."
        ),
    )
