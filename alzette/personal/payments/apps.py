from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "alzette.personal.payments"
    label = "payments"
    verbose_name = _("Payments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.mydata.services import register_data_source, register_retention_hold
        from alzette.personal.payments import sources

        register_data_source("payments", sources.data_source())
        register_retention_hold("payments", "alzette.personal.payments.sources.retention_hold")
