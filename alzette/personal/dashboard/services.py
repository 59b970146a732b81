"""The dashboard domain: each person's layout and the changes they make to it (no HTTP).

The functions take the registered widgets as a mapping slug -> widget (what
``registry.widgets()`` returns) rather than importing the registry: widgets may
come from any app and depend on anything, this module depends on nothing but
the ORM. Every change happens in one transaction on the personal repository,
with the person's layout row locked, and is refused as a whole
(``LayoutRefused``, with a translated reason) when anything is wrong: the
layout is then unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.utils.translation import gettext as _

from alzette.core.repositories import PERSONAL
from alzette.personal.dashboard.models import DashboardLayout, Size

UP, DOWN = "up", "down"


class WidgetLike(Protocol):
    """What this module needs of a widget (``widget.Widget`` provides it)."""

    slug: str
    title: Any
    default_size: str
    in_default_layout: bool

    def available(self, user: Any) -> bool: ...


class LayoutRefused(Exception):
    """A change that was not made; ``str(exception)`` says why, in the reader's language."""


@dataclass(frozen=True)
class Placed:
    """A widget on a person's dashboard, as shown."""

    widget: Any
    size: str
    position: int  # 1-based, among the widgets shown
    count: int  # how many widgets are shown


def default_entries(user: Any, widgets: Mapping[str, WidgetLike]) -> list[dict[str, str]]:
    """The first-visit layout: the widgets marked for it that ``user`` may have."""
    return [
        {"slug": slug, "size": widget.default_size}
        for slug, widget in widgets.items()
        if widget.in_default_layout and widget.available(user)
    ]


def layout_for(user: Any, widgets: Mapping[str, WidgetLike]) -> DashboardLayout:
    """``user``'s layout, created with the default one on their first visit."""
    layout = DashboardLayout.objects.filter(user=user).first()
    if layout is not None:
        return layout
    with transaction.atomic(using=PERSONAL):
        layout, _created = DashboardLayout.objects.get_or_create(
            user=user, defaults={"widgets": default_entries(user, widgets)}
        )
    return layout


def shown(layout: DashboardLayout, user: Any, widgets: Mapping[str, WidgetLike]) -> list[Placed]:
    """The widgets of ``layout`` that are registered and available to ``user``, in order."""
    visible = [
        (widgets[slug], size)
        for slug, size in layout.entries()
        if slug in widgets and widgets[slug].available(user)
    ]
    return [
        Placed(widget, size, position, len(visible))
        for position, (widget, size) in enumerate(visible, start=1)
    ]


def addable(
    layout: DashboardLayout, user: Any, widgets: Mapping[str, WidgetLike]
) -> list[WidgetLike]:
    """The widgets ``user`` may add: available to them and not on their dashboard yet."""
    present = {slug for slug, _size in layout.entries()}
    return [
        widget for slug, widget in widgets.items() if slug not in present and widget.available(user)
    ]


# --- Changes ---------------------------------------------------------------


def _widget(slug: str, user: Any, widgets: Mapping[str, WidgetLike]) -> WidgetLike:
    widget = widgets.get(slug) if isinstance(slug, str) else None
    if widget is None:
        raise LayoutRefused(_("This widget does not exist."))
    if not widget.available(user):
        raise LayoutRefused(_("This widget is not available to you."))
    return widget


def _locked(user: Any, widgets: Mapping[str, WidgetLike]) -> DashboardLayout:
    layout_for(user, widgets)
    return DashboardLayout.objects.select_for_update().get(user=user)


def _index(layout: DashboardLayout, widget: WidgetLike) -> int:
    for index, entry in enumerate(layout.widgets):
        if entry["slug"] == widget.slug:
            return index
    raise LayoutRefused(_("“%(widget)s” is not on your dashboard.") % {"widget": widget.title})


def add(user: Any, slug: str, widgets: Mapping[str, WidgetLike]) -> Placed:
    """Put widget ``slug`` at the end of ``user``'s dashboard, at its default size."""
    with transaction.atomic(using=PERSONAL):
        widget = _widget(slug, user, widgets)
        layout = _locked(user, widgets)
        if any(entry["slug"] == slug for entry in layout.widgets):
            raise LayoutRefused(
                _("“%(widget)s” is already on your dashboard.") % {"widget": widget.title}
            )
        layout.widgets = [*layout.widgets, {"slug": slug, "size": widget.default_size}]
        layout.save()
    return _placed(layout, user, widgets, slug)


def remove(user: Any, slug: str, widgets: Mapping[str, WidgetLike]) -> WidgetLike:
    """Take widget ``slug`` off ``user``'s dashboard."""
    with transaction.atomic(using=PERSONAL):
        widget = _widget(slug, user, widgets)
        layout = _locked(user, widgets)
        index = _index(layout, widget)
        layout.widgets = layout.widgets[:index] + layout.widgets[index + 1 :]
        layout.save()
    return widget


def move(user: Any, slug: str, direction: str, widgets: Mapping[str, WidgetLike]) -> Placed:
    """Swap widget ``slug`` with the shown widget before (``up``) or after it (``down``).

    Entries that are not shown (widget gone or unavailable) are stepped over, so
    that every move changes what the person sees.
    """
    if direction not in (UP, DOWN):
        raise LayoutRefused(_("A widget moves up or down, nothing else."))
    with transaction.atomic(using=PERSONAL):
        widget = _widget(slug, user, widgets)
        layout = _locked(user, widgets)
        index = _index(layout, widget)
        visible = [
            i
            for i, entry in enumerate(layout.widgets)
            if entry["slug"] in widgets and widgets[entry["slug"]].available(user)
        ]
        at = visible.index(index)
        if direction == UP and at == 0:
            raise LayoutRefused(_("“%(widget)s” is already first.") % {"widget": widget.title})
        if direction == DOWN and at == len(visible) - 1:
            raise LayoutRefused(_("“%(widget)s” is already last.") % {"widget": widget.title})
        other = visible[at - 1] if direction == UP else visible[at + 1]
        entries = list(layout.widgets)
        entries[index], entries[other] = entries[other], entries[index]
        layout.widgets = entries
        layout.save()
    return _placed(layout, user, widgets, slug)


def resize(user: Any, slug: str, size: str, widgets: Mapping[str, WidgetLike]) -> Placed:
    """Set the size widget ``slug`` takes on a desktop screen."""
    if size not in Size.values:
        raise LayoutRefused(_("This size does not exist."))
    with transaction.atomic(using=PERSONAL):
        widget = _widget(slug, user, widgets)
        layout = _locked(user, widgets)
        index = _index(layout, widget)
        entries = list(layout.widgets)
        entries[index] = {"slug": slug, "size": size}
        layout.widgets = entries
        layout.save()
    return _placed(layout, user, widgets, slug)


def reset(user: Any, widgets: Mapping[str, WidgetLike]) -> DashboardLayout:
    """Give ``user`` the first-visit layout again."""
    with transaction.atomic(using=PERSONAL):
        layout = _locked(user, widgets)
        layout.widgets = default_entries(user, widgets)
        layout.save()
    return layout


def _placed(
    layout: DashboardLayout, user: Any, widgets: Mapping[str, WidgetLike], slug: str
) -> Placed:
    return next(item for item in shown(layout, user, widgets) if item.widget.slug == slug)
