"""``alzette partners``: communities, sharing grants, partner apps and the sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners import sandbox, services
from alzette.territory.partners.models import App, Community, Credential, Grant

DB = services.DB


class Command(BaseCommand):
    help = "Partners: communities, sharing grants, applications and keys, the sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("expire", help="Record lapsed grants in the ledger; drop old tokens.")
        commands.add_parser("sandbox", help="Fill the sandbox tenant with synthetic data.")
        community = commands.add_parser("community", help="Create a community or set members.")
        community.add_argument("slug")
        community.add_argument("--name", default="")
        community.add_argument("--member", action="append", default=[], help="organisation slug")
        share = commands.add_parser("share", help="Share a dataset or a scope for a period.")
        share.add_argument("granted_by", help="slug of the sharing organisation")
        share.add_argument("--dataset", default="")
        share.add_argument("--scope", default="")
        share.add_argument("--organisation", default="", help="grantee organisation slug")
        share.add_argument("--community", default="", help="grantee community slug")
        share.add_argument("--purpose", required=True)
        share.add_argument("--until", required=True, help="end date or date-time (ISO 8601)")
        revoke = commands.add_parser("revoke", help="End a grant now.")
        revoke.add_argument("grant_id")
        commands.add_parser("grants", help="List grants and their state.")
        app = commands.add_parser("app", help="Register an application; print its credentials.")
        app.add_argument("organisation")
        app.add_argument("name")
        app.add_argument("--scope", action="append", default=[])
        app.add_argument("--live", action="store_true", help="live data (default: sandbox)")
        key = commands.add_parser("issue-key", help="Issue an API key for an application.")
        key.add_argument("client_id")
        revoke_key = commands.add_parser("revoke-key", help="Revoke an API key by its prefix.")
        revoke_key.add_argument("prefix")
        purge = commands.add_parser(
            "purge-access-log",
            help="delete access-log entries older than ALZETTE_PARTNERS_ACCESS_LOG_DAYS "
            "(or --days)",
        )
        purge.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, "_" + options["command"].replace("-", "_"))
        try:
            handler(options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _expire(self, options: dict[str, Any]) -> None:
        lapsed, pruned = services.record_expiries(), services.prune_tokens()
        self.stderr.write(f"{lapsed} grant(s) lapsed, {pruned} old token(s) deleted.")

    def _purge_access_log(self, options: dict[str, Any]) -> None:
        days = options["days"] if options["days"] is not None else services.access_log_days()
        try:
            deleted = services.purge_access_log(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{deleted} access-log entries older than {days} days deleted")

    def _sandbox(self, options: dict[str, Any]) -> None:
        self.stderr.write(f"{sandbox.seed()} sandbox entit(y/ies) created.")

    def _community(self, options: dict[str, Any]) -> None:
        members = [_organisation(slug) for slug in options["member"]]
        found = Community.objects.using(DB).filter(slug=options["slug"]).first()
        if found is None:
            services.create_community(
                options["slug"], options["name"] or options["slug"], members=members
            )
        else:
            services.set_members(found, members)
        self.stdout.write(f"{options['slug']}: {', '.join(options['member']) or '(no member)'}")

    def _share(self, options: dict[str, Any]) -> None:
        granted_by = _organisation(options["granted_by"])
        dataset = None
        if options["dataset"]:
            dataset = Dataset.objects.using(DB).filter(identifier=options["dataset"]).first()
            if dataset is None:
                raise CommandError(f"No dataset {options['dataset']!r}.")
        community = None
        if options["community"]:
            community = Community.objects.using(DB).filter(slug=options["community"]).first()
            if community is None:
                raise CommandError(f"No community {options['community']!r}.")
        grantee = _organisation(options["organisation"]) if options["organisation"] else None
        grant = services.share(
            granted_by,
            dataset=dataset,
            scope=options["scope"],
            organisation=grantee,
            community=community,
            purpose=options["purpose"],
            ends_at=_moment(options["until"]),
        )
        self.stdout.write(f"{grant.pk}\t{grant}")

    def _revoke(self, options: dict[str, Any]) -> None:
        grant = Grant.objects.using(DB).filter(pk=options["grant_id"]).first()
        if grant is None:
            raise CommandError(f"No grant {options['grant_id']!r}.")
        services.revoke(grant)

    def _grants(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        for grant in Grant.objects.using(DB).select_related(
            "dataset", "organisation", "community", "granted_by"
        ):
            state = (
                "active"
                if grant.active(now)
                else "revoked"
                if grant.revoked_at
                else ("ended" if grant.ends_at <= now else "pending")
            )
            self.stdout.write(f"{grant.pk}\t{grant}\t{grant.ends_at:%Y-%m-%d %H:%M}\t{state}")

    def _app(self, options: dict[str, Any]) -> None:
        environment = App.Environment.LIVE if options["live"] else App.Environment.SANDBOX
        app, secret = services.register_app(
            _organisation(options["organisation"]),
            options["name"],
            scopes=options["scope"],
            environment=environment,
        )
        self.stdout.write(f"client_id: {app.client_id}\nclient_secret: {secret}")
        self.stderr.write("Keep the secret now: it is stored hashed and never shown again.")

    def _issue_key(self, options: dict[str, Any]) -> None:
        app = App.objects.using(DB).filter(client_id=options["client_id"]).first()
        if app is None:
            raise CommandError(f"No application {options['client_id']!r}.")
        _, token = services.issue_key(app)
        self.stdout.write(token)

    def _revoke_key(self, options: dict[str, Any]) -> None:
        found = Credential.objects.using(DB).filter(prefix=options["prefix"]).first()
        if found is None:
            raise CommandError(f"No key {options['prefix']!r}.")
        services.revoke_credential(found)


def _organisation(slug: str) -> Organisation:
    found = Organisation.objects.using(DB).filter(slug=slug).first()
    if found is None:
        raise CommandError(f"No organisation {slug!r}.")
    return found


def _moment(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None and (day := parse_date(text)) is not None:
        moment = datetime.combine(day, datetime.min.time())
    if moment is None:
        raise CommandError(f"{text!r} is not an ISO 8601 date or date-time.")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
