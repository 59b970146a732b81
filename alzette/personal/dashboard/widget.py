"""The dashboard's extension point: the ``Widget`` base class.

A widget is a small class: metadata (slug, translated title and description,
template, default size) and two methods, ``available(user)`` and
``context(user, request)``. The registry (``registry.py``) lists widget classes
by dotted path; adding a widget to the platform is adding one line there (or to
the ``ALZETTE_DASHBOARD_WIDGETS`` setting). See docs/dashboard.md.

Rules for widgets:

- show real data of the signed-in person or of the territory, never invented
  figures: a widget whose data source does not exist yet is not written, and a
  widget whose source is missing at run time says so through ``available()``;
- read only what concerns ``user`` (the person looking at their dashboard);
- be cheap: ``context()`` runs on every display of the dashboard;
- headings inside the template start at ``<h3>`` (the dashboard gives the widget
  its ``<h2>``, the title); element ids are prefixed with the slug.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from alzette.personal.dashboard.models import Size

if TYPE_CHECKING:
    from django.http import HttpRequest


class Widget:
    """Base class of dashboard widgets. Subclass it and set the class attributes."""

    #: Unique, stable identifier stored in the layouts: lowercase letters, digits, "-".
    #: Never rename a slug: people's layouts refer to it.
    slug: ClassVar[str] = ""
    #: Translated (lazy) title, shown as the widget's heading.
    title: ClassVar[Any] = ""
    #: Translated (lazy) one-sentence description, shown in the edit mode.
    description: ClassVar[Any] = ""
    #: Template rendering the widget's body with the dictionary ``context()`` returns.
    template_name: ClassVar[str] = ""
    #: Size when the person adds the widget: ``Size.NORMAL`` (one column) or ``Size.WIDE``.
    default_size: ClassVar[str] = Size.NORMAL
    #: Whether the widget is part of the layout a person gets on their first visit.
    in_default_layout: ClassVar[bool] = True
    #: Static files (paths for ``{% static %}``) the widget needs on the page, in
    #: order; each is included once however many widgets ask for it.
    stylesheets: ClassVar[tuple[str, ...]] = ()
    scripts: ClassVar[tuple[str, ...]] = ()

    def available(self, user: Any) -> bool:
        """Whether ``user`` may have this widget (role, installed app, data source present)."""
        return True

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        """Template context for ``user``'s widget. Runs only when ``available(user)``."""
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.slug!r}>"
