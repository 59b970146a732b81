from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomewaterConfig(AppConfig):
    name = "alzette.personal.homewater"
    label = "homewater"
    verbose_name = _("Household water")
    default_auto_field = "django.db.models.BigAutoField"
