from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LightingConfig(AppConfig):
    name = "alzette.territory.lighting"
    label = "lighting"
    verbose_name = _("Street lighting")
    default_auto_field = "django.db.models.BigAutoField"
