from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteDumpingConfig(AppConfig):
    name = "alzette.territory.waste.dumping"
    label = "waste_dumping"
    verbose_name = _("Illegal dumping")
    default_auto_field = "django.db.models.BigAutoField"
