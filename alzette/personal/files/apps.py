from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FilesConfig(AppConfig):
    name = "alzette.personal.files"
    label = "files"
    verbose_name = _("Attachments and documents")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.files import sources
        from alzette.personal.mydata.services import register_data_source

        register_data_source("attachments", sources.data_source())
