"""Monthly partitions of the history table on PostgreSQL, and retention.

On PostgreSQL ``ngsild_attributeinstance`` is partitioned by month of
``observed_at`` (migration 0002): a month's partition is created before the
first row of that month is written (``ensure``; the job creates the coming
months ahead, so the request path rarely does), and retention drops whole
partitions, which costs nothing compared to deleting millions of rows. On
SQLite the table is a plain table and retention deletes rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, connections, transaction

from alzette.territory.ngsild.models import AttributeDailyRollup, AttributeInstance, AttributeRollup

DB = "territory"
TABLE = "ngsild_attributeinstance"


def _postgres() -> bool:
    return connections[DB].vendor == "postgresql"


def _month(moment: datetime) -> tuple[int, int]:
    moment = moment.astimezone(UTC)
    return moment.year, moment.month


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def name(year: int, month: int) -> str:
    return f"{TABLE}_y{year:04d}m{month:02d}"


def existing() -> set[str]:
    with connections[DB].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        return {row[0] for row in cursor.fetchall()}


def ensure(moments: Iterable[datetime]) -> None:
    """Create the partitions these moments fall in (PostgreSQL only)."""
    if not _postgres():
        return
    months = {_month(m) for m in moments}
    # One catalog query per write: a partition created in a transaction that rolled back
    # must not be remembered, so there is no process-wide cache.
    present = existing()
    for year, month in sorted(m for m in months if name(*m) not in present):
        _create(year, month)


def _create(year: int, month: int) -> None:
    table = name(year, month)
    upper = _next(year, month)
    sql = (
        f'CREATE TABLE IF NOT EXISTS "{table}" PARTITION OF "{TABLE}" '
        f"FOR VALUES FROM ('{year:04d}-{month:02d}-01 00:00:00+00') "
        f"TO ('{upper[0]:04d}-{upper[1]:02d}-01 00:00:00+00')"
    )
    try:
        with transaction.atomic(using=DB), connections[DB].cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError:
        # Another process created it between our check and our statement.
        if table not in existing():
            raise


def ensure_ahead(now: datetime | None = None, months: int = 3) -> None:
    """Create this month's and the next months' partitions."""
    now = now or datetime.now(UTC)
    year, month = _month(now)
    moments = []
    for _ in range(months + 1):
        moments.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = _next(year, month)
    ensure(moments)


def cutoff(now: datetime | None = None) -> datetime | None:
    """The first moment kept: the start of the month ``HISTORY_MONTHS`` ago."""
    keep = settings.ALZETTE_NGSILD_HISTORY_MONTHS
    if keep <= 0:
        return None
    year, month = _month(now or datetime.now(UTC))
    total = year * 12 + (month - 1) - keep
    return datetime(total // 12, total % 12 + 1, 1, tzinfo=UTC)


def apply_retention(now: datetime | None = None) -> int:
    """Drop history older than the retention; returns partitions dropped or rows deleted."""
    limit = cutoff(now)
    if limit is None:
        return 0
    AttributeRollup.objects.using(DB).filter(hour__lt=limit).delete()
    AttributeDailyRollup.objects.using(DB).filter(day__lt=limit).delete()
    if not _postgres():
        return AttributeInstance.objects.using(DB).filter(observed_at__lt=limit).delete()[0]
    dropped = 0
    for table in sorted(existing()):
        year, month = int(table[-7:-3]), int(table[-2:])
        if datetime(*_next(year, month), 1, tzinfo=UTC) <= limit:
            with connections[DB].cursor() as cursor:
                cursor.execute(f'DROP TABLE "{table}"')
            dropped += 1
    return dropped
