"""What "my data" shows of attachments: the files a person uploaded, not their content.

Registered as the "attachments" category by ``FilesConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.files.models import StoredFile


def uploaded_files(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
            "uploaded_at": created_at,
        }
        for name, content_type, size, sha256, created_at in StoredFile.objects.filter(
            owner=user
        ).values_list("name", "content_type", "size", "sha256", "created_at")
    ]


def data_source() -> Any:
    from alzette.personal.mydata.services import DataSource

    return DataSource(
        "alzette.personal.files.sources.uploaded_files",
        _("Files you uploaded"),
        {
            "name": _("File name"),
            "content_type": _("Type"),
            "size": _("Size in bytes"),
            "sha256": _("SHA-256 fingerprint"),
            "uploaded_at": _("Uploaded on"),
        },
        _(
            "The files you attached to your requests and reports. They are kept, and "
            "deleted, with the request they belong to."
        ),
    )
