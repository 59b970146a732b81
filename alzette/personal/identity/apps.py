from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "alzette.personal.identity"
    label = "identity"
    verbose_name = _("Identity federation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alzette.personal.mydata.services import DataSource, register_data_source

        register_data_source(
            "federated_identities",
            DataSource(
                "alzette.personal.identity.sources.federated_identities",
                _("Linked identities"),
                {
                    "provider": _("Provider"),
                    "sub": _("Identifier at the provider"),
                    "linked_at": _("Linked on"),
                    "last_login": _("Last sign-in"),
                },
                _("The FranceConnect or ProConnect identities that sign in to your account."),
            ),
        )
        register_data_source(
            "civil_identity",
            DataSource(
                "alzette.personal.identity.sources.civil_identity",
                _("Civil identity (FranceConnect)"),
                {
                    "given_name": _("Given names"),
                    "family_name": _("Birth name"),
                    "birthdate": _("Date of birth"),
                    "gender": _("Gender"),
                    "birthplace": _("Place of birth (INSEE code)"),
                    "birthcountry": _("Country of birth (INSEE code)"),
                    "fingerprint": _("Fingerprint used to recognise you"),
                },
                _(
                    "Your identity as FranceConnect certified it; it is how your account is "
                    "recognised when you sign in with FranceConnect."
                ),
                single=True,
            ),
        )
