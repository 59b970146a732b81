from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaterConfig(AppConfig):
    name = "alzette.territory.water"
    label = "water"
    verbose_name = _("Water networks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory.water import receivers

        receivers.connect()
