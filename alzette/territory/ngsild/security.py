"""Who may read and write the context.

Territory context is public data: reading is open unless
``ALZETTE_NGSILD_PUBLIC_READ`` is off. Writing needs an organisation's key
(``Authorization: Bearer ngsild_<prefix>_<secret>``, issued with
``alzette ngsild issue-key``) naming the tenants it may write, except when
``ALZETTE_NGSILD_OPEN`` is on (development and demo, never in production).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.ngsild.models import ApiKey

KEY_PREFIX = "ngsild"
CONTEXT_READ = "context:read"  # partners.scopes, named here to keep this module light
CONTEXT_WRITE = "context:write"
DB = "territory"


@dataclass(frozen=True)
class Caller:
    """The authenticated party: its ledger actor and what it may do."""

    actor: str
    key: ApiKey | None
    #: A partner application (``partners.access.Caller``) and the call, for its log.
    partner: Any = None
    action: str = ""

    def may_write(self, tenant: str) -> bool:
        if self.partner is not None:
            return self._partner_may(CONTEXT_WRITE, tenant)
        if self.key is None:
            return settings.ALZETTE_NGSILD_OPEN
        allowed = self.key.tenants or [""]
        return self.key.can_write and ("*" in allowed or tenant in allowed)

    def may_read(self, tenant: str) -> bool:
        if settings.ALZETTE_NGSILD_PUBLIC_READ or settings.ALZETTE_NGSILD_OPEN:
            return True
        if self.partner is not None:
            return self._partner_may(CONTEXT_READ, tenant)
        if self.key is None:
            return False
        allowed = self.key.tenants or [""]
        return "*" in allowed or tenant in allowed

    def _partner_may(self, scope: str, tenant: str) -> bool:
        from alzette.territory.partners import access

        try:
            access.use_context(self.partner, scope, tenant, self.action)
        except access.AccessDenied as exc:
            raise NgsiLdError("Forbidden", exc.reason) from exc
        return True


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(name: str, tenants: list[str], *, can_write: bool = True) -> tuple[ApiKey, str]:
    """Create a key; return it and its secret, shown only this once."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.using(DB).create(
        name=name, prefix=prefix, secret_hash=_hash(secret), tenants=tenants, can_write=can_write
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def revoke(prefix: str) -> bool:
    return bool(
        ApiKey.objects.using(DB)
        .filter(prefix=prefix, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def caller(authorization: str | None, partner: Any = None, action: str = "") -> Caller:
    """The caller behind an Authorization header; a bad key is refused outright.

    ``partner`` is the partner application the middleware already authenticated.
    """
    if partner is not None:
        return Caller("system:partner-app", None, partner, action)
    if not authorization:
        return Caller("system:ngsi-ld", None)
    scheme, _, token = authorization.partition(" ")
    key = _key_for(token.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        raise NgsiLdError("Unauthorized", "the Authorization header does not carry a valid key")
    return Caller("system:ngsi-ld", key)


def _key_for(token: str) -> ApiKey | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.using(DB).filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.using(DB).filter(pk=key.pk).update(last_used_at=now)
    return key


def require_write(who: Caller, tenant: str) -> None:
    if not who.may_write(tenant):
        kind = "Unauthorized" if who.key is None else "Forbidden"
        raise NgsiLdError(kind, "this key may not write this tenant's context")


def require_read(who: Caller, tenant: str) -> None:
    if not who.may_read(tenant):
        kind = "Unauthorized" if who.key is None else "Forbidden"
        raise NgsiLdError(kind, "this key may not read this tenant's context")
