from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "alzette.territory.supervision"
    label = "supervision"
    verbose_name = _("Supervision and alerts")
    default_auto_field = "django.db.models.BigAutoField"
