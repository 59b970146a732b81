"""Health of devices, connected services and the platform, from the databases.

A device is a oneM2M AE. Its health takes a handful of aggregate queries for
every device at once, never one per device (docs/supervision.md):

- last seen: the latest ``lt`` of its containers (the CSE sets it to the
  creation time of each new contentInstance) or of the AE itself;
- messages in 24 h: contentInstances created under its containers (a join that
  walks the ``(pi, ty, ct)`` index from each container);
- battery: the latest contentInstance of its ``battery`` container, ``{"level": 0..1}``;
- quarantined in 24 h: ``QuarantinedMessage`` rows; error rate = quarantined / messages.

Status: ``offline`` when not seen for ``ALZETTE_SUPERVISION_OFFLINE_MINUTES``
(60), or for twice the period an AE label ``period:<seconds>`` announces;
``low_battery`` under ``ALZETTE_SUPERVISION_LOW_BATTERY_PERCENT`` (20 %); else ``ok``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, JSONField, Max, OuterRef, Subquery

from alzette.territory.onem2m.models import Resource
from alzette.territory.supervision.models import Alert, QuarantinedMessage

DB = "territory"
AE, CNT, CIN = 2, 3, 4
OK, LOW_BATTERY, OFFLINE = "ok", "low_battery", "offline"
STATUSES = (OK, LOW_BATTERY, OFFLINE)
_COMMUNE = re.compile(r"-((?:[0-9]{2}|2A|2B)[0-9]{3})(?:-|$)")


def offline_after() -> timedelta:
    return timedelta(minutes=getattr(settings, "ALZETTE_SUPERVISION_OFFLINE_MINUTES", 60))


def low_battery() -> float:
    return getattr(settings, "ALZETTE_SUPERVISION_LOW_BATTERY_PERCENT", 20) / 100


@dataclass
class DeviceHealth:
    device: str
    ri: str
    commune: str
    last_seen: datetime | None = None
    battery: float | None = None
    messages: int = 0
    messages_hour: int = 0
    quarantined: int = 0
    period: int | None = None
    status: str = OK

    @property
    def error_rate(self) -> float:
        total = max(self.messages, self.quarantined)
        return self.quarantined / total if total else 0.0


def commune_of(name: str) -> str:
    """The INSEE code in a device name (bin-57038-001, pav-57038-01-glass), or ""."""
    found = _COMMUNE.search(name)
    return found.group(1) if found else ""


def devices(now: datetime | None = None, only: str | None = None) -> list[DeviceHealth]:
    """Every device's health (or only the one named), by name."""
    now = now or datetime.now(UTC)
    day, hour = now - timedelta(hours=24), now - timedelta(hours=1)
    found: dict[str, DeviceHealth] = {}
    aes = Resource.objects.using(DB).filter(ty=AE)
    if only is not None:
        aes = aes.filter(rn=only)
    for ri, rn, lt, labels in aes.values_list("ri", "rn", "lt", "lbl"):
        found[ri] = DeviceHealth(rn, ri, commune_of(rn), last_seen=lt, period=_period(labels))
    if not found:
        return []
    narrow = list(found) if only is not None else None
    # Containers of AEs: a subquery rather than thousands of ids in a list.
    containers = Resource.objects.using(DB).filter(ty=CNT, pi__in=aes.values("ri"))
    for pi, last in containers.values("pi").annotate(last=Max("lt")).values_list("pi", "last"):
        item = found.get(pi)
        if item is not None and last is not None:
            item.last_seen = max(item.last_seen, last) if item.last_seen else last
    for pi, total, recent in _counts(day, hour, narrow):
        item = found.get(pi)
        if item is not None:
            item.messages, item.messages_hour = total, recent
    for pi, level in _batteries(narrow):
        item = found.get(pi)
        if item is not None:
            item.battery = level
    by_name = {item.device: item for item in found.values()}
    quarantined = QuarantinedMessage.objects.using(DB).filter(received_at__gte=day)
    if only is not None:
        quarantined = quarantined.filter(device=only)
    counted = quarantined.values("device").annotate(n=Count("id"))
    for device, n in counted.values_list("device", "n"):
        if device in by_name:
            by_name[device].quarantined = n
    for item in found.values():
        item.status = _status(item, now)
    return sorted(found.values(), key=lambda d: d.device)


def _period(labels: Any) -> int | None:
    for label in labels or []:
        if isinstance(label, str) and label.startswith("period:"):
            try:
                seconds = int(label.removeprefix("period:"))
            except ValueError:
                continue
            if seconds > 0:
                return seconds
    return None


def _status(item: DeviceHealth, now: datetime) -> str:
    limit = timedelta(seconds=2 * item.period) if item.period else offline_after()
    if item.last_seen is None or now - item.last_seen > limit:
        return OFFLINE
    if item.battery is not None and item.battery < low_battery():
        return LOW_BATTERY
    return OK


def _counts(day: datetime, hour: datetime, aes: list[str] | None) -> list[tuple[str, int, int]]:
    """(AE ri, contentInstances in 24 h, in the last hour) in one grouped query."""
    connection = connections[DB]
    table = connection.ops.quote_name(Resource._meta.db_table)
    among = f" AND cnt.pi IN ({', '.join(['%s'] * len(aes))})" if aes else ""
    sql = (
        f"SELECT cnt.pi, COUNT(cin.ri), "  # noqa: S608 - table name from the model
        f"SUM(CASE WHEN cin.ct >= %s THEN 1 ELSE 0 END) "
        f"FROM {table} cnt JOIN {table} cin ON cin.pi = cnt.ri AND cin.ty = %s AND cin.ct >= %s "
        f"WHERE cnt.ty = %s{among} GROUP BY cnt.pi"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(hour), CIN, adapt(day), CNT, *(aes or [])])
        return [(pi, int(total), int(recent or 0)) for pi, total, recent in cursor.fetchall()]


def _batteries(aes: list[str] | None) -> list[tuple[str, float]]:
    """(AE ri, battery level) from the latest instance of each ``battery`` container."""
    latest = Resource.objects.using(DB).filter(pi=OuterRef("ri"), ty=CIN).order_by("-ct")
    rows = Resource.objects.using(DB).filter(ty=CNT, rn="battery")
    if aes is not None:
        rows = rows.filter(pi__in=aes)
    rows = rows.annotate(latest=Subquery(latest.values("attrs")[:1], output_field=JSONField()))
    out = []
    for pi, attrs in rows.values_list("pi", "latest"):
        level = battery_level(attrs)
        if level is not None:
            out.append((pi, level))
    return out


def battery_level(attrs: Any) -> float | None:
    if isinstance(attrs, str):
        try:
            attrs = json.loads(attrs)
        except ValueError:
            return None
    content = attrs.get("con") if isinstance(attrs, dict) else None
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return None
    level = content.get("level") if isinstance(content, dict) else content
    if isinstance(level, bool) or not isinstance(level, int | float):
        return None
    return float(level)


def summary(items: list[DeviceHealth]) -> dict[str, int]:
    counts = {status: 0 for status in STATUSES}
    for item in items:
        counts[item.status] += 1
    return {"total": len(items), **counts}


def device(name: str, now: datetime | None = None) -> DeviceHealth | None:
    """One device's health (same computation, narrowed to it)."""
    found = devices(now, only=name)
    return found[0] if found else None


def recent_messages(name: str, limit: int = 50) -> list[dict[str, Any]]:
    """The device's latest contentInstances, newest first: container, time, content."""
    ae = Resource.objects.using(DB).filter(ty=AE, rn=name).first()
    if ae is None:
        return []
    containers = dict(Resource.objects.using(DB).filter(ty=CNT, pi=ae.ri).values_list("ri", "rn"))
    rows = Resource.objects.using(DB).filter(ty=CIN, pi__in=list(containers)).order_by("-ct")
    return [
        {"container": containers.get(pi, ""), "at": ct, "content": (attrs or {}).get("con")}
        for pi, ct, attrs in rows.values_list("pi", "ct", "attrs")[:limit]
    ]


# --- connected services and the platform -------------------------------------------------


@dataclass
class Platform:
    ingest_per_minute: float = 0.0
    messages_hour: int = 0
    quarantined_day: int = 0
    alerts_firing: int = 0
    ngsild_outbox: int = 0
    ngsild_outbox_retrying: int = 0
    ngsild_subscriptions: int = 0
    ngsild_subscriptions_failing: list[str] = field(default_factory=list)
    onem2m_outbox: dict[str, int] = field(default_factory=dict)
    datasets_failing: list[dict[str, Any]] = field(default_factory=list)
    partner_apps: list[dict[str, Any]] = field(default_factory=list)
    http_process: dict[str, int] = field(default_factory=dict)


def platform(items: list[DeviceHealth] | None = None, now: datetime | None = None) -> Platform:
    """Ingest rate, backlogs and failing services, from the territory database
    (the HTTP error counters are this process's own, since it started)."""
    from alzette.territory.catalogue.models import Dataset
    from alzette.territory.ngsild.models import Notification as LdNotification
    from alzette.territory.ngsild.models import Subscription
    from alzette.territory.onem2m.models import Notification as M2MNotification

    now = now or datetime.now(UTC)
    day = now - timedelta(hours=24)
    items = devices(now) if items is None else items
    out = Platform()
    out.messages_hour = sum(i.messages_hour for i in items)
    out.ingest_per_minute = round(out.messages_hour / 60, 2)
    out.quarantined_day = QuarantinedMessage.objects.using(DB).filter(received_at__gte=day).count()
    out.alerts_firing = Alert.objects.using(DB).filter(state=Alert.State.FIRING).count()
    outbox = LdNotification.objects.using(DB)
    out.ngsild_outbox = outbox.count()
    out.ngsild_outbox_retrying = outbox.filter(attempts__gt=0).count()
    subs = Subscription.objects.using(DB).filter(active=True)
    out.ngsild_subscriptions = subs.count()
    out.ngsild_subscriptions_failing = [
        s for s, ok, ko in subs.filter(last_failure__isnull=False)
        .values_list("subscription_id", "last_success", "last_failure")[:200]
        if ok is None or ko > ok
    ]  # fmt: skip
    out.onem2m_outbox = dict(
        M2MNotification.objects.using(DB).values("status").annotate(n=Count("id"))
        .values_list("status", "n")
    )  # fmt: skip
    out.datasets_failing = [
        {"identifier": i, "since": since, "error": error.splitlines()[0][:200] if error else ""}
        for i, since, error in Dataset.objects.using(DB).filter(failing_since__isnull=False)
        .order_by("failing_since").values_list("identifier", "failing_since", "refresh_error")[:100]
    ]  # fmt: skip
    out.partner_apps = _partner_usage(day)
    out.http_process = http_errors()
    return out


def _partner_usage(since: datetime) -> list[dict[str, Any]]:
    from django.db.models import Sum

    from alzette.territory.partners.models import Usage

    rows = (
        Usage.objects.using(DB).filter(hour__gte=since).values("app__name")
        .annotate(requests=Sum("requests"), refused=Sum("refused")).order_by("-refused")
    )  # fmt: skip
    return [
        {"app": r["app__name"], "requests": r["requests"] or 0, "refused": r["refused"] or 0}
        for r in rows[:50]
    ]


def http_errors() -> dict[str, int]:
    """Responses by status class counted by django-prometheus in this process."""
    from prometheus_client import REGISTRY

    counts = {"2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0}
    for metric in REGISTRY.collect():
        if metric.name != "django_http_responses_total_by_status":
            continue
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            status = str(sample.labels.get("status", ""))
            key = f"{status[:1]}xx"
            if key in counts:
                counts[key] += int(sample.value)
    return counts
