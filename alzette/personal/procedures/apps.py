from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "alzette.personal.procedures"
    label = "procedures"
    verbose_name = _("Online procedures")
    default_auto_field = "django.db.models.BigAutoField"
