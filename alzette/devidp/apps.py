from django.apps import AppConfig


class DevIdpConfig(AppConfig):
    name = "alzette.devidp"
    label = "devidp"
    verbose_name = "Development identity providers"
