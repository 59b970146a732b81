"""The platform as OpenID Provider: single sign-on into third-party services."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "alzette.personal.sso"
    label = "sso"
    verbose_name = _("Single sign-on")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.mydata.services import register_data_source
        from alzette.personal.sso import (
            checks,  # noqa: F401  (registers the system checks)
            sources,
        )

        register_data_source("sso_services", sources.data_source())
