"""Leak detection on the water network (docs/water.md, "Detection").

``run_detect()`` (the worker, every 15 minutes) runs three detectors:

(a) night minimum flow: the lowest inflow of a district between 02:00 and 04:00
    local time, from its inflow meter's history, above the district's threshold;
(b) continuous flow: a household meter with use (≥ 1 L) in every hour of the
    window (24 h by default), from the meter's rolling hourly flags;
(c) network balance: per district and day, inflow - (metered use ÷ share of
    meters reporting + unmetered uses), as a share of the inflow, above the
    district's threshold; each complete day judged once (``BalanceDay``), the days
    missed while the worker was down caught up (at most ``CATCH_UP_DAYS`` back).

Each fires a supervision detector alert and clears it when the condition is gone.
The district detectors (a, c) also keep the inflow meter entity's
``alarmInProgress`` (Smart Data Models WaterConsumptionObserved, 0 or 1) on their
open alerts.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.territory.ngsild import entities, notifier
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.supervision import alerts
from alzette.territory.supervision.models import Alert
from alzette.territory.water import services, signals
from alzette.territory.water.models import BalanceDay, District, Meter

logger = logging.getLogger(__name__)
DB = services.DB
NIGHT_FLOW = "water.night-flow"
CONTINUOUS_FLOW = "water.continuous-flow"
BALANCE = "water.balance"
#: Litres in an hour that count as use.
MIN_LITRES = 1
#: The detectors whose alerts are on a district's inflow meter: its alarm is in progress
#: while one of them is open.
DISTRICT_DETECTORS = (NIGHT_FLOW, BALANCE)
#: How far back the balance catches up on days it missed (the worker was down).
CATCH_UP_DAYS = 7
#: A day's balance waits this long after the day's end, for its last readings to arrive.
BALANCE_SETTLE = timedelta(hours=2)


def window_hours() -> int:
    """Hours of continuous use that make a leak (``ALZETTE_WATER_CONTINUOUS_HOURS``)."""
    return int(getattr(settings, "ALZETTE_WATER_CONTINUOUS_HOURS", 24))


def _rule(key: str):  # noqa: ANN202
    names = {
        NIGHT_FLOW: (_("Water: night minimum flow"), "WaterConsumptionObserved", "minFlow"),
        CONTINUOUS_FLOW: (
            _("Water: continuous flow on a household meter"),
            "WaterConsumptionObserved",
            "waterConsumption",
        ),
        BALANCE: (_("Water: network balance"), "WaterConsumptionObserved", "waterConsumption"),
    }
    name, entity_type, attribute = names[key]
    return alerts.detector_rule(key, name=name, entity_type=entity_type, attribute=attribute)


def run_detect(now: datetime | None = None, district: str | None = None) -> str:
    now = now or datetime.now(UTC)
    districts = District.objects.using(DB).all()
    if district:
        districts = districts.filter(slug=district)
    night = sum(detect_night_flow(d, now) for d in districts)
    continuous = detect_continuous(now, district=district)
    balance = sum(detect_balance(d, now) for d in districts)
    from alzette.territory.water import receivers

    receivers.prune(now)
    return (f"water: {night} night-flow, {continuous} continuous-flow, "
            f"{balance} balance alerts open")  # fmt: skip


# --- (a) night minimum flow ---------------------------------------------------------------


def detect_night_flow(district: District, now: datetime) -> int:
    """Judge the last complete night (02:00-04:00 local); 1 when its alert is open."""
    local = timezone.localtime(now)
    day = local.date()
    if local.hour < 4:  # tonight's window is not over yet
        day -= timedelta(days=1)
    minimum = services.night_minimum(district.slug, day)
    if minimum is None:
        return 0
    _write_min_flow(district, minimum, services.night_window(day)[1])
    rule = _rule(NIGHT_FLOW)
    if minimum > district.night_flow_threshold:
        message = _(
            "Night minimum flow of %(name)s on %(day)s: %(flow)s L/h, above the "
            "threshold of %(limit)s L/h."
        ) % {
            "name": district.name,
            "day": day.isoformat(),
            "flow": f"{minimum:.0f}",
            "limit": district.night_flow_threshold,
        }
        alerts.raise_detected(rule, district.inflow_entity, round(minimum, 1), message, at=now)
        sync_alarm(district)
        return 1
    alerts.clear_detected(rule, district.inflow_entity,
                          _("The night minimum flow is back under the threshold."))  # fmt: skip
    sync_alarm(district)
    return 0


def _write_min_flow(district: District, minimum: float, at: datetime) -> None:
    op = Op(tenant=services.TENANT, ctx=services.context(), actor="system:water")
    attribute = {"type": "Property", "value": round(minimum), "unitCode": "E32",
                 "observedAt": rep.iso(at)}  # fmt: skip
    try:
        body = services.body_of(district.inflow_entity)
        if body is None:
            return
        if (
            services.value(body, "minFlow") == attribute["value"]
            and services.observed(body, "minFlow") == at
        ):
            return
        entities.append(op, district.inflow_entity, {"minFlow": attribute})
        notifier.flush()
    except NgsiLdError as exc:
        logger.warning("minFlow of %s not written: %s", district.slug, exc)


# --- The inflow meter's alarm -------------------------------------------------------------


def alarm_open(district: District) -> bool:
    """Whether a district detector's alert (night flow, balance) is open on its inflow meter."""
    return Alert.objects.using(DB).filter(
        rule__detector__in=DISTRICT_DETECTORS, entity_id=district.inflow_entity,
        state__in=Alert.OPEN).exists()  # fmt: skip


def sync_alarm(district: District) -> bool:
    """Set the inflow meter entity's ``alarmInProgress`` to 1 while one of the district's
    leak alerts is open, back to 0 once none is (the detector cleared it, or an agent
    closed it); written only when it changes. Whether the entity was written."""
    wanted = 1 if alarm_open(district) else 0
    try:
        body = services.body_of(district.inflow_entity)
        if body is None or services.value(body, "alarmInProgress") == wanted:
            return False
        op = Op(tenant=services.TENANT, ctx=services.context(), actor="system:water")
        entities.append(op, district.inflow_entity,
                        {"alarmInProgress": {"type": "Property", "value": wanted}})  # fmt: skip
        notifier.flush()
    except NgsiLdError as exc:
        logger.warning("alarmInProgress of %s not written: %s", district.slug, exc)
        return False
    return True


# --- (b) continuous flow ------------------------------------------------------------------


def continuous_since(meter: Meter, now: datetime, hours: int | None = None) -> datetime | None:
    """Start of the window when every one of its hours had use, else None.

    The window is the ``hours`` complete hours before the current one."""
    hours = hours or window_hours()
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    flags = meter.recent_hours or {}
    start = current - timedelta(hours=hours)
    for n in range(hours):
        key = rep.iso(start + timedelta(hours=n))
        if (flags.get(key) or 0) < MIN_LITRES:
            return None
    return start


def last_hour_dry(meter: Meter, now: datetime) -> bool:
    """The last complete hour had a reading and no use (a leak stops there)."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    key = rep.iso(current - timedelta(hours=1))
    flags = meter.recent_hours or {}
    reported = meter.last_at is not None and meter.last_at >= current - timedelta(hours=1)
    return reported and (flags.get(key) or 0) < MIN_LITRES


def detect_continuous(now: datetime, district: str | None = None) -> int:
    rule = _rule(CONTINUOUS_FLOW)
    meters = Meter.objects.using(DB).filter(removed_on=None)
    if district:
        meters = meters.filter(district__slug=district)
    open_count = 0
    hours = window_hours()
    for meter in meters.iterator():
        eid = services.meter_entity_id(meter.serial)
        since = continuous_since(meter, now, hours)
        if since is not None:
            window = [v for k, v in (meter.recent_hours or {}).items()
                      if rep.parse_datetime(k, "t") >= since]  # fmt: skip
            lowest = min(window, default=0)
            if meter.leak_since is None:
                meter.leak_since = since
                meter.save(using=DB, update_fields=["leak_since"])
                message = _("Household meter %(serial)s has shown use in every hour for "
                            "%(hours)s hours (at least %(litres)s L/h): a leak is "
                            "likely.") % {"serial": meter.serial, "hours": hours,
                                          "litres": lowest}  # fmt: skip
                alerts.raise_detected(rule, eid, lowest, message, at=now)
                _send(signals.leak_suspected, meter=meter.serial, since=since,
                      min_litres_per_hour=lowest)  # fmt: skip
            open_count += 1
        elif meter.leak_since is not None and last_hour_dry(meter, now):
            meter.leak_since = None
            meter.save(using=DB, update_fields=["leak_since"])
            alerts.clear_detected(rule, eid, _("The meter showed an hour without use."))
            _send(signals.leak_cleared, meter=meter.serial, at=now)
        elif meter.leak_since is not None:
            open_count += 1
    return open_count


def _send(signal, **kwargs) -> None:  # noqa: ANN001
    for receiver, result in signal.send_robust(sender=Meter, **kwargs):
        if isinstance(result, Exception):
            logger.error("receiver %r of a water signal failed: %r", receiver, result)


# --- (c) network balance ------------------------------------------------------------------


def balance_days_due(district: District, now: datetime) -> list[date]:
    """The complete days (local) whose balance is still to judge, oldest first: every day
    after the last one judged, at most ``CATCH_UP_DAYS`` back; only yesterday when none
    was ever judged. A day is complete ``BALANCE_SETTLE`` after its end."""
    today = timezone.localtime(now).date()
    last = (BalanceDay.objects.using(DB).filter(district=district)
            .order_by("-day").values_list("day", flat=True).first())  # fmt: skip
    first = today - timedelta(days=1) if last is None else last + timedelta(days=1)
    first = max(first, today - timedelta(days=CATCH_UP_DAYS))
    days = (first + timedelta(days=n) for n in range((today - first).days))
    return [d for d in days if services.local_day_bounds(d)[1] + BALANCE_SETTLE <= now]


def judge_balance(district: District, day: date, now: datetime) -> bool | None:
    """Judge the balance of one day and record it: raise the alert when the loss is above
    the threshold, clear it otherwise. None when the day cannot be judged (no inflow
    readings, no reporting meter): it is not recorded, so it is judged once its readings
    are there. Judging a recorded day again replaces its record."""
    result = services.balance(district, day)
    if result.loss_share is None or result.inflow_m3 is None or result.estimated_m3 is None:
        return None
    above = result.loss_share > district.balance_threshold
    rule = _rule(BALANCE)
    figures = {"judged_at": now, "inflow_m3": result.inflow_m3, "above": above,
               "estimated_m3": result.estimated_m3, "loss_share": result.loss_share}  # fmt: skip
    with transaction.atomic(using=DB):
        BalanceDay.objects.using(DB).update_or_create(district=district, day=day,
                                                      defaults=figures)  # fmt: skip
        if above:
            message = _("Network balance of %(name)s on %(day)s: %(loss)s per cent of the "
                        "inflow (%(inflow)s m³) not found in metered use (%(used)s m³ "
                        "estimated); threshold %(limit)s per cent.") % {
                "name": district.name, "day": day.isoformat(),
                "loss": f"{result.loss_share * 100:.0f}", "inflow": f"{result.inflow_m3:.1f}",
                "used": f"{result.estimated_m3:.1f}",
                "limit": f"{district.balance_threshold * 100:.0f}"}  # fmt: skip
            alerts.raise_detected(rule, district.inflow_entity, result.loss_share, message,
                                  at=now)  # fmt: skip
        else:
            cleared = _("The network balance is back under the threshold.")
            alerts.clear_detected(rule, district.inflow_entity, cleared)
    sync_alarm(district)
    return above


def detect_balance(district: District, now: datetime, day: date | None = None) -> int:
    """Judge the days due (``balance_days_due``), oldest first, so the alert ends in the
    state of the latest one; ``day`` judges that day again. 1 when the alert is open."""
    with transaction.atomic(using=DB):
        # Two runs at once (a manual one during the worker's) judge each day once.
        District.objects.using(DB).select_for_update().filter(pk=district.pk).first()
        for due in [day] if day is not None else balance_days_due(district, now):
            judge_balance(district, due, now)
    return int(Alert.objects.using(DB).filter(
        rule__detector=BALANCE, entity_id=district.inflow_entity,
        state__in=Alert.OPEN).exists())  # fmt: skip
