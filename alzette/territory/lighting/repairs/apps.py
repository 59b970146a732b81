from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LightingRepairsConfig(AppConfig):
    name = "alzette.territory.lighting.repairs"
    label = "lighting_repairs"
    verbose_name = _("Streetlight repairs")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory.lighting.repairs import receivers

        receivers.connect()
