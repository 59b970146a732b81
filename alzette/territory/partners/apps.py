from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "alzette.territory.partners"
    label = "partners"
    verbose_name = _("Partners and sharing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.territory.partners import checks  # noqa: F401  (registers the system checks)
