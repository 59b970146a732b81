from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomewaterConfig(AppConfig):
    name = "alzette.personal.homewater"
    label = "homewater"
    verbose_name = _("Household water")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.homewater import receivers, sources
        from alzette.personal.mydata.services import register_data_source

        receivers.connect()
        for category, source in sources.data_sources().items():
            register_data_source(category, source)
