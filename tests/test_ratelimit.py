"""Rate-limit window counters: atomic on the database cache and on Redis-like caches,
safe when the key expires between ``add`` and ``incr``, and the partner limits still hold."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connections

from alzette.core import ratelimit
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def database_cache():
    backend = caches["default"]
    assert type(backend).__name__ == "DatabaseCache"  # the embedded default
    backend.clear()
    return backend


@pytest.fixture
def memory_cache():
    # Stands for Redis: an atomic incr that keeps the key's expiry.
    return LocMemCache(f"ratelimit-{time.monotonic_ns()}", {})


def test_database_cache_counts_each_hit_and_stays_readable(database_cache):
    assert [ratelimit.hit("window:a", 120) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert ratelimit.hit("window:b", 120) == 1
    # Stored in DatabaseCache's own format: cache.get reads the counts back.
    assert database_cache.get("window:a") == 5
    assert database_cache.get("window:b") == 1


def test_database_cache_keeps_the_window_expiry(database_cache):
    ratelimit.hit("window:e", 120)
    first = _expires(database_cache, "window:e")
    for _ in range(3):
        ratelimit.hit("window:e", 3600)  # a later hit never moves the end of its window
    assert _expires(database_cache, "window:e") == first


def test_database_cache_restarts_an_expired_window(database_cache):
    database_cache.set("window:x", 41, timeout=0)  # expired but not culled yet
    assert ratelimit.hit("window:x", 120) == 1
    assert database_cache.get("window:x") == 1
    assert ratelimit.hit("window:x", 120) == 2


def test_database_cache_counts_on_a_row_another_process_created(database_cache, monkeypatch):
    """The row appears between our look-up and our add: the add fails, we increment it."""
    real_add = database_cache.add
    calls = []

    def add_after_another_process(key, value, timeout):
        calls.append(key)
        if len(calls) == 1:
            assert real_add(key, 1, timeout=timeout)  # the other process's first hit
            return False  # ours is refused
        return real_add(key, value, timeout=timeout)

    monkeypatch.setattr(database_cache, "add", add_after_another_process)
    assert ratelimit.hit("window:race", 120) == 2
    assert database_cache.get("window:race") == 2
    assert calls == ["window:race"]


def test_database_cache_gives_up_after_repeated_lost_races(database_cache, monkeypatch):
    monkeypatch.setattr(database_cache, "add", lambda *args, **kwargs: False)
    with pytest.raises(ratelimit.CounterError):
        ratelimit.hit("window:never", 120)


def test_incr_then_add_counts_on_an_atomic_cache(memory_cache):
    assert [ratelimit.hit("w", 120, memory_cache) for _ in range(4)] == [1, 2, 3, 4]
    assert memory_cache.get("w") == 4


def test_a_key_expiring_between_add_and_incr_opens_a_new_window(memory_cache, monkeypatch):
    """incr misses (no key), add is refused (another process just created it), then the
    key expires before our second incr: the hit opens a new window instead of failing."""
    calls = []
    real_incr, real_add = memory_cache.incr, memory_cache.add

    def incr(key, delta=1, version=None):
        calls.append("incr")
        return real_incr(key, delta)

    def add(key, value, timeout=None, version=None):
        calls.append("add")
        if calls.count("add") == 1:
            real_add(key, 7, timeout=timeout)  # another process's window...
            memory_cache.delete(key)  # ...which expires right away
            return False
        return real_add(key, value, timeout=timeout)

    monkeypatch.setattr(memory_cache, "incr", incr)
    monkeypatch.setattr(memory_cache, "add", add)
    assert ratelimit.hit("w", 120, memory_cache) == 1
    assert calls == ["incr", "add", "incr", "add"]
    assert ratelimit.hit("w", 120, memory_cache) == 2


def test_a_refused_add_counts_on_the_other_process_window(memory_cache, monkeypatch):
    real_add = memory_cache.add

    def add(key, value, timeout=None, version=None):
        real_add(key, 3, timeout=timeout)  # three hits counted elsewhere meanwhile
        return False

    monkeypatch.setattr(memory_cache, "add", add)
    assert ratelimit.hit("w", 120, memory_cache) == 4


def test_an_always_missing_key_raises_instead_of_looping(memory_cache, monkeypatch):
    monkeypatch.setattr(memory_cache, "add", lambda *args, **kwargs: False)
    with pytest.raises(ratelimit.CounterError):
        ratelimit.hit("w", 120, memory_cache)


def test_the_partner_minute_window_still_limits(database_cache):
    from alzette.territory.catalogue.models import Organisation
    from alzette.territory.partners import access, services

    org = Organisation.objects.using("territory").create(slug="lab", name="Lab")
    app, _ = services.register_app(org, "App", scopes=["datasets:read"], environment="live")
    services.change_app(app, per_minute=3)
    app.refresh_from_db()
    now = 60 * 1_000_000 + 10.0  # ten seconds into a minute window
    for _ in range(3):
        access.consume(app, now=now)
    with pytest.raises(access.AccessDenied) as refused:
        access.consume(app, now=now + 5)
    assert refused.value.status == 429
    assert refused.value.retry_after == 45  # the seconds left in the window
    access.consume(app, now=now + 50)  # next window: counted afresh
    assert database_cache.get(f"partners:rate:{app.pk}:1000000") == 4
    assert database_cache.get(f"partners:rate:{app.pk}:1000001") == 1


@pytest.mark.postgres
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_concurrent_hits_on_the_database_cache_are_all_counted(database_cache):
    """Threads, each with its own connection: no increment is lost (PostgreSQL only, as
    SQLite's in-memory test databases do not make waiting writers wait)."""
    if connections["personal"].vendor != "postgresql":
        pytest.skip("needs the personal repository on PostgreSQL")
    threads, per_thread, start = 8, 10, threading.Barrier(8)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                counts.append(ratelimit.hit("window:busy", 120))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    assert sorted(counts) == list(range(1, threads * per_thread + 1))  # each count once
    assert database_cache.get("window:busy") == threads * per_thread


def _expires(backend, key):
    with connections["personal"].cursor() as cursor:
        cursor.execute(
            f"SELECT expires FROM {backend._table} WHERE cache_key = %s",
            [backend.make_and_validate_key(key)],
        )
        return cursor.fetchone()[0]
