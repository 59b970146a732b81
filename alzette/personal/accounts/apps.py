from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "alzette.personal.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Supervision alerts are mailed to agents from here, where addresses live; the
        # supervision API checks agents' bearer tokens through this side too.
        from alzette.core import mail
        from alzette.personal.accounts import alertmail, services
        from alzette.personal.procedures import agent_api
        from alzette.territory.supervision import api as supervision_api

        alertmail.connect()
        if agent_api.authenticate not in supervision_api.token_authenticators:
            supervision_api.token_authenticators.append(agent_api.authenticate)
        # Senders that know only addresses (the territory's operators' alerts) learn
        # the language of those that belong to accounts, and nothing else.
        if services.languages_of_addresses not in mail.address_language_lookups:
            mail.address_language_lookups.append(services.languages_of_addresses)
        self._register_data_source()

    def _register_data_source(self) -> None:
        from alzette.personal.mydata.services import DataSource, register_data_source

        register_data_source(
            "preferences",
            DataSource(
                "alzette.personal.accounts.sources.preferences",
                _("Preferences"),
                {"preferred_language": _("Preferred language")},
                _(
                    "The language the platform writes to you in. Empty: not chosen yet, "
                    "e-mails are in the platform's default language."
                ),
                single=True,
                value_labels={"preferred_language": dict(settings.LANGUAGES)},
            ),
        )
