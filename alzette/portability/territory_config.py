"""What an archive cannot carry: secrets to re-issue and configuration to redo.

Keys, client secrets and their hashes never leave the instance: an archive is a
file that travels, and a hash of a 256-bit secret is as good as the secret to
whoever can replay it against a copy. The manifest lists them instead, with what
is needed to issue their replacements on the target.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from alzette.territory.catalogue.models import Organisation
from alzette.territory.ngsild.models import ApiKey, Subscription
from alzette.territory.onem2m.models import Credential

DB = "territory"


def to_reissue(org: Organisation) -> list[dict[str, Any]]:
    """The organisation's live credentials, without their secrets."""
    return [*_ngsild_keys(org), *_onem2m_credentials(org), *_partner_apps(org)]


def _ngsild_keys(org: Organisation) -> list[dict[str, Any]]:
    keys = ApiKey.objects.using(DB).filter(revoked_at__isnull=True).order_by("name")
    return [
        {
            "kind": "ngsi-ld-api-key",
            "name": key.name,
            "tenants": key.tenants,
            "can_write": key.can_write,
            "how": "alzette ngsild issue-key NAME TENANT... [--read-only]",
        }
        for key in keys
        if org.slug in (key.tenants or [])
    ]


def _onem2m_credentials(org: Organisation) -> list[dict[str, Any]]:
    # oneM2M keys name their organisation in free text, not by a relation.
    credentials = Credential.objects.using(DB).filter(
        revoked_at__isnull=True, name__in=[org.name, org.slug]
    )
    return [
        {
            "kind": "onem2m-credential",
            "name": c.name,
            "originators": c.originators,
            "how": "alzette onem2m issue-key NAME ORIGINATOR...",
        }
        for c in credentials.order_by("name")
    ]


def _partner_apps(org: Organisation) -> list[dict[str, Any]]:
    try:
        app = apps.get_model("partners", "App")
    except LookupError:  # an instance without the partners app
        return []
    rows = app.objects.using(DB).filter(organisation=org, revoked_at__isnull=True)
    return [
        {
            "kind": "partner-app",
            "name": a.name,
            "environment": a.environment,
            "scopes": a.scopes,
            "per_minute": a.per_minute,
            "per_day": a.per_day,
            "how": "register it again from the developer portal (new client id and secret)",
        }
        for a in rows.order_by("name")
    ]


def not_included(org: Organisation) -> list[str]:
    """Things of the organisation's that stay behind, said in the manifest."""
    notes = [
        "Secrets (API keys, client secrets, their hashes): see to_reissue.",
        "History of attributes fed by oneM2M containers stays with the containers; "
        "device mappings travel and the devices re-register.",
        "oneM2M resources (AEs, containers, access control policies) are keyed by "
        "originator, not by organisation: devices register again on the target.",
    ]
    subscriptions = Subscription.objects.using(DB).filter(tenant=org.slug).count()
    if subscriptions:
        notes.append(
            f"{subscriptions} NGSI-LD subscription(s) of the tenant {org.slug}: "
            "their endpoints may hold credentials; recreate them."
        )
    return notes
