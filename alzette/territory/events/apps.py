from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryEventsConfig(AppConfig):
    name = "alzette.territory.events"
    label = "territory_events"
    verbose_name = _("Territory events")
    default_auto_field = "django.db.models.BigAutoField"
