from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "alzette.personal.identity"
    label = "identity"
    verbose_name = _("Identity federation")
    default_auto_field = "django.db.models.BigAutoField"
