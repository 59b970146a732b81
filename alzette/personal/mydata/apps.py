from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MyDataConfig(AppConfig):
    name = "alzette.personal.mydata"
    label = "mydata"
    verbose_name = _("My data")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.mydata import checks  # noqa: F401  (registers the system checks)
