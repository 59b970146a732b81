"""The widgets the dashboard offers: dotted paths of ``Widget`` subclasses, in order.

To add a widget, write its class (copy a sibling in ``widgets/``) and add its
dotted path below. A deployment may replace the whole list with the setting
``ALZETTE_DASHBOARD_WIDGETS`` (a list of dotted paths). The order of the list is
the order of the default layout and of the "add a widget" list.

The list is loaded once per distinct value and checked: a path that does not
import, a class that is not a ``Widget``, a bad or duplicate slug, a missing
title or template, an unknown default size all raise ``ImproperlyConfigured``
(the system check ``dashboard.E001`` reports them at start-up).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from alzette.personal.dashboard.models import SLUG, Size
from alzette.personal.dashboard.widget import Widget

DASHBOARD_WIDGETS: list[str] = [
    "alzette.personal.dashboard.widgets.territory.TerritoryWidget",
    "alzette.personal.dashboard.widgets.security.AccountSecurityWidget",
    "alzette.personal.dashboard.widgets.receipts.LedgerReceiptsWidget",
    "alzette.personal.dashboard.widgets.connected.ConnectedServicesWidget",
    "alzette.personal.procedures.widgets.MyProceduresWidget",
    "alzette.personal.households.widgets.MyBinLiftsWidget",
    "alzette.personal.homewater.widgets.MyWaterWidget",
    "alzette.personal.households.widgets.CentreOccupancyWidget",
]


def widget_paths() -> tuple[str, ...]:
    """The configured dotted paths: the setting when present, else ``DASHBOARD_WIDGETS``."""
    return tuple(getattr(settings, "ALZETTE_DASHBOARD_WIDGETS", DASHBOARD_WIDGETS))


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> dict[str, Widget]:
    widgets: dict[str, Widget] = {}
    for path in paths:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"Dashboard widget {path!r} cannot be imported: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, Widget)):
            raise ImproperlyConfigured(f"Dashboard widget {path!r} is not a Widget subclass.")
        widget = cls()
        problem = _problem(widget)
        if problem:
            raise ImproperlyConfigured(f"Dashboard widget {path!r}: {problem}")
        if widget.slug in widgets:
            raise ImproperlyConfigured(
                f"Dashboard widget {path!r}: the slug {widget.slug!r} is already taken by "
                f"{type(widgets[widget.slug]).__module__}.{type(widgets[widget.slug]).__name__}."
            )
        widgets[widget.slug] = widget
    return widgets


def _problem(widget: Widget) -> str:
    if not isinstance(widget.slug, str) or not SLUG.fullmatch(widget.slug):
        return f"invalid slug {widget.slug!r} (lowercase letters, digits and '-', 48 at most)."
    if not str(widget.title):
        return "it has no title."
    if not widget.template_name:
        return "it has no template_name."
    if widget.default_size not in Size.values:
        return f"unknown default size {widget.default_size!r} (one of {Size.values})."
    return ""


def widgets() -> dict[str, Widget]:
    """Every registered widget by slug, in registry order."""
    return _load(widget_paths())


def get(slug: str) -> Widget | None:
    return widgets().get(slug)


def available_to(user: Any) -> dict[str, Widget]:
    """The registered widgets ``user`` may have, by slug, in registry order."""
    return {slug: widget for slug, widget in widgets().items() if widget.available(user)}


def reload() -> None:
    """Forget the loaded widgets (after code or settings changed, e.g. in tests)."""
    _load.cache_clear()
