"""Validators shared by the apps: short names in URLs."""

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
