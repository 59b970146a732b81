"""The dashboard layout as "my data" shows and exports it (registered in ``apps.py``)."""

from __future__ import annotations

from typing import Any

from alzette.personal.dashboard import registry
from alzette.personal.dashboard.models import DashboardLayout


def layout(user: Any) -> list[dict[str, Any]]:
    """Every stored entry of the person's layout, shown or not, in order.

    The widget is named by its title in the reader's language, or by its slug
    when it is no longer registered.
    """
    stored = DashboardLayout.objects.filter(user=user).first()
    if stored is None:
        return []
    widgets = registry.widgets()
    return [
        {
            "position": position,
            "widget": str(widgets[slug].title) if slug in widgets else slug,
            "size": size,
        }
        for position, (slug, size) in enumerate(stored.entries(), start=1)
    ]
