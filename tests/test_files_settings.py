"""The attachments storage and antivirus settings, built from the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

from alzette.personal.files.conf import attachments_storage
from tests.conftest import run_alzette
from tests.test_settings_production import PRODUCTION

S3_ENV = {
    "ALZETTE_ATTACHMENTS_S3_BUCKET": "ccphva-attachments",
    "ALZETTE_ATTACHMENTS_S3_ENDPOINT_URL": "https://s3.fr-par.example.net",
    "ALZETTE_ATTACHMENTS_S3_REGION": "fr-par",
    "ALZETTE_ATTACHMENTS_S3_ACCESS_KEY": "AKIAEXAMPLE",
    "ALZETTE_ATTACHMENTS_S3_SECRET_KEY": "secret-example",
}

_PRINT = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'storage': settings.STORAGES['attachments'], "
    "'clamd': [settings.ALZETTE_CLAMD_URL, settings.ALZETTE_CLAMD_REQUIRED]}))"
)


def _settings(data_dir: Path, **env: str) -> dict:
    result = run_alzette(data_dir, "shell", "-c", _PRINT, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_by_default_attachments_go_to_a_private_directory_of_the_data_dir(tmp_path):
    config = _settings(tmp_path)
    assert config["storage"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(tmp_path.resolve() / "attachments"),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
    assert config["clamd"] == ["", False]


def test_a_bucket_switches_attachments_to_s3_with_every_setting(tmp_path):
    config = _settings(tmp_path, **S3_ENV)

    assert config["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    storage = S3Storage(**config["storage"]["OPTIONS"])  # built offline: no request is made
    assert storage.bucket_name == "ccphva-attachments"
    assert storage.endpoint_url == "https://s3.fr-par.example.net"
    assert storage.region_name == "fr-par"
    assert storage.access_key == "AKIAEXAMPLE"
    assert storage.secret_key == "secret-example"
    assert storage.default_acl is None
    assert storage.file_overwrite is False
    assert storage.querystring_auth is True
    assert storage.addressing_style == "path"


def test_without_keys_s3_uses_the_environment_s_credentials():
    options = attachments_storage(data_dir=Path("/srv"), bucket="b")["OPTIONS"]
    assert "access_key" not in options
    assert "secret_key" not in options
    assert "endpoint_url" not in options


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"ALZETTE_ATTACHMENTS_S3_SECRET_KEY": ""}, "go together"),
        ({"ALZETTE_ATTACHMENTS_S3_ADDRESSING_STYLE": "sideways"}, "ADDRESSING_STYLE"),
        ({"ALZETTE_CLAMD_URL": "clamav:3310"}, "ALZETTE_CLAMD_URL must be"),
    ],
)
def test_malformed_settings_stop_the_start(tmp_path, override, message):
    result = run_alzette(tmp_path, "django-check", **{**S3_ENV, **override})
    assert result.returncode != 0
    assert message in result.stderr


def test_the_antivirus_is_required_in_production_unless_told_otherwise(tmp_path):
    clamd = {"ALZETTE_CLAMD_URL": "tcp://clamav:3310"}
    assert _settings(tmp_path, **PRODUCTION, **clamd)["clamd"] == ["tcp://clamav:3310", True]
    relaxed = {**PRODUCTION, **clamd, "ALZETTE_CLAMD_REQUIRED": "0"}
    assert _settings(tmp_path, **relaxed)["clamd"] == ["tcp://clamav:3310", False]


def test_only_one_key_is_refused():
    with pytest.raises(ImproperlyConfigured):
        attachments_storage(data_dir=Path("/srv"), bucket="b", access_key="only-this")
