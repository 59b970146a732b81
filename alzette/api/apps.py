from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "alzette.api"
    label = "api"
    verbose_name = "Alzette API"
