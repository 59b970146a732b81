"""Validators shared by the apps: short names in URLs, retention settings."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

#: A short name used in addresses: lower-case words joined by single hyphens.
slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", _("Lower-case letters, digits and single hyphens only.")
)


@deconstructible
class ReservedSlugValidator:
    """Refuses the short names a URL scheme already uses (``/services/manage/``...)."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.reserved = tuple(sorted(reserved))

    def __call__(self, value: str) -> None:
        if value in self.reserved:
            raise ValidationError(_("This short name is reserved; choose another."))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReservedSlugValidator) and self.reserved == other.reserved

    def __hash__(self) -> int:
        return hash(self.reserved)


def days_problem(value: object) -> str:
    """Why ``value`` cannot be a retention setting in days (a whole number, at least 1);
    empty when it can. Shared by the settings' system checks and their purges."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be a whole number of days, got {value!r}"
    if value < 1:
        return f"must be at least 1 day, got {value}"
    return ""
