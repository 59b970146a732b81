from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BridgeConfig(AppConfig):
    name = "alzette.bridge"
    label = "bridge"
    verbose_name = _("Anonymisation bridge")

    def ready(self) -> None:
        from alzette.bridge import procedures
        from alzette.personal.procedures.signals import dossier_changed

        dossier_changed.connect(procedures.on_dossier_changed, dispatch_uid="bridge-procedures")
