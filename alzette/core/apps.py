from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "alzette.core"
    label = "core"
    verbose_name = "Alzette core"

    def ready(self) -> None:
        from alzette.core import checks  # noqa: F401  (registers the system checks)
