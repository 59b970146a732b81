from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LightingEnergyConfig(AppConfig):
    name = "alzette.territory.lighting.energy"
    label = "lighting_energy"
    verbose_name = _("Street lighting energy")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory.lighting.energy import receivers

        receivers.connect()
