"""``alzette sso``: register the services that sign people in through the platform."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from alzette.personal.sso import keys, services
from alzette.personal.sso.conf import SCOPES
from alzette.personal.sso.models import RelyingParty


class Command(BaseCommand):
    help = "The OpenID Provider: register a service, list services, make production secrets."

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

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "keygen":
            self.stdout.write(keys.new_signing_key_pem(), ending="")
        elif action == "pairwise-secret":
            self.stdout.write(keys.new_pairwise_secret())
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
