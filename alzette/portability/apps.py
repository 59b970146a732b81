from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    """No models: an archive is a file, the objects it carries live in their own apps."""

    name = "alzette.portability"
    label = "portability"
    verbose_name = "Portability"
