"""Production mode refuses unsafe settings and passes Django's deploy checks."""

from __future__ import annotations

import pytest

from alzette.personal.sso.keys import new_signing_key_pem
from tests.conftest import run_alzette

GOOD_KEY = "k" * 20 + "Qx7!vZ2#pL9$mN4&rT8*wY1@bC5^dF3%"
PRODUCTION = {
    "ALZETTE_MODE": "production",
    "ALZETTE_SECRET_KEY": GOOD_KEY,
    "ALZETTE_ALLOWED_HOSTS": "alzette.example.org",
    "ALZETTE_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "ALZETTE_PERSONAL_DATABASE_URL": "postgres://alzette@db.invalid:5432/personal",
    "ALZETTE_TERRITORY_DATABASE_URL": "postgres://alzette@db.invalid:5432/territory",
    "ALZETTE_LEDGER_DATABASE_URL": "postgres://alzette@db.invalid:5432/ledger",
    "ALZETTE_SSO_SIGNING_KEY": new_signing_key_pem(),
    "ALZETTE_SSO_PAIRWISE_SECRET": "pairwise-" + "Qx7vZ2pL9mN4rT8wY1bC5dF3" * 2,
    "ALZETTE_LEDGER_SIGNING_KEY": (
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIE3sVfkU0xUzRdUVEsJSGx5+yLjjYd+OOkHh2J1D9xV1\n"
        "-----END PRIVATE KEY-----\n"
    ),
}


_alzette = run_alzette


def test_deploy_checks_pass_in_production(tmp_path):
    result = _alzette(tmp_path, "django-check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"ALZETTE_SECRET_KEY": ""}, "ALZETTE_SECRET_KEY must be set"),
        ({"ALZETTE_SECRET_KEY": "short"}, "ALZETTE_SECRET_KEY must be set"),
        ({"ALZETTE_DEBUG": "1"}, "ALZETTE_DEBUG must be off"),
        ({"ALZETTE_ALLOWED_HOSTS": ""}, "ALZETTE_ALLOWED_HOSTS must list"),
        ({"ALZETTE_ALLOWED_HOSTS": "*"}, "ALZETTE_ALLOWED_HOSTS must list"),
        ({"ALZETTE_LEDGER_SIGNING_KEY": ""}, "ALZETTE_LEDGER_SIGNING_KEY or"),
        ({"ALZETTE_SSO_SIGNING_KEY": ""}, "ALZETTE_SSO_SIGNING_KEY or"),
        ({"ALZETTE_SSO_PAIRWISE_SECRET": ""}, "ALZETTE_SSO_PAIRWISE_SECRET or"),
        (
            {"ALZETTE_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
            "must send real e-mail",
        ),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, override, message):
    result = _alzette(tmp_path, "django-check", **{**PRODUCTION, **override})
    assert result.returncode != 0
    assert "refuses to start in production mode" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALZETTE_MODE": "staging"}, "ALZETTE_MODE must be one of"),
        ({"ALZETTE_DEBUG": "maybe"}, "ALZETTE_DEBUG must be a boolean"),
        ({"ALZETTE_PORT": "eighty"}, "ALZETTE_PORT must be an integer"),
        (
            {"ALZETTE_TERRITORY_DATABASE_URL": "mysql://root@localhost/t"},
            "must point to PostgreSQL",
        ),
    ],
)
def test_configuration_errors_name_the_variable(tmp_path, env, message):
    result = _alzette(tmp_path, "django-check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_demo_is_refused_in_production(tmp_path):
    result = _alzette(tmp_path, "demo", "--no-serve", **PRODUCTION)
    assert result.returncode != 0
    assert "refused in production mode" in result.stderr


def test_embedded_default_creates_wal_sqlite_files(tmp_path):
    data_dir = tmp_path / "fresh" / "data"
    result = _alzette(data_dir, "migrate", "--database", "territory", "-v", "0")
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(data_dir / "territory.sqlite3") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
