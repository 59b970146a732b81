from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "alzette.territory.indicators"
    label = "indicators"
    verbose_name = _("City indicators")
    default_auto_field = "django.db.models.BigAutoField"
