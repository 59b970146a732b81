"""``alzette sso``: register the services that sign people in through the platform."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from alzette.personal.sso import keys, services
from alzette.personal.sso.conf import SCOPES
from alzette.personal.sso.models import RelyingParty


class Command(BaseCommand):
    help = (
        "The OpenID Provider: register a service, list services, make production secrets, "
        "rotate the signing key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser(
            "register-client",
            help="Register a service (confidential unless --public); prints its credentials.",
        )
        register.add_argument(
            "--name", required=True, help="Shown to people on the consent screen."
        )
        register.add_argument(
            "--redirect-uri",
            action="append",
            required=True,
            dest="redirect_uris",
            help="Where the service receives the code; exact match. Repeat for several.",
        )
        register.add_argument(
            "--post-logout-uri",
            action="append",
            default=[],
            dest="post_logout_uris",
            help="Where people may be sent after signing out. Repeat for several.",
        )
        register.add_argument(
            "--public",
            action="store_true",
            help="A client that cannot keep a secret (mobile or browser app): PKCE only.",
        )
        register.add_argument(
            "--sector",
            default="",
            help="Sector identifier for pairwise subjects (default: the redirect URIs' host).",
        )
        register.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=list(SCOPES),
            help="A scope the service may ask for (default: all). Repeat for several; "
            "openid is required.",
        )
        sub.add_parser("list-clients", help="List the registered services.")
        sub.add_parser("keygen", help="Print a new RS256 signing key (PEM) for production.")
        sub.add_parser(
            "pairwise-secret", help="Print a new pairwise-subject secret for production."
        )
        rotate = sub.add_parser(
            "rotate-key",
            help="Replace the data directory's signing key; the old one stays published "
            "(outside production; in production, set the environment instead).",
        )
        rotate.add_argument(
            "--keep-days",
            type=_positive_days,
            default=keys.DEFAULT_KEEP_DAYS,
            help="How long a retired key stays published (default: %(default)s days); "
            "older retired keys are deleted.",
        )
        sub.add_parser("list-keys", help="List the signing keys published in the JWKS.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "keygen":
            self.stdout.write(keys.new_signing_key_pem(), ending="")
        elif action == "pairwise-secret":
            self.stdout.write(keys.new_pairwise_secret())
        elif action == "rotate-key":
            self._rotate(options["keep_days"])
        elif action == "list-keys":
            self._list_keys()
        elif action == "list-clients":
            for profile in RelyingParty.objects.select_related("application").order_by(
                "application__name"
            ):
                application = profile.application
                self.stdout.write(
                    f"{application.client_id}\t{application.client_type}\t{profile.sector}\t"
                    f"{profile.allowed_scopes}\t{application.name}"
                )
        else:
            self._register(options)

    def _rotate(self, keep_days: int) -> None:
        if _keys_from_environment():
            # The data directory's key is not the one in use: rotating it would change nothing
            # but mislead. The environment is the operator's to change (docs/operations.md).
            raise CommandError(
                "The signing keys come from the environment: this command changes nothing.\n"
                "To rotate them:\n"
                "  1. alzette sso keygen > new.pem\n"
                "  2. add the current key to ALZETTE_SSO_SIGNING_KEYS_INACTIVE (PEM blocks) or "
                "to the file named by ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE;\n"
                "  3. set ALZETTE_SSO_SIGNING_KEY (or _FILE) to the new key;\n"
                "  4. restart every process, then run alzette check --deploy;\n"
                f"  5. after {keys.DEFAULT_KEEP_DAYS} days, remove the retired key.\n"
                "See docs/sso.md, Key rotation."
            )
        rotation = keys.rotate_signing_key(settings.DATA_DIR, keep_days)
        self.stdout.write(f"new signing key: {rotation.new_kid}")
        if rotation.retired_kid:
            self.stdout.write(f"retired (published for {keep_days} days): {rotation.retired_kid}")
        for path in rotation.pruned:
            self.stdout.write(f"deleted (retired more than {keep_days} days ago): {path}")
        self.stdout.write("Restart every process of the platform to sign with the new key.")

    def _list_keys(self) -> None:
        from oauth2_provider.settings import oauth2_settings

        if oauth2_settings.OIDC_RSA_PRIVATE_KEY:
            self.stdout.write(f"{keys.key_id(oauth2_settings.OIDC_RSA_PRIVATE_KEY)}\tactive")
        for pem in oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE:
            self.stdout.write(f"{keys.key_id(pem)}\tretired")

    def _register(self, options: dict[str, Any]) -> None:
        try:
            registration = services.register_client(
                options["name"],
                options["redirect_uris"],
                options["post_logout_uris"],
                public=options["public"],
                sector=options["sector"],
                scopes=options["scopes"],
            )
        except ValidationError as exc:
            messages = (
                [f"{field}: {'; '.join(errors)}" for field, errors in exc.message_dict.items()]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            raise CommandError("The service was not registered. " + " ".join(messages)) from exc
        application = registration.application
        self.stdout.write(f"client_id: {application.client_id}")
        if registration.client_secret:
            self.stdout.write(f"client_secret: {registration.client_secret}")
            self.stdout.write(
                "Keep the secret now: only its hash is stored, it cannot be shown again."
            )
        else:
            self.stdout.write("public client: no secret, PKCE (S256) only")
        self.stdout.write(f"sector: {registration.relying_party.sector}")
        self.stdout.write(f"scopes: {registration.relying_party.allowed_scopes}")
        self.stdout.write(
            "discovery: <platform origin>" + reverse("oauth2_provider:oidc-connect-discovery-info")
        )


def _positive_days(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days, at least 1")
    return int(value)


def _keys_from_environment() -> bool:
    """Whether the signing keys in use are not the data directory's."""
    return settings.ALZETTE_MODE == "production" or any(
        getattr(settings, name, "")
        for name in (
            "ALZETTE_SSO_SIGNING_KEY",
            "ALZETTE_SSO_SIGNING_KEY_FILE",
            "ALZETTE_SSO_SIGNING_KEYS_INACTIVE",
            "ALZETTE_SSO_SIGNING_KEYS_INACTIVE_FILE",
        )
    )
