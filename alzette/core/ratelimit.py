"""Rate-limit window counters, atomic on every cache backend the platform runs on.

A rate limit counts the events of a window under one key per window (for example
``partners:rate:<app>:<minute>``). Reading the count and writing it back loses
increments when two web processes count at once, so ``hit`` never does that:

- on Redis (and any backend whose ``incr`` is atomic) it calls ``incr``, and
  ``add`` for the window's first event. If the key expires between a refused
  ``add`` and the ``incr`` that follows, it starts again: the event opens a new
  window rather than failing or being lost.
- on Django's database cache (the embedded default), ``incr`` is ``BaseCache``'s
  read-then-write, which is not atomic. The count is incremented here instead, in
  one transaction holding the row's lock (``SELECT ... FOR UPDATE`` on PostgreSQL;
  SQLite transactions are ``IMMEDIATE``, see alzette/core/db.py, so they already
  hold the database's write lock). The window's first event still goes through
  ``add``, which the key's uniqueness makes atomic.

See docs/operations.md ("Scale").
"""

from __future__ import annotations

import base64
import pickle
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now as tz_now

#: How many times a count restarts after losing a race with the key's expiry or
#: with another process creating it. Each restart needs such a race: never reached.
ATTEMPTS = 5


class CounterError(RuntimeError):
    """The counter kept losing races; the cache is misbehaving."""


def hit(key: str, timeout: int, backend: BaseCache | None = None) -> int:
    """Count one event under ``key``; return how many were counted, this one included.

    The window's first event creates the key for ``timeout`` seconds, which must
    outlast the window; later events keep that expiry (as Redis ``INCR`` does).
    """
    backend = caches["default"] if backend is None else backend
    if isinstance(backend, DatabaseCache):
        return _hit_database(backend, key, timeout)
    for _ in range(ATTEMPTS):
        try:
            return backend.incr(key)  # one round trip once the window exists
        except ValueError:  # the window's first event, or the key just expired
            pass
        if backend.add(key, 1, timeout=timeout):
            return 1
        # Another process created the key between our incr and add: count on it.
    raise CounterError(f"Could not count an event under {key!r}.")


def _hit_database(backend: DatabaseCache, key: str, timeout: int) -> int:
    for _ in range(ATTEMPTS):
        count = _increment_row(backend, key, timeout)
        if count is not None:
            return count
        if backend.add(key, 1, timeout=timeout):
            return 1
        # Another process inserted the row first (its add won): increment it.
    raise CounterError(f"Could not count an event under {key!r}.")


def _increment_row(backend: DatabaseCache, key: str, timeout: int) -> int | None:
    """Add one to the row's count under its lock; None when there is no row yet."""
    cache_key = backend.make_and_validate_key(key)
    alias = router.db_for_write(backend.cache_model_class)
    connection = connections[alias]
    quote = connection.ops.quote_name
    table, key_column = quote(backend._table), quote("cache_key")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('value')}, {quote('expires')} FROM {table} "  # noqa: S608
            f"WHERE {key_column} = %s{lock}",
            [cache_key],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        if _read_datetime(connection, row[1]) < tz_now():
            # Expired, not yet culled: this event opens a new window (we hold the lock).
            count = 1
            expires = connection.ops.adapt_datetimefield_value(_expiry(backend, timeout))
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s, {quote('expires')} = %s "  # noqa: S608
                f"WHERE {key_column} = %s",
                [_encode(backend, count), expires, cache_key],
            )
            return count
        count = _decode(connection, row[0]) + 1
        cursor.execute(
            f"UPDATE {table} SET {quote('value')} = %s WHERE {key_column} = %s",  # noqa: S608
            [_encode(backend, count), cache_key],
        )
        return count


# The three helpers below follow DatabaseCache's own storage format (Django 5.2:
# django/core/cache/backends/db.py): base64 of a pickle, expiry to the second.


def _expiry(backend: DatabaseCache, timeout: int) -> datetime:
    at = datetime.fromtimestamp(
        backend.get_backend_timeout(timeout), tz=UTC if settings.USE_TZ else None
    )
    return at.replace(microsecond=0)


def _read_datetime(connection: Any, value: Any) -> datetime:
    expression = models.Expression(output_field=models.DateTimeField())
    converters = connection.ops.get_db_converters(expression)
    for converter in converters + expression.get_db_converters(connection):
        value = converter(value, expression, connection)
    return value


def _encode(backend: DatabaseCache, value: int) -> str:
    return base64.b64encode(pickle.dumps(value, backend.pickle_protocol)).decode("latin1")


def _decode(connection: Any, value: Any) -> int:
    # The row was written by this cache (a trusted table), as DatabaseCache.get reads it.
    return pickle.loads(base64.b64decode(connection.ops.process_clob(value).encode()))  # noqa: S301
