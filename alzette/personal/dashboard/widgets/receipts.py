"""My ledger receipts: the latest receipts "my data" keeps for the person.

"My data" (``alzette.personal.mydata``) owns the ``StoredReceipt`` model. This
widget does not import it at module level: the registry instantiates the widget,
which looks the model up with importlib then, and the widget is unavailable when
the app or the model is absent.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alzette.personal.dashboard.widget import Widget

APP = "alzette.personal.mydata"
MODELS_MODULE = "alzette.personal.mydata.models"
MODEL = "StoredReceipt"
#: How many receipts the widget lists (the latest first).
LATEST = 5


def stored_receipt_model() -> type | None:
    """``mydata.StoredReceipt`` if that app is installed and defines it, else None."""
    if not apps.is_installed(APP):
        return None
    try:
        module = importlib.import_module(MODELS_MODULE)
    except ImportError:
        return None
    return getattr(module, MODEL, None)


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def kind_label(kind: str) -> str:
    labels = {"personal_data.exported": gettext("Export of my data")}
    return labels.get(kind, kind)


class LedgerReceiptsWidget(Widget):
    slug = "ledger-receipts"
    title = _("My ledger receipts")
    description = _(
        "Your latest receipts from the public ledger: each proves that one of your "
        "transactions was recorded."
    )
    template_name = "dashboard/widgets/receipts.html"

    def __init__(self) -> None:
        self.model = stored_receipt_model()

    def available(self, user: Any) -> bool:
        return self.model is not None

    def context(self, user: Any, request: HttpRequest) -> dict[str, Any]:
        assert self.model is not None  # context() runs only when available()
        receipts = [
            {
                "created_at": stored.created_at,
                "label": kind_label(stored.kind),
                "leaf_index": stored.leaf_index,
                "url": _url("mydata:receipt", stored.pk),
            }
            for stored in self.model.objects.filter(user=user).order_by(
                "-created_at", "-leaf_index"
            )[:LATEST]
        ]
        overview = _url("mydata:overview")
        return {
            "receipts": receipts,
            "all_url": f"{overview}#category-receipts" if overview else None,
        }
