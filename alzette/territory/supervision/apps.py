from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "alzette.territory.supervision"
    label = "supervision"
    verbose_name = _("Supervision and alerts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Alert rules are tested in the transaction of every entity write.
        from alzette.territory.ngsild import entities
        from alzette.territory.supervision import alerts

        if alerts.on_change not in entities.change_hooks:
            entities.change_hooks.append(alerts.on_change)
