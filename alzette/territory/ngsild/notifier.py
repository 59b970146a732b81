"""Delivering NGSI-LD notifications from the outbox, over HTTP and MQTT.

Rows are claimed with a lease and a token, so several processes never send
the same one twice; a failure is retried with an exponential backoff (5 s,
10 s, 20 s ... one hour) until the row is seven days old. Each attempt
updates the subscription's ``timesSent``, ``lastSuccess``/``lastFailure``
(§5.2.12). HTTP notifications are POSTed to the endpoint (§7.2 of the
binding); MQTT ones are published as ``{"metadata": ..., "body": ...}`` on
the topic of the ``mqtt://`` endpoint (CIM 009 §7.4.2).
"""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F

from alzette.core.network import reaches_only_public_addresses
from alzette.territory.ngsild import jsonld
from alzette.territory.ngsild.models import Notification, Subscription

logger = logging.getLogger(__name__)
DB = "territory"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
LEASE = timedelta(minutes=2)
KEEP = timedelta(days=7)
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ngsild-notify")
_scheduled = threading.Lock()


#: Set when a write queued notifications; ``flush`` kicks a round once the write is over.
pending: contextvars.ContextVar[bool] = contextvars.ContextVar("ngsild_pending", default=False)


class DeliveryError(Exception):
    pass


def flush() -> None:
    """After a request (or a mapped device message): deliver what it queued.

    The commit hook already did when the write committed on its own; this also
    covers writes nested in an outer transaction that the caller has closed.
    """
    if pending.get():
        pending.set(False)
        kick()


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def kick() -> None:
    """Ask for a delivery round soon; several kicks before it starts make one."""
    mode = settings.ALZETTE_NGSILD_DELIVERY
    if mode == "sync":
        deliver_due()
    elif mode == "thread" and _scheduled.acquire(blocking=False):
        _executor.submit(_threaded_round)


def _threaded_round() -> None:
    _scheduled.release()
    try:
        deliver_due()
    except Exception:
        logger.exception("NGSI-LD notification round failed; the worker will retry")
    finally:
        close_old_connections()


def _claim(now: datetime, limit: int) -> list[Notification]:
    token = secrets.token_hex(16)
    with transaction.atomic(using=DB):
        rows = Notification.objects.using(DB)
        free = rows.filter(next_attempt_at__lte=now).exclude(claimed_until__gt=now)
        ids = list(free.order_by("id").values_list("id", flat=True)[:limit])
        rows.filter(id__in=ids).exclude(claimed_until__gt=now).update(
            claim=token, claimed_until=now + LEASE
        )
    return list(
        Notification.objects.using(DB).filter(claim=token).select_related("subscription")
        .order_by("id")
    )  # fmt: skip


def deliver_due(now: datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """One round over due notifications; returns (delivered, failed)."""
    now = now or datetime.now(UTC)
    delivered = failed = 0
    blocked: set[str] = set()
    rows = _claim(now, limit)
    waiting = _waiting(rows, now)
    for row in rows:
        uri = row.subscription.body["notification"]["endpoint"]["uri"]
        behind = waiting.get(row.subscription_id)
        if uri in blocked or (behind is not None and behind[0] < row.pk):
            # Keep order: nothing newer goes out while an older one waits for its retry.
            _release(row, now, error=None, until=behind[1] if behind else None)
            continue
        try:
            send(row.subscription, row.payload)
        except DeliveryError as exc:
            failed += 1
            blocked.add(uri)
            _failed(row, now, str(exc))
            continue
        delivered += 1
        _succeeded(row, now)
    return delivered, failed


def _waiting(rows: list[Notification], now: datetime) -> dict[int, tuple[int, datetime]]:
    """Per subscription, the oldest notification still waiting for a retry (id, when)."""
    subs = {row.subscription_id for row in rows}
    found: dict[int, tuple[int, datetime]] = {}
    later = Notification.objects.using(DB).filter(subscription_id__in=subs, next_attempt_at__gt=now)
    for sub_id, pk, when in later.order_by("id").values_list(
        "subscription_id", "id", "next_attempt_at"
    ):
        found.setdefault(sub_id, (pk, when))
    return found


def _succeeded(row: Notification, now: datetime) -> None:
    with transaction.atomic(using=DB):
        Subscription.objects.using(DB).filter(pk=row.subscription_id).update(
            times_sent=F("times_sent") + 1, last_notification=now, last_success=now
        )
        row.delete(using=DB)


def _failed(row: Notification, now: datetime, error: str) -> None:
    with transaction.atomic(using=DB):
        Subscription.objects.using(DB).filter(pk=row.subscription_id).update(
            times_sent=F("times_sent") + 1, times_failed=F("times_failed") + 1,
            last_notification=now, last_failure=now,
        )  # fmt: skip
        if now - row.created_at > KEEP:
            logger.warning("NGSI-LD notification %s dropped after 7 days: %s", row.pk, error)
            row.delete(using=DB)
            return
        row.attempts += 1
        _release(row, now, error)


def _release(
    row: Notification, now: datetime, error: str | None, until: datetime | None = None
) -> None:
    row.claim = ""
    row.claimed_until = None
    if until is not None:
        row.next_attempt_at = until
    if error is not None:
        row.last_error = error[:300]
        row.next_attempt_at = now + backoff(row.attempts)
    row.save(using=DB)


def send(sub: Subscription, payload: dict[str, Any]) -> None:
    """Send one notification to the subscription's endpoint, or raise DeliveryError."""
    endpoint = sub.body["notification"]["endpoint"]
    accept = endpoint.get("accept", "application/json")
    headers = {pair["key"]: pair["value"] for pair in endpoint.get("receiverInfo", [])}
    body = dict(payload)
    if accept == "application/ld+json":
        body["@context"] = sub.context if sub.context is not None else jsonld.CORE
    else:
        link = jsonld.CORE
        if isinstance(sub.context, str):
            link = sub.context
        headers["Link"] = f'<{link}>; rel="{CONTEXT_REL}"; type="application/ld+json"'
    if sub.tenant:
        headers["NGSILD-Tenant"] = sub.tenant
    uri = endpoint["uri"]
    if urlsplit(uri).scheme.startswith("mqtt"):
        _publish(uri, endpoint, {"metadata": {"Content-Type": accept, **headers}, "body": body})
    else:
        _post(uri, accept, headers, body)


def _post(uri: str, accept: str, headers: dict[str, str], body: dict[str, Any]) -> None:
    if not settings.ALZETTE_NGSILD_PRIVATE_TARGETS and not reaches_only_public_addresses(uri):
        raise DeliveryError("the endpoint resolves to a private address")
    request = urllib.request.Request(uri, data=json.dumps(body).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", accept)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=settings.ALZETTE_NGSILD_NOTIFY_TIMEOUT):  # noqa: S310
            return
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(str(exc) or exc.__class__.__name__) from None


def _publish(uri: str, endpoint: dict[str, Any], message: dict[str, Any]) -> None:
    import paho.mqtt.publish as publish

    parts = urlsplit(uri)
    info = {p["key"]: p["value"] for p in endpoint.get("notifierInfo", [])}
    try:
        qos = int(info.get("MQTT-QoS", "0"))
    except ValueError:
        qos = 0
    auth = None
    if parts.username:
        auth = {"username": unquote(parts.username), "password": unquote(parts.password or "")}
    try:
        publish.single(
            unquote(parts.path.lstrip("/")),
            json.dumps(message),
            qos=qos if qos in (0, 1, 2) else 0,
            hostname=parts.hostname,
            port=parts.port or (8883 if parts.scheme == "mqtts" else 1883),
            auth=auth,
            tls={} if parts.scheme == "mqtts" else None,
            keepalive=10,
        )
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"MQTT: {exc}") from None
