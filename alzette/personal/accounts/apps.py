from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "alzette.personal.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Supervision alerts are mailed to agents from here, where addresses live; the
        # supervision API checks agents' bearer tokens through this side too.
        from alzette.personal.accounts import alertmail
        from alzette.personal.procedures import agent_api
        from alzette.territory.supervision import api as supervision_api

        alertmail.connect()
        if agent_api.authenticate not in supervision_api.token_authenticators:
            supervision_api.token_authenticators.append(agent_api.authenticate)
