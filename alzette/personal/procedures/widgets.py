"""My procedures: the dashboard widget listing the person's files and their status."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.widget import Widget

#: How many files the widget lists (the latest first).
LATEST = 5


class MyProceduresWidget(Widget):
    slug = "my-procedures"
    title = _("My procedures")
    description = _("Your latest files and where they stand; start a new procedure.")
    template_name = "procedures/widget.html"
    # Offered in "add a widget"; not in the default layout, which stays the four
    # widgets every account has data for.
    in_default_layout = False

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        from alzette.personal.procedures.models import Dossier

        files = Dossier.objects.filter(user=user).select_related("procedure", "payment")
        return {
            "files": list(files[:LATEST]),
            "count": files.count(),
            "index_url": reverse("procedures:index"),
            "mine_url": reverse("procedures:mine"),
        }
