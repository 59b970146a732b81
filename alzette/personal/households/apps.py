from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "alzette.personal.households"
    label = "households"
    verbose_name = _("Households and waste billing")
    default_auto_field = "django.db.models.BigAutoField"
