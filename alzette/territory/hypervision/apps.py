from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class HypervisionConfig(AppConfig):
    name = "alzette.territory.hypervision"
    label = "hypervision"
    verbose_name = _("Hypervision")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_registries)
        # A deleted entity leaves a tombstone, so the live maps drop its marker (live.py).
        from alzette.territory.hypervision import live
        from alzette.territory.ngsild import entities

        if live.on_change not in entities.change_hooks:
            entities.change_hooks.append(live.on_change)


def check_registries(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """hypervision.E001/E002: every configured map layer and board widget loads."""
    from alzette.territory.hypervision import layers, widgets

    errors = []
    for loader, code, setting in (
        (layers.layers, "hypervision.E001", "ALZETTE_HYPERVISION_LAYERS"),
        (widgets.widgets, "hypervision.E002", "ALZETTE_HYPERVISION_WIDGETS"),
    ):
        try:
            loader()
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), hint=f"Fix the {setting} setting.", id=code))
    return errors
