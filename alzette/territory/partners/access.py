"""Who is calling, what they may read or write, how fast, and the log of it.

Checked on every request: a credential is looked up by its prefix and compared
in constant time; a revoked or expired one is refused (never downgraded to an
anonymous call); a live application reaches data that is not open only through
a grant in force at that instant, so a grant stops working by itself at its end.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from alzette.core import ratelimit
from alzette.territory.catalogue.models import Dataset
from alzette.territory.partners import scopes as vocab
from alzette.territory.partners.models import AccessLog, App, Credential, Grant, Usage
from alzette.territory.partners.services import (
    DB,
    KEY_PREFIX,
    TOKEN_PREFIX,
    active_grants,
    hash_secret,
)

log = logging.getLogger("alzette.partners")

#: The NGSI-LD tenant that sandbox applications use, filled with synthetic data.
SANDBOX_TENANT = "sandbox"
#: The catalogue publisher whose datasets sandbox applications see.
SANDBOX_ORGANISATION = "sandbox"


class AccessDenied(Exception):
    """A refused call: ``status`` is 401 (who are you), 403 (not this) or 429 (not now)."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


def is_partner_credential(token: str) -> bool:
    return token.startswith((f"{KEY_PREFIX}_", f"{TOKEN_PREFIX}_"))


@dataclass
class Caller:
    """A partner application, authenticated, with the scopes its credential carries."""

    app: App
    credential: Credential
    scopes: frozenset[str]
    _grants: list[Grant] | None = field(default=None, repr=False)

    @property
    def organisation(self):  # noqa: ANN201 - a catalogue Organisation
        return self.app.organisation

    def grants(self) -> list[Grant]:
        """Every grant in force now (for listings), read once per request."""
        if self._grants is None:
            found = active_grants(self.app.organisation).select_related("dataset", "granted_by")
            self._grants = list(found)
        return self._grants

    def dataset_grant(self, dataset: Dataset) -> Grant | None:
        # One indexed look-up, not the whole list: most calls check one dataset.
        return active_grants(self.app.organisation).filter(dataset=dataset).first()

    def scope_grant(self, scope: str) -> Grant | None:
        return active_grants(self.app.organisation).filter(scope=scope).first()

    def granted_datasets(self) -> set[object]:
        found = active_grants(self.app.organisation).filter(dataset__isnull=False)
        return set(found.values_list("dataset_id", flat=True))


def authenticate(token: str) -> Caller:
    """The caller behind a bearer token, or AccessDenied(401) with the reason."""
    label, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    kind = {KEY_PREFIX: Credential.Kind.KEY, TOKEN_PREFIX: Credential.Kind.TOKEN}.get(label)
    credential = (
        Credential.objects.using(DB)
        .select_related("app__organisation")
        .filter(kind=kind, prefix=prefix)
        .first()
        if kind and prefix and secret
        else None
    )
    if credential is None or not hmac.compare_digest(credential.secret_hash, hash_secret(secret)):
        raise AccessDenied(401, "the credential is not valid")
    now = timezone.now()
    if credential.revoked_at is not None or credential.app.revoked_at is not None:
        raise AccessDenied(401, "the credential has been revoked")
    if credential.expires_at is not None and credential.expires_at <= now:
        raise AccessDenied(401, "the access token has expired; request a new one")
    if credential.last_used_at is None or (now - credential.last_used_at).total_seconds() > 60:
        Credential.objects.using(DB).filter(pk=credential.pk).update(last_used_at=now)
    app_scopes = set(credential.app.scopes)
    carried = set(credential.scopes) & app_scopes if credential.kind == "token" else app_scopes
    return Caller(credential.app, credential, frozenset(carried))


# --- What a caller may reach ---------------------------------------------------------------


def read_dataset(caller: Caller | None, dataset: Dataset, action: str) -> Grant | None:
    """Allow reading ``dataset`` or raise AccessDenied; log every access to shared data.

    Open data is for everyone (and not logged: there is no one to account to).
    """
    if dataset.access == Dataset.Access.OPEN and dataset.published:
        return None
    if caller is None:
        raise AccessDenied(401, "this dataset is shared with partners only; send a key")
    grant, reason = _dataset_decision(caller, dataset)
    record(
        caller,
        dataset.identifier,
        action,
        grant=grant,
        owner_id=dataset.organisation_id,
        reason=reason,
    )
    if reason:
        raise AccessDenied(403, reason)
    return grant


def _dataset_decision(caller: Caller, dataset: Dataset) -> tuple[Grant | None, str]:
    if vocab.DATASETS_READ not in caller.scopes:
        return None, f"the credential lacks the {vocab.DATASETS_READ} scope"
    if not dataset.published:
        return None, "this dataset is withdrawn"
    if caller.app.sandbox:
        if dataset.organisation.slug == SANDBOX_ORGANISATION:
            return None, ""
        return None, "a sandbox application sees only the sandbox's datasets"
    if dataset.organisation_id == caller.app.organisation_id:
        return None, ""
    grant = caller.dataset_grant(dataset)
    if grant is None:
        return None, "no grant in force shares this dataset with your organisation"
    return grant, ""


def readable_datasets(caller: Caller | None) -> list[Dataset]:
    """The datasets that are not open but that ``caller`` may read now."""
    if caller is None or vocab.DATASETS_READ not in caller.scopes:
        return []
    shared = Dataset.objects.using(DB).exclude(access=Dataset.Access.OPEN).filter(published=True)
    if caller.app.sandbox:
        return list(shared.filter(organisation__slug=SANDBOX_ORGANISATION))
    granted = caller.granted_datasets()
    found = shared.filter(organisation=caller.app.organisation) | shared.filter(pk__in=granted)
    return list(found.distinct())


def use_context(caller: Caller, scope: str, tenant: str, action: str) -> None:
    """Allow an NGSI-LD call on ``tenant`` or raise AccessDenied(403)."""
    reason = _context_decision(caller, scope, tenant)
    # An organisation's own tenant and the sandbox are its own business; the shared
    # context and every refusal are logged for whoever granted the scope.
    if reason or (tenant == "" and not caller.app.sandbox):
        grant = None if reason else caller.scope_grant(scope)
        owner = grant.granted_by_id if grant else None
        record(
            caller,
            f"{scope}@{tenant or 'default'}",
            action,
            grant=grant,
            owner_id=owner,
            reason=reason,
        )
    if reason:
        raise AccessDenied(403, reason)


def _context_decision(caller: Caller, scope: str, tenant: str) -> str:
    if scope not in caller.scopes:
        return f"the credential lacks the {scope} scope"
    if caller.app.sandbox:
        if tenant == SANDBOX_TENANT:
            return ""
        return f"a sandbox application may use only the {SANDBOX_TENANT!r} tenant"
    if tenant == caller.app.organisation.slug:
        return ""  # an organisation's own space
    if tenant == "" and caller.scope_grant(scope) is not None:
        return ""
    return f"no grant in force gives your organisation {scope} on this tenant"


def record(
    caller: Caller,
    subject: str,
    action: str,
    *,
    grant: Grant | None = None,
    owner_id: object = None,
    reason: str = "",
) -> None:
    AccessLog.objects.using(DB).create(
        app=caller.app,
        organisation_id=caller.app.organisation_id,
        owner_id=owner_id,
        grant=grant,
        subject=subject[:120],
        action=action[:200],
        allowed=not reason,
        reason=reason[:200],
    )
    if reason:
        log.info(
            "partner access refused: app=%s subject=%s reason=%s",
            caller.app.client_id,
            subject,
            reason,
        )


# --- Rate limits and quotas ----------------------------------------------------------------


def consume(app: App, now: float | None = None) -> None:
    """Count one request; raise AccessDenied(429) with Retry-After when over a limit.

    The per-minute window lives in the shared cache (Redis in production, the
    database otherwise), so every app server counts the same requests; the daily
    quota is the sum of the hourly usage rows, also used for the usage charts.
    """
    now = time.time() if now is None else now
    window = int(now // 60)
    # Atomic on Redis and on the database cache alike (alzette/core/ratelimit.py);
    # the key outlives its minute so that a late request still finds its window.
    count = ratelimit.hit(f"partners:rate:{app.pk}:{window}", timeout=120)
    if count > app.per_minute:
        _count_usage(app, refused=True)
        raise AccessDenied(
            429,
            f"over {app.per_minute} requests per minute",
            retry_after=max(1, math.ceil((window + 1) * 60 - now)),
        )
    if _used_today(app) >= app.per_day:
        _count_usage(app, refused=True)
        raise AccessDenied(
            429,
            f"over the quota of {app.per_day} requests per day",
            retry_after=_seconds_to_midnight(),
        )
    _count_usage(app, refused=False)


def _hour(at: datetime | None = None) -> datetime:
    return (at or timezone.now()).replace(minute=0, second=0, microsecond=0)


def _count_usage(app: App, *, refused: bool) -> None:
    column = "refused" if refused else "requests"
    hour = _hour()
    updated = Usage.objects.using(DB).filter(app=app, hour=hour).update(**{column: F(column) + 1})
    if updated:
        return
    try:
        with transaction.atomic(using=DB):
            Usage.objects.using(DB).create(app=app, hour=hour, **{column: 1})
    except IntegrityError:  # another server created the row first
        Usage.objects.using(DB).filter(app=app, hour=hour).update(**{column: F(column) + 1})


def _day_start() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _used_today(app: App) -> int:
    found = Usage.objects.using(DB).filter(app=app, hour__gte=_day_start())
    return found.aggregate(total=Sum("requests"))["total"] or 0


def _seconds_to_midnight() -> int:
    from datetime import timedelta

    tomorrow = _day_start() + timedelta(days=1)
    return max(1, math.ceil((tomorrow - timezone.localtime()).total_seconds()))


def usage_by_day(app: App, days: int = 14) -> list[tuple[str, int, int]]:
    """(day, requests, refused) for the last ``days`` days, oldest first, zeros included."""
    from datetime import timedelta

    start = _day_start() - timedelta(days=days - 1)
    totals: dict[str, list[int]] = {}
    for row in Usage.objects.using(DB).filter(app=app, hour__gte=start):
        day = timezone.localtime(row.hour).date().isoformat()
        pair = totals.setdefault(day, [0, 0])
        pair[0] += row.requests
        pair[1] += row.refused
    out = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).date().isoformat()
        requests, refused = totals.get(day, (0, 0))
        out.append((day, requests, refused))
    return out
