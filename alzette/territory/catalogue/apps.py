from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "alzette.territory.catalogue"
    label = "catalogue"
    verbose_name = _("Open-data catalogue")
    default_auto_field = "django.db.models.BigAutoField"
