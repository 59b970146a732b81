from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "alzette.territory.documents"
    label = "documents"
    verbose_name = _("Territory documents")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory import search  # noqa: F401 - registers the check search.E001
