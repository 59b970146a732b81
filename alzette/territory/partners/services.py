"""Communities, sharing grants and partner applications: every change atomic and,
where it matters to trust, recorded in the ledger."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.core.validators import days_problem
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners.models import (
    AccessLog,
    App,
    Community,
    Credential,
    Grant,
    LedgerRecord,
)

DB = "territory"
KEY_PREFIX = "alzp"  # agents' tokens are alz_…: the two never look alike
TOKEN_PREFIX = "alzt"  # noqa: S105 - a label, not a secret
#: Lifetime of an OAuth2 access token from the client-credentials grant.
TOKEN_LIFETIME = timedelta(hours=1)


def hash_secret(secret: str) -> str:
    # Secrets are 256-bit random strings: a plain SHA-256 is enough (no guessing to slow).
    return hashlib.sha256(secret.encode()).hexdigest()


def _record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=DB, object_ref=object_ref
    )


# --- Communities ---------------------------------------------------------------------------


def create_community(
    slug: str,
    name: str,
    *,
    description: str = "",
    members: list[Organisation] = (),
    actor: str = "system:partners",
) -> Community:
    with transaction.atomic(using=DB):
        community = Community(slug=slug, name=name, description=description)
        community.save(using=DB)
        community.members.set(members)
        _record("community.changed", actor, f"community:{community.pk}", _members(community))
    return community


def set_members(
    community: Community, members: list[Organisation], *, actor: str = "system:partners"
) -> Community:
    with transaction.atomic(using=DB):
        community.members.set(members)
        community.save(using=DB)  # updated_at
        _record("community.changed", actor, f"community:{community.pk}", _members(community))
    return community


def _members(community: Community) -> dict[str, Any]:
    slugs = sorted(community.members.values_list("slug", flat=True))
    return {"community": community.slug, "members": slugs}


# --- Grants --------------------------------------------------------------------------------


def share(
    granted_by: Organisation,
    *,
    purpose: str,
    ends_at: datetime,
    dataset: Dataset | None = None,
    scope: str = "",
    organisation: Organisation | None = None,
    community: Community | None = None,
    starts_at: datetime | None = None,
    actor: str = "system:partners",
) -> Grant:
    """Share a dataset (of ``granted_by``) or an API scope, for a purpose and a period."""
    if dataset is not None and dataset.organisation_id != granted_by.pk:
        raise ValidationError({"dataset": _("Only the dataset's publisher may share it.")})
    if dataset is not None and dataset.access == Dataset.Access.OPEN:
        raise ValidationError({"dataset": _("This dataset is open data: anyone may read it.")})
    if dataset is not None and dataset.access == Dataset.Access.RESTRICTED and community:
        # Restricted data goes to named organisations only, never to a whole community.
        raise ValidationError(
            {"community": _("A restricted dataset is shared with one organisation at a time.")}
        )
    grant = Grant(
        dataset=dataset,
        scope=scope,
        organisation=organisation,
        community=community,
        granted_by=granted_by,
        purpose=purpose.strip(),
        starts_at=starts_at or timezone.now(),
        ends_at=ends_at,
        actor=actor,
    )
    with transaction.atomic(using=DB):
        grant.save(using=DB)
        _record("sharing.granted", actor, f"grant:{grant.pk}", _grant_payload(grant))
    return grant


def revoke(grant: Grant, *, actor: str = "system:partners") -> Grant:
    if grant.revoked_at is not None:
        return grant
    with transaction.atomic(using=DB):
        grant.revoked_at = timezone.now()
        grant.save(using=DB)
        _record("sharing.revoked", actor, f"grant:{grant.pk}", _grant_payload(grant))
    return grant


def record_expiries(now: datetime | None = None) -> int:
    """Put the grants that lapsed into the ledger (access already stopped at ``ends_at``)."""
    now = now or timezone.now()
    lapsed = Grant.objects.using(DB).filter(
        ends_at__lte=now, expiry_recorded=False, revoked_at__isnull=True
    )
    count = 0
    for grant in lapsed.select_related("dataset", "organisation", "community"):
        with transaction.atomic(using=DB):
            Grant.objects.using(DB).filter(pk=grant.pk).update(expiry_recorded=True)
            _record(
                "sharing.expired", "system:partners", f"grant:{grant.pk}", _grant_payload(grant)
            )
        count += 1
    return count


def _grant_payload(grant: Grant) -> dict[str, Any]:
    return {
        "subject": grant.subject,
        "grantee": grant.grantee,
        "granted_by": grant.granted_by.slug,
        "purpose": grant.purpose,
        "starts_at": grant.starts_at.isoformat(),
        "ends_at": grant.ends_at.isoformat(),
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
    }


def active_grants(organisation: Organisation, at: datetime | None = None) -> QuerySet[Grant]:
    """Grants in force for an organisation, directly or through its communities."""
    at = at or timezone.now()
    return (
        Grant.objects.using(DB)
        .filter(
            Q(organisation=organisation) | Q(community__members=organisation),
            revoked_at__isnull=True,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        .distinct()
    )


def grants_given(organisation: Organisation) -> QuerySet[Grant]:
    return (
        Grant.objects.using(DB)
        .filter(granted_by=organisation)
        .select_related("dataset", "organisation", "community")
    )


# --- Applications and credentials ------------------------------------------------------------


def register_app(
    organisation: Organisation,
    name: str,
    *,
    scopes: list[str],
    environment: str = App.Environment.SANDBOX,
    actor: str = "system:partners",
) -> tuple[App, str]:
    """Create an application; return it and its client secret, shown only this once."""
    secret = secrets.token_urlsafe(32)
    app = App(
        organisation=organisation,
        name=name.strip(),
        scopes=sorted(set(scopes)),
        environment=environment,
        client_id=f"alzc_{secrets.token_hex(12)}",
        client_secret_hash=hash_secret(secret),
        **_quotas(environment),
    )
    with transaction.atomic(using=DB):
        app.save(using=DB)
        _record("partner_app.registered", actor, f"app:{app.pk}", _app_payload(app))
    return app, secret


def _quotas(environment: str) -> dict[str, int]:
    from django.conf import settings

    quotas = settings.ALZETTE_PARTNER_QUOTAS.get(environment) or {}
    return {
        "per_minute": int(quotas.get("per_minute", 60)),
        "per_day": int(quotas.get("per_day", 10_000)),
    }


def change_app(app: App, *, actor: str = "system:partners", **fields: Any) -> App:
    """Change an app's scopes, environment or quotas (quotas are the operators' call)."""
    allowed = {"name", "scopes", "environment", "per_minute", "per_day"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %s.") % ", ".join(sorted(unknown)))
    for name, value in fields.items():
        setattr(app, name, sorted(set(value)) if name == "scopes" else value)
    with transaction.atomic(using=DB):
        app.save(using=DB)
        _record("partner_app.changed", actor, f"app:{app.pk}", _app_payload(app))
    return app


def rotate_client_secret(app: App, *, actor: str = "system:partners") -> str:
    secret = secrets.token_urlsafe(32)
    with transaction.atomic(using=DB):
        app.client_secret_hash = hash_secret(secret)
        app.save(using=DB)
        # Tokens issued under the old secret end with it.
        _revoke_credentials(app, Credential.Kind.TOKEN)
    return secret


def revoke_app(app: App, *, actor: str = "system:partners") -> App:
    with transaction.atomic(using=DB):
        app.revoked_at = app.revoked_at or timezone.now()
        app.save(using=DB)
        _revoke_credentials(app, None)
        _record("partner_app.revoked", actor, f"app:{app.pk}", _app_payload(app))
    return app


def _app_payload(app: App) -> dict[str, Any]:
    return {
        "organisation": app.organisation.slug,
        "name": app.name,
        "client_id": app.client_id,
        "environment": app.environment,
        "scopes": app.scopes,
        "revoked": app.revoked_at is not None,
    }


def issue_key(app: App, label: str = "") -> tuple[Credential, str]:
    """A new API key for ``app``; the returned string is shown only this once."""
    if app.revoked_at is not None:
        raise ValidationError(_("This application is revoked."))
    return _issue(app, Credential.Kind.KEY, KEY_PREFIX, label=label.strip()[:120])


def issue_token(app: App, scopes: list[str]) -> tuple[Credential, str]:
    """An OAuth2 access token (client-credentials grant) for a subset of the app's scopes."""
    expires = timezone.now() + TOKEN_LIFETIME
    return _issue(app, Credential.Kind.TOKEN, TOKEN_PREFIX, scopes=scopes, expires_at=expires)


def _issue(app: App, kind: str, label_prefix: str, **fields: Any) -> tuple[Credential, str]:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    credential = Credential.objects.using(DB).create(
        app=app, kind=kind, prefix=prefix, secret_hash=hash_secret(secret), **fields
    )
    return credential, f"{label_prefix}_{prefix}_{secret}"


def revoke_credential(credential: Credential) -> Credential:
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(using=DB, update_fields=["revoked_at"])
    return credential


def _revoke_credentials(app: App, kind: str | None) -> None:
    found = Credential.objects.using(DB).filter(app=app, revoked_at__isnull=True)
    if kind:
        found = found.filter(kind=kind)
    found.update(revoked_at=timezone.now())


#: Days the partners' access log is kept by default: a year, enough for an owner to
#: answer for a season's accesses, as for the citizens' own access log (mydata).
ACCESS_LOG_DAYS = 365
#: Rows deleted per statement: a busy API logs millions, and one huge DELETE would hold
#: the table (and SQLite's single writer) for long.
PURGE_CHUNK = 5000


#: Why a value cannot be the access log's retention in days; empty when it can.
access_log_days_problem = days_problem


def access_log_days() -> int:
    """How many days the partners' access log is kept (the setting, checked at start)."""
    value = getattr(settings, "ALZETTE_PARTNERS_ACCESS_LOG_DAYS", ACCESS_LOG_DAYS)
    if problem := access_log_days_problem(value):
        raise ImproperlyConfigured(f"ALZETTE_PARTNERS_ACCESS_LOG_DAYS {problem}.")
    return value


def purge_access_log(now: datetime | None = None, days: int | None = None) -> int:
    """Delete the access-log entries older than the retention, by chunks; how many."""
    days = access_log_days() if days is None else days
    if problem := access_log_days_problem(days):
        raise ValueError(f"The retention {problem}.")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = AccessLog.objects.using(DB).filter(at__lt=cutoff)
    deleted = 0
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:PURGE_CHUNK]):
        with transaction.atomic(using=DB):
            deleted += AccessLog.objects.using(DB).filter(pk__in=ids).delete()[0]
    return deleted


def prune_tokens(now: datetime | None = None) -> int:
    """Delete access tokens expired for a day (keys stay, revoked or not, for the record)."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    found = Credential.objects.using(DB).filter(kind=Credential.Kind.TOKEN, expires_at__lt=cutoff)
    return found.delete()[0]
