"""The ``attachments`` storage and the antivirus settings, built for alzette/conf/settings.py.

This module is imported by the settings: it must not import models or anything
that needs the app registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

#: Alias of the storage every attachment goes to (``django.core.files.storage.storages``).
ATTACHMENTS = "attachments"

_ADDRESSING_STYLES = ("auto", "path", "virtual")


def attachments_storage(
    *,
    data_dir: Path,
    bucket: str = "",
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    addressing_style: str = "path",
) -> dict[str, Any]:
    """The ``STORAGES["attachments"]`` entry: a directory by default, S3 when a bucket is set.

    The S3 entry keeps objects private (no ACL, signed URLs) and never overwrites:
    names are random, and a collision must fail rather than replace someone's file.
    """
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            # Attachments are personal data: no group or world access, whatever the umask.
            "OPTIONS": {
                "location": str(data_dir / "attachments"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "ALZETTE_ATTACHMENTS_S3_ACCESS_KEY and ALZETTE_ATTACHMENTS_S3_SECRET_KEY go together "
            "(or leave both empty to use the environment's credentials)."
        )
    if addressing_style not in _ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"ALZETTE_ATTACHMENTS_S3_ADDRESSING_STYLE must be one of "
            f"{', '.join(_ADDRESSING_STYLES)}, got {addressing_style!r}."
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "default_acl": None,  # the bucket's policy applies: keep it private
        "querystring_auth": True,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": addressing_style,
    }
    # Unset values stay out so that boto3 falls back to its own chain (environment, role).
    for key, value in (
        ("endpoint_url", endpoint_url),
        ("region_name", region),
        ("access_key", access_key),
        ("secret_key", secret_key),
    ):
        if value:
            options[key] = value
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def clamd_url(url: str) -> str:
    """Check ``ALZETTE_CLAMD_URL`` at start-up: empty, ``tcp://host:port`` or ``unix:///path``."""
    if url and not (url.startswith("tcp://") or url.startswith("unix:///")):
        raise ImproperlyConfigured(
            f"ALZETTE_CLAMD_URL must be tcp://host:port or unix:///path/to/clamd.ctl, got {url!r}."
        )
    return url
