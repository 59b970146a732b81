from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NgsiLdConfig(AppConfig):
    name = "alzette.territory.ngsild"
    label = "ngsild"
    verbose_name = _("NGSI-LD context")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Subscriptions watch every change; mapped oneM2M containers feed entities.
        from alzette.territory.ngsild import mapping, subscriptions  # noqa: F401

        mapping.connect()
