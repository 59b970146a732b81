"""Signed webhooks on files' status changes, following Standard Webhooks.

An instructor group's agents register addresses; each status change of one of
the group's files writes one delivery per active address (the outbox) in the
transaction of the change, so a message is never lost nor sent for a change that
rolled back. ``deliver_due`` sends what is due, retrying with exponential
backoff; an address whose message still fails after the last attempt is
disabled, with the reason shown to its agents.

The body names the file and the change, never the applicant's answers: the
receiver reads the file through the agents' API, with a token, and that read is
logged for the applicant. See docs/procedures-api.md.

Signature (https://www.standardwebhooks.com/): headers ``webhook-id``,
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``:
``v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, where the key is
the base64-decoded part of the ``whsec_…`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alzette.core.network import reaches_only_public_addresses
from alzette.core.repositories import PERSONAL
from alzette.personal.procedures import authz
from alzette.personal.procedures.models import (
    Dossier,
    DossierEvent,
    InstructorGroup,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's marker, not a secret)
#: Attempts before a message is given up: about 34 hours in all with the delays below.
MAX_ATTEMPTS = 12
TIMEOUT_SECONDS = 10
USER_AGENT = "Alzette-Webhooks/1"


class NotAllowed(Exception):
    """Only the group's members may manage its webhooks."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for ``body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt: 30 s, 1 min, 2 min... at most 8 hours."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 8 * 3600))


# --- Endpoints --------------------------------------------------------------------


def _member_group(agent: Any, group_id: Any) -> InstructorGroup:
    group = InstructorGroup.objects.filter(pk=group_id, members=agent).first()
    if group is None or not authz.is_agent(agent):
        raise NotAllowed("Only the members of an instructor group manage its webhooks.")
    return group


def register(agent: Any, group_id: Any, url: str) -> WebhookEndpoint:
    group = _member_group(agent, group_id)
    if settings.ALZETTE_MODE == "production":
        if not url.startswith("https://"):
            # Messages name files: they travel encrypted, and the receiver is authenticated.
            raise ValidationError("In production, a webhook address must use https.")
        if not reaches_only_public_addresses(url):
            raise ValidationError("A webhook address must be a public host of the internet.")
    endpoint = WebhookEndpoint(group=group, url=url, secret=new_secret(), created_by=agent)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def endpoints_of(agent: Any) -> Any:
    return WebhookEndpoint.objects.filter(group__members=agent).select_related("group")


def remove(agent: Any, endpoint_id: Any) -> None:
    endpoint = endpoints_of(agent).get(pk=endpoint_id)
    endpoint.delete()


# --- Outbox -----------------------------------------------------------------------


def payload(dossier: Dossier, event: DossierEvent) -> dict[str, Any]:
    return {
        "type": "procedure.file.status_changed",
        "timestamp": event.created_at.isoformat(),
        "data": {
            "file": str(dossier.pk),
            "reference": dossier.reference,
            "procedure": dossier.procedure.slug,
            "commune": dossier.commune.code if dossier.commune_id else None,
            "from": event.from_status,
            "to": event.to_status,
        },
    }


def enqueue(dossier: Dossier, event: DossierEvent) -> int:
    """Write one delivery per active endpoint of the file's group; call inside the change's
    transaction. Files routed to no group have no webhook."""
    if dossier.group_id is None:
        return 0
    body = json.dumps(payload(dossier, event), ensure_ascii=False, separators=(",", ":"))
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            payload=body,
            next_attempt_at=now,
        )
        for endpoint in WebhookEndpoint.objects.filter(group_id=dossier.group_id, active=True)
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    return len(deliveries)


# --- Delivery ---------------------------------------------------------------------


def _post(delivery: WebhookDelivery) -> int:
    """POST the delivery; the HTTP status, or an exception when no answer came."""
    timestamp = int(timezone.now().timestamp())
    body = delivery.payload
    request = urllib.request.Request(  # noqa: S310 (http(s) URLs only: URLField validated)
        delivery.endpoint.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                delivery.endpoint.secret, delivery.message_id, timestamp, body
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _attempt(delivery: WebhookDelivery, now: datetime) -> bool:
    delivery.attempts += 1
    try:
        # Checked again at each send: the host's addresses may have changed since.
        if settings.ALZETTE_MODE == "production" and not reaches_only_public_addresses(
            delivery.endpoint.url
        ):
            raise ValueError("the address resolves to a non-public network")
        status = _post(delivery)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        status, error = None, str(exc)[:300]
    delivery.last_status, delivery.last_error = status, error
    if not error:
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.failed_at = now
        _disable(delivery.endpoint, error)
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save()
    return not error


def _disable(endpoint: WebhookEndpoint, error: str) -> None:
    endpoint.active = False
    endpoint.disabled_reason = f"{MAX_ATTEMPTS} failed attempts; last: {error}"[:200]
    endpoint.save(update_fields=["active", "disabled_reason", "updated_at"])
    logger.warning("Webhook %s disabled: %s", endpoint.pk, endpoint.disabled_reason)


def deliver_due(now: datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """Send the due deliveries (oldest first); (delivered, failed this time).

    Each delivery is locked while it is sent (``skip_locked``), so two workers
    never send the same message twice at the same time.
    """
    now = now or timezone.now()
    delivered = failed = 0
    for _ in range(limit):
        with transaction.atomic(using=PERSONAL):
            delivery = (
                WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("endpoint")
                .filter(
                    delivered_at__isnull=True,
                    failed_at__isnull=True,
                    next_attempt_at__lte=now,
                    endpoint__active=True,
                )
                .order_by("next_attempt_at", "created_at")
                .first()
            )
            if delivery is None:
                break
            if _attempt(delivery, now):
                delivered += 1
            else:
                failed += 1
    return delivered, failed
