from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "alzette.personal.procedures"
    label = "procedures"
    verbose_name = _("Online procedures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from alzette.personal.mydata.services import register_data_source, register_retention_hold
        from alzette.personal.procedures import sources

        register_retention_hold("procedures", "alzette.personal.procedures.services.retention_hold")
        register_data_source("procedures", sources.data_source())
        pre_delete.connect(
            _forget_drafts, sender=settings.AUTH_USER_MODEL, dispatch_uid="procedures-drafts"
        )


def _forget_drafts(sender: object, instance: object, **kwargs: object) -> None:
    from alzette.personal.procedures.services import forget_drafts

    forget_drafts(instance)
