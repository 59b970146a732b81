from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteRoundsConfig(AppConfig):
    name = "alzette.territory.waste.rounds"
    label = "waste_rounds"
    verbose_name = _("Collection rounds")
    default_auto_field = "django.db.models.BigAutoField"
