from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "alzette.web"
    label = "web"
    verbose_name = "Alzette pages"
