from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HypervisionConfig(AppConfig):
    name = "alzette.territory.hypervision"
    label = "hypervision"
    verbose_name = _("Hypervision")
    default_auto_field = "django.db.models.BigAutoField"
