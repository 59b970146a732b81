"""Both database schemas hold only their own repository's tables."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connections

from alzette.core.repositories import PERSONAL, TERRITORY, repository_of
from tests.conftest import ALL_DATABASES, clean_env

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

# Tables that Django or our cache create in every database they manage.
BOOKKEEPING = {"django_migrations"}
CACHE_TABLE = "alzette_cache"


def _tables_of(repository: str) -> set[str]:
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if repository_of(model._meta.app_label) == repository:
            tables.add(model._meta.db_table)
    return tables


def _existing(alias: str) -> set[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        names = set(connection.introspection.table_names(cursor)) - BOOKKEEPING
        if connection.vendor == "sqlite":
            # A virtual table's shadow tables (FTS5's _data, _idx...) are part of it.
            cursor.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'")
            names -= {row[0] for row in cursor.fetchall()}
        if connection.vendor == "postgresql":
            # Monthly partitions of the NGSI-LD history belong to their partitioned table.
            names -= {n for n in names if n.startswith("ngsild_attributeinstance_y")}
    return names


def test_personal_tables_exist_only_in_personal():
    personal_tables = _tables_of(PERSONAL)
    assert personal_tables, "no personal tables found"
    assert personal_tables <= _existing(PERSONAL)
    leaked = personal_tables & _existing(TERRITORY)
    assert not leaked, f"personal tables in the territory database: {sorted(leaked)}"


def test_territory_tables_exist_only_in_territory():
    territory_tables = _tables_of(TERRITORY)
    assert territory_tables, "no territory tables found"
    assert territory_tables <= _existing(TERRITORY)
    leaked = territory_tables & _existing(PERSONAL)
    assert not leaked, f"territory tables in the personal database: {sorted(leaked)}"


def test_no_unknown_table_in_territory():
    # Anything in the territory database must be a known territory table: a stray
    # table (sessions, cache, users...) would be personal data leaking across.
    unknown = _existing(TERRITORY) - _tables_of(TERRITORY)
    assert not unknown, f"unexpected tables in the territory database: {sorted(unknown)}"


def test_user_and_session_tables_are_personal():
    assert {"accounts_user", "django_session", CACHE_TABLE} <= _existing(PERSONAL)


def test_territory_models_refer_to_persons_only_by_pseudonym():
    """No territory model has a relation to a personal model or a personal-looking column."""
    forbidden_names = {"email", "first_name", "last_name", "user", "user_id", "phone", "address"}
    for model in apps.get_models():
        if repository_of(model._meta.app_label) != TERRITORY:
            continue
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            if related is not None:
                assert repository_of(related._meta.app_label) == TERRITORY, (model, field.name)
            assert field.name not in forbidden_names, (model, field.name)


def test_the_configured_backend_is_the_one_in_use():
    """`make test` runs twice; make sure the PostgreSQL half really is on PostgreSQL."""
    import os

    for alias in (PERSONAL, TERRITORY, "ledger"):
        url = os.environ.get(f"ALZETTE_{alias.upper()}_DATABASE_URL", "")
        expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
        assert connections[alias].vendor == expected


def test_migrating_the_personal_repository_creates_the_cache_table(tmp_path):
    """Deployments only run `migrate`: the shared cache table must come with it."""
    import subprocess
    import sys

    env = clean_env()
    env["ALZETTE_DATA_DIR"] = str(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "alzette.cli", "migrate", "--database", "personal", "-v", "0"],
        env=env,
        check=True,
        timeout=120,
    )
    import sqlite3

    with sqlite3.connect(tmp_path / "personal.sqlite3") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert CACHE_TABLE in tables


def test_the_ledger_database_holds_only_the_ledger():
    from alzette.core.repositories import LEDGER

    ledger_tables = _tables_of(LEDGER)
    assert ledger_tables and ledger_tables <= _existing(LEDGER)
    assert not (_existing(LEDGER) - ledger_tables), "unexpected tables in the ledger database"
    assert not (ledger_tables & (_existing(PERSONAL) | _existing(TERRITORY)))
