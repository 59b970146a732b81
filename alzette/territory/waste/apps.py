from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteConfig(AppConfig):
    name = "alzette.territory.waste"
    label = "waste"
    verbose_name = _("Waste management")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory.waste import receivers

        receivers.connect()
