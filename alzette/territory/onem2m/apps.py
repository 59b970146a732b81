from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OneM2MConfig(AppConfig):
    name = "alzette.territory.onem2m"
    label = "onem2m"
    verbose_name = _("oneM2M IoT")
    default_auto_field = "django.db.models.BigAutoField"
