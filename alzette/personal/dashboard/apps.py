from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "alzette.personal.dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_widget_registry)
        register_with_my_data()


def check_widget_registry(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """dashboard.E001: every configured widget loads (see registry.py)."""
    from alzette.personal.dashboard import registry

    try:
        registry.widgets()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc),
                hint="Fix DASHBOARD_WIDGETS in alzette/personal/dashboard/registry.py or the "
                "ALZETTE_DASHBOARD_WIDGETS setting.",
                id="dashboard.E001",
            )
        ]
    return []


def register_with_my_data() -> None:
    """A person's layout is personal data: "my data" shows, exports and erases it."""
    if not apps.is_installed("alzette.personal.mydata"):
        return
    from alzette.personal.dashboard.models import Size
    from alzette.personal.mydata import services as mydata

    mydata.register_data_source(
        "dashboard",
        mydata.DataSource(
            "alzette.personal.dashboard.sources.layout",
            _("Dashboard"),
            {"position": _("Position"), "widget": _("Widget"), "size": _("Size")},
            _("The widgets on your dashboard, in order, with their size on large screens."),
            value_labels={"size": dict(Size.choices)},
        ),
    )
