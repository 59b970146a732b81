"""The temporal API (CIM 009 §5.6.11-§5.6.16, §5.7.3-§5.7.4): attribute history.

History rows (``AttributeInstance``) are written with every change of an
entity; attributes fed by a oneM2M container (``MappedSource``) read the
container's contentInstances instead, so the device's data has one copy.
Aggregations use the daily rollup when the periods are whole days (or months)
from a midnight, the hourly one when they are whole hours from an hour, and
the raw rows otherwise (docs/ngsi-ld.md).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, F, Max, Min, Sum, TextField
from django.db.models.functions import Cast, Trunc

from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild import store
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, not_found
from alzette.territory.ngsild.models import (
    AttributeDailyRollup,
    AttributeInstance,
    AttributeRollup,
    MappedSource,
)

DB = store.DB
METHODS = ("totalCount", "sum", "avg", "min", "max", "sumsq", "stddev")
INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"
ONEM2M_PREFIX = "urn:ngsi-ld:onem2m:instance:"
MAX_INSTANCES = 10_000
_DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)


@dataclass
class Period:
    """An aggregation period: calendar months and/or a fixed number of seconds."""

    months: int = 0
    seconds: int = 0

    @property
    def whole(self) -> bool:
        return self.months == 0 and self.seconds == 0


def parse_duration(text: str | None) -> Period:
    """ISO 8601 durations as aggrPeriodDuration uses them (P1D, PT15M, P1M, P0D)."""
    if text in (None, ""):
        return Period()
    match = _DURATION.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise bad_data(f"aggrPeriodDuration {text!r} is not an ISO 8601 duration")
    y, mo, w, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    period = Period(months=12 * y + mo, seconds=((w * 7 + d) * 24 + h) * 3600 + mi * 60 + s)
    if period.months and period.seconds:
        raise bad_data("aggrPeriodDuration mixes months and days, which has no fixed length")
    return period


@dataclass
class TimeQuery:
    """timerel/timeAt/endTimeAt/lastN/timeproperty, checked (§5.7.3, §4.11)."""

    timerel: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    last_n: int | None = None
    timeproperty: str = "observedAt"

    def bounds(self) -> tuple[datetime | None, datetime | None, bool]:
        """(from, to, from_inclusive): before is exclusive, after and between inclusive."""
        if self.timerel == "before":
            return None, self.start, True
        if self.timerel == "after":
            return self.start, None, True
        if self.timerel == "between":
            return self.start, self.end, True
        return None, None, True


def time_query(timerel: str | None, time_at: str | None, end_time_at: str | None,
               last_n: str | None, timeproperty: str | None) -> TimeQuery:  # fmt: skip
    query = TimeQuery(timeproperty=timeproperty or "observedAt")
    if query.timeproperty not in ("observedAt", "createdAt", "modifiedAt"):
        raise bad_data("timeproperty is observedAt, createdAt or modifiedAt")
    if timerel is not None:
        if timerel not in ("before", "after", "between"):
            raise bad_data("timerel is before, after or between")
        if time_at is None:
            raise bad_data("timerel needs timeAt")
        query.timerel = timerel
        query.start = rep.parse_datetime(time_at, "timeAt")
        if timerel == "between":
            if end_time_at is None:
                raise bad_data("timerel=between needs endTimeAt")
            query.end = rep.parse_datetime(end_time_at, "endTimeAt")
            if query.end <= query.start:
                raise bad_data("endTimeAt must be after timeAt")
    elif time_at is not None or end_time_at is not None:
        raise bad_data("timeAt and endTimeAt need timerel")
    if last_n is not None:
        try:
            query.last_n = int(last_n)
        except ValueError:
            raise bad_data("lastN is a positive integer") from None
        if query.last_n <= 0:
            raise bad_data("lastN is a positive integer")
    return query


# -- reading history --------------------------------------------------------------------


@dataclass
class History:
    """The instances of one entity's attributes, oldest first."""

    attributes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _rows(
    tenant: str, entity_ids: list[str], attrs: set[str] | None, tq: TimeQuery
) -> tuple[Any, str]:
    rows = AttributeInstance.objects.using(DB).filter(tenant=tenant, entity_id__in=entity_ids)
    if attrs is not None:
        rows = rows.filter(attribute__in=attrs)
    column = "observed_at" if tq.timeproperty == "observedAt" else "recorded_at"
    low, high, _ = tq.bounds()
    if low is not None:
        rows = rows.filter(**{f"{column}__gte": low})
    if high is not None:
        rows = rows.filter(**{f"{column}__lt": high})  # intervals are half-open [from, to)
    return rows, column


def history(tenant: str, entity_ids: list[str], attrs: set[str] | None,
            tq: TimeQuery) -> dict[str, History]:  # fmt: skip
    """The history of each entity, bounded by the time query and lastN."""
    out: dict[str, History] = {e: History() for e in entity_ids}
    rows, column = _rows(tenant, entity_ids, attrs, tq)
    order = f"-{column}" if tq.last_n else column
    limit = MAX_INSTANCES * max(1, len(entity_ids))
    for row in rows.order_by("entity_id", "attribute", order, "id")[:limit].iterator(2000):
        instance = {**row.instance, "instanceId": f"{INSTANCE_PREFIX}{row.pk}"}
        _add(out[row.entity_id], row.attribute, instance, tq.last_n)
    for source in _sources(tenant, entity_ids, attrs):
        for instance in _onem2m_instances(source, tq):
            _add(out[source.entity_id], source.attribute, instance, tq.last_n)
    for item in out.values():
        key = _sort_key(tq)
        for iri, instances in item.attributes.items():
            instances.sort(key=key)
            if tq.last_n:
                item.attributes[iri] = instances[-tq.last_n :]
    return out


def _add(item: History, iri: str, instance: dict, last_n: int | None) -> None:
    item.attributes.setdefault(iri, []).append(instance)


def _sort_key(tq: TimeQuery):  # noqa: ANN202
    member = tq.timeproperty

    def key(instance: dict) -> str:
        return instance.get(member) or instance.get("modifiedAt") or ""

    return key


def _sources(tenant: str, entity_ids: list[str], attrs: set[str] | None) -> list[MappedSource]:
    rows = MappedSource.objects.using(DB).filter(tenant=tenant, entity_id__in=entity_ids)
    if attrs is not None:
        rows = rows.filter(attribute__in=attrs)
    return list(rows.select_related("mapping"))


def _onem2m_instances(source: MappedSource, tq: TimeQuery) -> list[dict[str, Any]]:
    from alzette.territory.ngsild import mapping
    from alzette.territory.onem2m.models import Resource

    rows = Resource.objects.using(DB).filter(ty=4, pi=source.container_ri)
    low, high, _ = tq.bounds()
    if low is not None:
        rows = rows.filter(ct__gte=low)
    if high is not None:
        rows = rows.filter(ct__lt=high)
    rows = rows.order_by("-ct" if tq.last_n else "ct")
    if tq.last_n:
        rows = rows[: tq.last_n]
    out = []
    for row in rows[:MAX_INSTANCES]:
        instance = mapping.instance_of(source.mapping, row)
        if instance is not None:
            out.append({**instance, "instanceId": f"{ONEM2M_PREFIX}{row.ri}"})
    return out


# -- aggregation -----------------------------------------------------------------------------


def aggregate(tenant: str, entity_ids: list[str], attrs: set[str] | None, tq: TimeQuery,
              methods: list[str], period: Period) -> dict[str, dict[str, dict]]:  # fmt: skip
    """entity -> attribute -> {method: [[value, start, end], ...]} (§4.5.19)."""
    unknown = set(methods) - set(METHODS)
    if not methods or unknown:
        raise bad_data(f"aggrMethods is a list among {', '.join(METHODS)}")
    low, high, _ = tq.bounds()
    buckets: dict[tuple[str, str, datetime], list[float]] = {}
    rollup = _rollup(period, low, high) if tq.timeproperty == "observedAt" else None
    if rollup is not None:
        _from_rollup(rollup, tenant, entity_ids, attrs, tq, period, buckets)
    else:
        _from_rows(tenant, entity_ids, attrs, tq, period, buckets)
    for source in _sources(tenant, entity_ids, attrs):
        for instance in _onem2m_instances(source, TimeQuery(tq.timerel, tq.start, tq.end)):
            value = instance.get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                moment = rep.parse_datetime(instance["observedAt"], "observedAt")
                key = (source.entity_id, source.attribute, _bucket(moment, period, low))
                _fold(buckets, key, 1, value, value * value, value, value)
    return _shape(buckets, methods, period, low, high)


#: Rollup tables, coarsest first: (model, its time column, seconds it sums).
_ROLLUPS = ((AttributeDailyRollup, "day", 86400), (AttributeRollup, "hour", 3600))


def _rollup(period: Period, low: datetime | None, high: datetime | None) -> tuple | None:
    """The coarsest rollup whose rows each fall in one period and inside the bounds."""
    for rollup in _ROLLUPS:
        span = rollup[2]
        if all(m is None or _cut(m, span) == m for m in (low, high)) and (
            period.months > 0 or period.seconds % span == 0
        ):
            return rollup
    return None


def _cut(moment: datetime, span: int) -> datetime:
    """The start of the hour (span 3600) or UTC day (86400) holding ``moment``."""
    moment = moment.astimezone(UTC)
    if span == 86400:
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def _fold(buckets: dict, key: tuple, count: float, total: float, squares: float,
          low: float, high: float) -> None:  # fmt: skip
    acc = buckets.get(key)
    if acc is None:
        buckets[key] = [count, total, squares, low, high]
        return
    acc[0] += count
    acc[1] += total
    acc[2] += squares
    acc[3] = min(acc[3], low)
    acc[4] = max(acc[4], high)


def _from_rollup(rollup, tenant, entity_ids, attrs, tq, period, buckets) -> None:  # noqa: ANN001
    model, column, span = rollup
    rows = model.objects.using(DB).filter(tenant=tenant, entity_id__in=entity_ids)
    if attrs is not None:
        rows = rows.filter(attribute__in=attrs)
    low, high, _ = tq.bounds()
    if low is not None:
        rows = rows.filter(**{f"{column}__gte": low})
    if high is not None:
        rows = rows.filter(**{f"{column}__lt": high})  # a span starting at `high` lies outside
    sums = {"n": Sum("count"), "total": Sum("total"), "sq": Sum("squares"),
            "lo": Min("minimum"), "hi": Max("maximum")}  # fmt: skip
    _group(rows, column, sums, period, low, buckets, native={86400: "day", 3600: "hour"}[span])


def _from_rows(tenant, entity_ids, attrs, tq, period, buckets) -> None:  # noqa: ANN001
    rows, column = _rows(tenant, entity_ids, attrs, tq)
    low, _, _ = tq.bounds()
    rows = rows.filter(number__isnull=False)
    sums = {"n": Count("id"), "total": Sum("number"), "sq": Sum(F("number") * F("number")),
            "lo": Min("number"), "hi": Max("number")}  # fmt: skip
    _group(rows, column, sums, period, low, buckets)


def _group(rows: Any, column: str, sums: dict, period: Period, low: datetime | None,
           buckets: dict, native: str | None = None) -> None:  # fmt: skip
    """Sum per entity, attribute and period in SQL when the database can cut the periods.

    ``native``: the span each row of ``rows`` already stands for (a rollup's), which
    needs no cutting (on SQLite, Trunc is a Python function called on every row).
    """
    kind = _sql_period(period, low)
    keys = ["entity_id", "attribute"]
    if kind is None or kind == native:  # periods SQL cannot cut (PT45M from 10:07), or
        bucket = F(column)  # rows that are periods: fold here
    elif kind != "whole":
        bucket = Trunc(column, kind, tzinfo=UTC)
    if kind != "whole":
        # As text: rows share few distinct times, each parsed once below (psycopg would
        # build a datetime per row; SQLite gives text anyway).
        rows = rows.annotate(bucket=Cast(bucket, TextField()))
        keys.append("bucket")
    grouped = rows.values(*keys).annotate(**sums).order_by()
    grouped = grouped.values_list(*keys, *sums)
    sql, params = grouped.query.get_compiler(DB).as_sql()
    starts: dict[Any, datetime] = {}  # many rows share a period: cut each one once
    with connections[DB].cursor() as cursor:  # plain rows: aggregations return thousands
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            moment = row[2] if kind != "whole" else None
            start = starts.get(moment)
            if start is None:
                start = starts[moment] = _bucket(_moment(moment) or low or _EPOCH, period, low)
            _fold(buckets, (row[0], row[1], start), *row[-5:])


def _moment(value: Any) -> datetime | None:
    """A grouped time as the database gives it (SQLite: text in UTC)."""
    if value is None:
        return value
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def _sql_period(period: Period, origin: datetime | None) -> str | None:
    """The Trunc kind that cuts the same periods as ``_bucket``, or None."""
    if period.whole:
        return "whole"
    origin = (origin or _EPOCH).astimezone(UTC)
    midnight = origin.time() == datetime.min.time()
    if period.months == 12 and midnight and (origin.month, origin.day) == (1, 1):
        return "year"
    if period.months == 1 and midnight and origin.day == 1:
        return "month"
    if period.seconds == 86400 and midnight:
        return "day"
    if period.seconds == 3600 and origin.minute == origin.second == origin.microsecond == 0:
        return "hour"
    return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _bucket(moment: datetime, period: Period, origin: datetime | None) -> datetime:
    """The start of the period holding ``moment`` (periods counted from ``origin``)."""
    if period.whole:
        return origin or _EPOCH
    origin = origin or _EPOCH
    if period.months:
        months = (moment.year - origin.year) * 12 + moment.month - origin.month
        if (moment.day, moment.time()) < (origin.day, origin.time()):
            months -= 1
        months -= months % period.months
        year, month = divmod(origin.month - 1 + months, 12)
        return origin.replace(year=origin.year + year, month=month + 1)
    steps = math.floor((moment - origin).total_seconds() / period.seconds)
    return origin + timedelta(seconds=steps * period.seconds)


def _end(start: datetime, period: Period, high: datetime | None) -> datetime | None:
    if period.whole:
        return high
    if period.months:
        year, month = divmod(start.month - 1 + period.months, 12)
        return start.replace(year=start.year + year, month=month + 1)
    return start + timedelta(seconds=period.seconds)


def _shape(buckets: dict, methods: list[str], period: Period, low, high) -> dict:  # noqa: ANN001
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    spans: dict[datetime, tuple[str, str | None]] = {}  # formatted once per period, not per value
    attribute_lists: dict[tuple[str, str], list[list]] = {}
    for key in sorted(buckets):
        entity_id, attribute, start = key
        lists = attribute_lists.get((entity_id, attribute))
        if lists is None:
            target = out[entity_id][attribute] = {"type": "Property"}
            lists = attribute_lists[(entity_id, attribute)] = [
                target.setdefault(method, []) for method in methods
            ]
        span = spans.get(start)
        if span is None:
            end = _end(start, period, high)
            span = spans[start] = (rep.iso(start), rep.iso(end) if end else None)
        values = _values(*buckets[key])
        for method, found in zip(methods, lists, strict=True):
            found.append((values[method], *span))  # a tuple: the collector soon lets it be
    return out


def _values(n: float, total: float, squares: float, lo: float, hi: float) -> dict[str, Any]:
    mean = total / n if n else None
    spread = math.sqrt(max(0.0, squares / n - mean**2)) if n else None
    return {"totalCount": n, "sum": total, "avg": mean, "min": lo, "max": hi,
            "sumsq": squares, "stddev": spread}  # fmt: skip


# -- writing history -----------------------------------------------------------------------


def add_rollups(rows: list[AttributeInstance]) -> None:
    """Fold numeric history rows into the hourly and daily rollups (same transaction)."""
    for model, column, span in _ROLLUPS:
        sums: dict[tuple, list[float]] = {}
        for row in rows:
            if row.number is None:
                continue
            start = _cut(row.observed_at, span)
            key = (row.tenant, row.entity_id, row.attribute, row.dataset_id, start)
            v = row.number
            _fold(sums, key, 1, v, v * v, v, v)
        if sums:
            _upsert_rollups(model, column, sums)


def _upsert_rollups(model: type, column: str, sums: dict[tuple, list[float]]) -> None:
    connection = connections[DB]
    table = model._meta.db_table
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    # The table name, column and functions are ours; values are parameters.
    sql = (
        f"INSERT INTO {table} (tenant, entity_id, attribute, dataset_id, {column}, count, "  # noqa: S608
        "total, squares, minimum, maximum) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT (tenant, entity_id, attribute, dataset_id, {column}) DO UPDATE SET "
        f"count = {table}.count + excluded.count, total = {table}.total + excluded.total, "
        f"squares = {table}.squares + excluded.squares, "
        f"minimum = {least}({table}.minimum, excluded.minimum), "
        f"maximum = {greatest}({table}.maximum, excluded.maximum)"
    )
    params = []
    for (tenant, entity_id, attribute, dataset_id, start), acc in sorted(sums.items()):
        when = (
            start
            if connection.vendor == "postgresql"
            else start.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        )
        params.append((tenant, entity_id, attribute, dataset_id, when, int(acc[0]),
                       acc[1], acc[2], acc[3], acc[4]))  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def rebuild_rollups(tenant: str, entity_id: str, attribute: str | None = None) -> None:
    """Recompute an entity's rollups from its rows (after deletions or corrections)."""
    rows = AttributeInstance.objects.using(DB).filter(tenant=tenant, entity_id=entity_id)
    if attribute is not None:
        rows = rows.filter(attribute=attribute)
    for model, _, _ in _ROLLUPS:
        rollups = model.objects.using(DB).filter(tenant=tenant, entity_id=entity_id)
        if attribute is not None:
            rollups = rollups.filter(attribute=attribute)
        rollups.delete()
    add_rollups(list(rows.filter(number__isnull=False)))


def delete_history(tenant: str, entity_id: str, attribute: str | None = None,
                   dataset_id: str | None = None) -> int:  # fmt: skip
    with transaction.atomic(using=DB):
        rows = AttributeInstance.objects.using(DB).filter(tenant=tenant, entity_id=entity_id)
        if attribute is not None:
            rows = rows.filter(attribute=attribute)
        if dataset_id is not None:
            rows = rows.filter(dataset_id=dataset_id)
        count = rows.delete()[0]
        rebuild_rollups(tenant, entity_id, attribute)
    return count


def instance_row(
    tenant: str, entity_id: str, attribute: str, instance_id: str
) -> AttributeInstance:
    if instance_id.startswith(ONEM2M_PREFIX):
        detail = "instances from a oneM2M container are changed through oneM2M"
        raise NgsiLdError("OperationNotSupported", detail)
    pk = instance_id.removeprefix(INSTANCE_PREFIX)
    row = None
    if instance_id.startswith(INSTANCE_PREFIX) and pk.isdigit():
        rows = AttributeInstance.objects.using(DB).filter(tenant=tenant, entity_id=entity_id)
        row = rows.filter(pk=int(pk), attribute=attribute).first()
    if row is None:
        raise not_found(f"no instance {instance_id} of {entity_id}")
    return row
