"""What "my data" shows of online procedures: the person's files.

Registered as the "procedures" category by ``ProceduresConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from alzette.personal.procedures.models import Dossier


def files(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "reference": dossier.reference,
            "procedure": dossier.procedure.local_title(),
            "status": dossier.get_status_display(),
            "submitted_at": dossier.submitted_at,
            "answers": dossier.answers,
        }
        for dossier in Dossier.objects.filter(user=user).select_related("procedure")
    ]


def data_source() -> Any:
    from alzette.personal.mydata.services import DataSource

    return DataSource(
        "alzette.personal.procedures.sources.files",
        _("Online procedures"),
        {
            "reference": _("Reference"),
            "procedure": _("Procedure"),
            "status": _("Status"),
            "submitted_at": _("Submitted at"),
            "answers": _("Answers"),
        },
        _("The files you started or filed, with your answers."),
    )
