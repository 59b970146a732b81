from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "alzette.personal.households"
    label = "households"
    verbose_name = _("Households and waste billing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from alzette.personal.households import receivers, sources
        from alzette.personal.mydata.services import register_data_source

        receivers.connect()
        for category, source in sources.data_sources().items():
            register_data_source(category, source)
        pre_delete.connect(
            sources.forget_lone_households,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="households-erasure",
        )
