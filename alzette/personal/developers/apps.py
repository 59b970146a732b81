from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevelopersConfig(AppConfig):
    name = "alzette.personal.developers"
    label = "developers"
    verbose_name = _("Developer portal")
