from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoreConfig(AppConfig):
    name = "alzette.personal.store"
    label = "store"
    verbose_name = _("Service store")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.mydata.services import register_data_source
        from alzette.personal.store import sources

        register_data_source("store_services", sources.data_source())
