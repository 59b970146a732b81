"""Texts written in several of the platform's languages, stored as one JSON object.

A catalogue entry (a service, a provider) is written by people, not by
translators: they fill French and whichever other languages they can. Readers
get their language when it was written, else French (the default), else any
language present, so a page never shows an empty title.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def language_codes() -> list[str]:
    """The platform's languages, the default first."""
    codes = [code for code, _name in settings.LANGUAGES]
    default = settings.LANGUAGE_CODE
    return [default, *[code for code in codes if code != default]]


def pick(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """The text in ``language`` (the active one by default), else the default
    language's, else the first one written; "" when there is none."""
    if not texts:
        return ""
    language = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0]
    for code in (language, settings.LANGUAGE_CODE, *texts):
        text = (texts.get(code) or "").strip()
        if text:
            return text
    return ""


def validate_translations(value: object) -> None:
    """A JSON object of known language codes to strings, with the default language filled."""
    if not isinstance(value, dict):
        raise ValidationError(_("Expected an object of texts by language."))
    unknown = sorted(set(value) - set(language_codes()))
    if unknown:
        raise ValidationError(
            _("Unknown language(s): %(codes)s."), params={"codes": ", ".join(unknown)}
        )
    if any(not isinstance(text, str) for text in value.values()):
        raise ValidationError(_("Each translation must be a text."))
    if not (value.get(settings.LANGUAGE_CODE) or "").strip():
        raise ValidationError(_("The text in the default language is required."))


def validate_optional_translations(value: object) -> None:
    """Like ``validate_translations``, but an empty object (no text at all) is allowed."""
    if value == {}:
        return
    validate_translations(value)
