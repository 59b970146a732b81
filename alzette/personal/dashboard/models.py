"""Each person's dashboard layout (personal repository)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from alzette.core.models import BaseModel

#: A widget's slug: what the layout stores and the forms post.
SLUG = re.compile(r"[a-z][a-z0-9-]{0,47}")
#: More entries than any registry will hold: a bound on what a row may contain.
MAX_ENTRIES = 100


class Size(models.TextChoices):
    """How much room a widget takes on a desktop screen (on a phone: always the full width)."""

    NORMAL = "normal", _("Normal")
    WIDE = "wide", _("Wide")


class DashboardLayout(BaseModel):
    """The widgets a person put on their dashboard, in order, with their sizes.

    ``widgets`` is a list of ``{"slug": ..., "size": ...}``. Entries whose widget
    is no longer registered, or not available to the person right now, are kept
    but not shown: they come back if the widget does.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="dashboard_layout",
    )
    widgets = models.JSONField(_("widgets"), default=list, blank=True)

    class Meta:
        verbose_name = _("dashboard layout")
        verbose_name_plural = _("dashboard layouts")

    def __str__(self) -> str:
        return f"dashboard layout ({len(self.widgets)} widgets)"

    def clean(self) -> None:
        super().clean()
        problems = layout_problems(self.widgets)
        if problems:
            raise ValidationError({"widgets": problems})

    def entries(self) -> list[tuple[str, str]]:
        """(slug, size) pairs, in order."""
        return [(entry["slug"], entry["size"]) for entry in self.widgets]


def layout_problems(value: Any) -> list[str]:
    """Why ``value`` is not a valid list of widget entries (empty when it is)."""
    if not isinstance(value, list):
        return ["The layout must be a list."]
    if len(value) > MAX_ENTRIES:
        return [f"A layout holds at most {MAX_ENTRIES} widgets."]
    problems, seen = [], set()
    for position, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"slug", "size"}:
            problems.append(f"Entry {position} must have exactly a slug and a size.")
            continue
        slug, size = entry["slug"], entry["size"]
        if not isinstance(slug, str) or not SLUG.fullmatch(slug):
            problems.append(f"Entry {position}: invalid slug {slug!r}.")
        elif slug in seen:
            problems.append(f"Entry {position}: {slug!r} appears twice.")
        seen.add(slug)
        if size not in Size.values:
            problems.append(f"Entry {position}: invalid size {size!r}.")
    return problems
