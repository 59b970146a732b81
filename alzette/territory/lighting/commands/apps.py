from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LightingCommandsConfig(AppConfig):
    name = "alzette.territory.lighting.commands"
    label = "lighting_commands"
    verbose_name = _("Commands to streetlights")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory.lighting.commands import receivers

        receivers.connect()
