"""Database configuration for the two repositories.

The embedded default is one SQLite file per repository in the data directory,
in WAL mode so that readers never wait for the writer. A database URL per
repository selects PostgreSQL instead.

Django and several libraries (django-allauth among them) call
``transaction.atomic()`` on the ``default`` alias. If ``default`` were a
separate connection to the personal database, those blocks would not cover the
writes the router sends to ``personal``. ``alias_default_to_personal`` makes
``default`` the very same connection object as ``personal``, so every atomic
block is real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.db.utils import ConnectionHandler

from alzette.core.repositories import PERSONAL

SUPPORTED_ENGINES = ("django.db.backends.postgresql", "django.db.backends.sqlite3")

SQLITE_OPTIONS = {
    # WAL lets readers proceed while one writer writes; a busy timeout avoids
    # "database is locked" under concurrent requests; IMMEDIATE takes the write
    # lock at BEGIN, so two writers never deadlock upgrading their locks.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
}


def database_config(
    variable: str, url: str, sqlite_file: Path, conn_max_age: int = 0, pool_size: int = 0
) -> dict[str, Any]:
    """Build one DATABASES entry from a URL, or an embedded SQLite file without one.

    ``pool_size`` > 0 gives each process a psycopg connection pool of at most that
    many connections per PostgreSQL database: under ASGI, Django's advice instead
    of persistent connections, and a bound on connections where persistent ones
    would open one per thread.
    """
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_file),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{variable} is not a valid database URL: {exc}") from exc
    if config.get("ENGINE") not in SUPPORTED_ENGINES:
        raise ImproperlyConfigured(
            f"{variable} must point to PostgreSQL (postgres://...) or SQLite (sqlite:///...); "
            f"got engine {config.get('ENGINE')!r}."
        )
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = dict(SQLITE_OPTIONS)
    elif pool_size > 0:
        if conn_max_age:
            raise ImproperlyConfigured(
                "ALZETTE_DB_POOL_SIZE and ALZETTE_DB_CONN_MAX_AGE exclude each other."
            )
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": pool_size,
            "timeout": 10,
        }
        config["CONN_HEALTH_CHECKS"] = False  # the pool checks what it lends
    return config


_original_create_connection = ConnectionHandler.create_connection


def _create_connection(self: ConnectionHandler, alias: str) -> Any:
    if alias == DEFAULT_DB_ALIAS and PERSONAL in self.settings:
        return self[PERSONAL]
    return _original_create_connection(self, alias)


def alias_default_to_personal() -> None:
    """Make connections['default'] the same object as connections['personal']."""
    ConnectionHandler.create_connection = _create_connection
