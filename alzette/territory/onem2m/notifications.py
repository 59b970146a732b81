"""Delivering notifications from the outbox so that none is lost.

Events write ``Notification`` rows in their own transaction. After the commit
``kick`` asks for a delivery round (in a background thread of the process, or
inline when ``ALZETTE_ONEM2M_DELIVERY`` is "sync"); the worker's ``onem2m
deliver`` job runs one every minute as the safety net and for retries.

A round claims due rows (a claim token, so several processes never send the same
row), sends them in order per target and, when a target fails, puts its rows back
with exponential backoff: they are delivered in order when it comes back, or
marked failed after ``ALZETTE_ONEM2M_NOTIFICATION_TTL_HOURS``. A subscription's
``pn`` = 1 (sendLatest) keeps only the latest of what piled up; ``bn`` batches;
``nse`` counts requests and responses per target in ``nsi``, which is how the
subscriber sees failures.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from alzette.core.repositories import TERRITORY
from alzette.territory.onem2m import bindings, config
from alzette.territory.onem2m.bindings.base import DeliveryError
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.errors import bad_request
from alzette.territory.onem2m.models import Notification, Resource

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onem2m-notify")
_scheduled = threading.Lock()


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at one hour."""
    return timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


def check_target(target: str) -> None:
    """A notification URI is a URL of a supported scheme or an AE's address."""
    if "://" not in target:
        return
    scheme = urlsplit(target).scheme
    if bindings.for_scheme(scheme) is None:
        raise bad_request(f"nu: no binding sends to {scheme}:// here")


def _routes(target: str, fallback_receiver: str = "") -> list[tuple[str, str]]:
    """(url, receiver) pairs to try for a target: a URL, or an AE's points of access."""
    if "://" in target:
        return [(target, fallback_receiver)]
    from alzette.territory.onem2m import addressing

    ae = addressing.find(target, ty=T.AE)
    if ae is None:
        raise DeliveryError(f"{target} is not a registered AE")
    if not ae.attrs.get("rr", False):
        raise DeliveryError(f"{ae.ri} is not request-reachable (rr is false)")
    routes = [(poa, ae.ri) for poa in ae.attrs.get("poa", [])]
    if not routes:
        raise DeliveryError(f"{ae.ri} has no point of access (poa)")
    return routes


def _send(target: str, body: dict[str, Any], receiver: str = "") -> None:
    primitive = {
        "op": 5,
        "fr": config.csi(),
        "rqi": uuid.uuid4().hex,
        "rvi": "3",
        "pc": body,
    }
    errors = []
    for url, to in _routes(target, receiver):
        binding = bindings.for_scheme(urlsplit(url).scheme)
        if binding is None or not binding.enabled():
            errors.append(f"{url}: no binding")
            continue
        try:
            rsc = binding.send(url, to, {**primitive, "to": to or target})
        except DeliveryError as exc:
            errors.append(f"{url}: {exc}")
            continue
        if rsc >= 4000:
            raise DeliveryError(f"{url} answered {rsc}")
        return
    raise DeliveryError("; ".join(errors) or "no route")


def send_now(target: str, body: dict[str, Any], receiver: str = "") -> str:
    """Send synchronously (verification requests); return "" or the error."""
    try:
        _send(target, body, receiver)
    except DeliveryError as exc:
        return str(exc)[:500]
    return ""


# --- Rounds ------------------------------------------------------------------


def kick() -> None:
    """Ask for a delivery round soon; several kicks before it starts make one."""
    mode = settings.ALZETTE_ONEM2M_DELIVERY
    if mode == "sync":
        deliver_due()
    elif mode == "thread" and _scheduled.acquire(blocking=False):
        _executor.submit(_threaded_round)


def _threaded_round() -> None:
    _scheduled.release()
    try:
        deliver_due()
    except Exception:
        logger.exception("oneM2M notification round failed; the worker will retry")
    finally:
        close_old_connections()


def _claim(now: datetime, limit: int) -> list[Notification]:
    token = secrets.token_hex(16)
    with transaction.atomic(using=TERRITORY):
        Notification.objects.filter(status=Notification.SENDING, claimed_until__lt=now).update(
            status=Notification.PENDING, claim=""
        )
        ids = list(
            Notification.objects.filter(status=Notification.PENDING, next_attempt_at__lte=now)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Notification.objects.filter(id__in=ids, status=Notification.PENDING).update(
            status=Notification.SENDING, claim=token, claimed_until=now + LEASE
        )
    return list(Notification.objects.filter(claim=token).order_by("id"))


def deliver_due(now: datetime | None = None, limit: int = 500) -> tuple[int, int]:
    """One round; returns (delivered, failed attempts)."""
    now = now or timezone.now()
    rows = _claim(now, limit)
    if not rows:
        return 0, 0
    subs = {s.ri: s for s in Resource.objects.filter(ri__in={r.subscription for r in rows})}
    groups: dict[tuple[str, str], list[Notification]] = defaultdict(list)
    for row in rows:
        groups[(row.subscription, row.target)].append(row)
    blocked: set[str] = set()
    stats: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    delivered = failed = 0
    for (sub_ri, target), group in groups.items():
        sub = subs.get(sub_ri)
        group = _prepare_group(sub, group, now)
        for message in group:
            if target in blocked:
                _release(message, now, attempted=False)
                continue
            ok = _deliver(sub, message, now)
            stats[sub_ri][target][0] += 1
            if ok:
                stats[sub_ri][target][1] += 1
                delivered += 1
            else:
                failed += 1
                blocked.add(target)
    _record_stats(stats)
    return delivered, failed


def _prepare_group(sub: Resource | None, group: list[Notification], now: datetime) -> list:
    """Apply sendLatest and batching to one subscription's rows for one target."""
    attrs = sub.attrs if sub is not None else {}
    if attrs.get("pn") == 1 and len(group) > 1 and any(m.attempts for m in group):
        stale = group[:-1]
        Notification.objects.filter(id__in=[m.id for m in stale]).update(
            status=Notification.SUPERSEDED, claim=""
        )
        group = group[-1:]
    batched = [m for m in group if m.batch]
    if not batched:
        return group
    return [m for m in group if not m.batch] + _batch(attrs, batched, now)


def _batch(attrs: dict, rows: list[Notification], now: datetime) -> list[Notification]:
    """Merge batched rows into one aggregated notification when num or dur is reached."""
    from alzette.territory.onem2m.subscriptions import parse_duration

    bn = attrs.get("bn") or {}
    dur = parse_duration(bn["dur"], "bn/dur") if "dur" in bn else None
    ready = len(rows) >= bn.get("num", 1) or (dur is not None and rows[0].created_at + dur <= now)
    if not ready:
        wait = rows[0].created_at + dur if dur is not None else now + timedelta(minutes=1)
        Notification.objects.filter(id__in=[m.id for m in rows]).update(
            status=Notification.PENDING, claim="", next_attempt_at=max(wait, now)
        )
        return []
    sgns = [m.payload["m2m:sgn"] for m in rows]
    if attrs.get("ln"):
        sgns = sgns[-1:]
    head, rest = rows[0], rows[1:]
    head.payload = {"m2m:agn": {"m2m:sgn": sgns}}
    head.batch = False
    head.save(update_fields=["payload", "batch"])
    Notification.objects.filter(id__in=[m.id for m in rest]).delete()
    return [head]


def _deliver(sub: Resource | None, message: Notification, now: datetime) -> bool:
    receiver = sub.cr if sub is not None else ""
    try:
        _send(message.target, message.payload, receiver)
    except DeliveryError as exc:
        message.attempts += 1
        message.last_error = str(exc)[:500]
        _release(message, now, attempted=True)
        logger.info("oneM2M notification to %s failed: %s", message.target, exc)
        return False
    message.attempts += 1
    message.status = Notification.SENT
    message.claim = ""
    message.last_error = ""
    message.save(update_fields=["attempts", "status", "claim", "last_error"])
    return True


def _release(message: Notification, now: datetime, attempted: bool) -> None:
    ttl = timedelta(hours=settings.ALZETTE_ONEM2M_NOTIFICATION_TTL_HOURS)
    if message.created_at + ttl <= now:
        message.status = Notification.FAILED
    else:
        message.status = Notification.PENDING
        if attempted:
            message.next_attempt_at = now + backoff(message.attempts)
    message.claim = ""
    message.save(update_fields=["attempts", "status", "claim", "last_error", "next_attempt_at"])


def _record_stats(stats: dict[str, dict[str, list[int]]]) -> None:
    """Add sent requests (rqs) and received responses (rsr) to each sub's nsi."""
    for sub_ri, targets in stats.items():
        with transaction.atomic(using=TERRITORY):
            sub = Resource.objects.select_for_update().filter(ri=sub_ri).first()
            if sub is None or not sub.attrs.get("nse"):
                continue
            for entry in sub.attrs.get("nsi", []):
                sent, answered = targets.get(entry["tg"], (0, 0))
                entry["rqs"] += sent
                entry["rsr"] += answered
            Resource.objects.filter(ri=sub_ri).update(attrs=sub.attrs)


def purge(now: datetime | None = None, days: int = 7) -> int:
    """Forget delivered, superseded and failed notifications after ``days``."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    done = (Notification.SENT, Notification.SUPERSEDED, Notification.FAILED)
    count, _ = Notification.objects.filter(status__in=done, created_at__lt=cutoff).delete()
    return count
