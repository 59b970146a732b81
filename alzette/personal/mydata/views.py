"""Pages of the "my data" space: a thin adapter over ``mydata.services``.

Every page shows the signed-in person's own data and nobody else's: there is no
way to name another account in any of these URLs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allauth.core import ratelimit
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.ledger.services import LedgerRangeError
from alzette.personal.mydata import services
from alzette.personal.mydata.forms import EraseForm
from alzette.personal.mydata.models import DataAccess, StoredReceipt

#: Categories with a section of their own on the overview page.
DEDICATED = ("receipts", "access_log")
#: The erasure receipt's link works for this long without the account.
ERASURE_TOKEN_MAX_AGE = 3600
_ERASURE_LINK_NAMESPACE = "alzette.mydata.erasure-receipt"


def _cell(source: services.DataSource, key: str, value: Any) -> Any:
    labels = source.value_labels.get(key)
    if labels is not None and value in labels:
        return labels[value]
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if value is None:
        return ""
    return value  # dates and times are localised by the template


def _categories(data: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    categories = []
    for category, rows in data.items():
        source = services.DATA_SOURCES[category]
        keys = list(source.columns)
        categories.append(
            {
                "key": category,
                "label": source.label,
                "description": source.description,
                "single": source.single,
                "dedicated": category in DEDICATED,
                "count": len(rows),
                "columns": [source.columns[key] for key in keys],
                "rows": [[_cell(source, key, row.get(key)) for key in keys] for row in rows],
                "pairs": [
                    [(source.columns[key], _cell(source, key, row.get(key))) for key in keys]
                    for row in rows
                ],
            }
        )
    return categories


def _kind_label(kind: str) -> str:
    labels = {
        "personal_data.exported": gettext("Export of my data"),
        "personal_data.erased": gettext("Erasure of my account"),
    }
    return labels.get(kind, kind)


@never_cache
@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = services.collect(user)
    accesses = [
        {
            "when": access.accessed_at,
            "kind": access.get_accessor_kind_display(),
            "who": access.accessor_label,
            "category": services.category_label(access.category),
            "purpose": access.purpose,
        }
        for access in DataAccess.objects.filter(user=user)
    ]
    receipts = [
        {"stored": stored, "label": _kind_label(stored.kind)}
        for stored in StoredReceipt.objects.filter(user=user)
    ]
    return render(
        request,
        "mydata/overview.html",
        {
            "categories": _categories(data),
            "accesses": accesses,
            "access_log_days": services.access_log_days(),
            "receipts": receipts,
            # Consents are held by the app that asked for them (single sign-on today),
            # which registers them as a data source; withdrawing happens there too.
            "consents": data.get("sso_services", []),
        },
    )


@never_cache
@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    archive = services.export_archive(request.user)
    name = f"alzette-my-data-{timezone.localdate():%Y-%m-%d}.zip"
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _json_attachment(document: dict[str, Any], filename: str) -> JsonResponse:
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_GET
def receipt(request: HttpRequest, pk: Any) -> HttpResponse:
    stored = get_object_or_404(StoredReceipt, pk=pk, user=request.user)
    return _json_attachment(
        services.receipt_document(stored), f"alzette-receipt-{stored.leaf_index}.json"
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest) -> HttpResponse:
    user = request.user
    reasons = services.retention_reasons(user)
    form = EraseForm(request.POST if request.method == "POST" else None, user=user)
    status = 200
    if request.method == "POST" and not reasons:
        if not ratelimit.consume(request, action="reauthenticate", user=user):
            form.add_error(None, gettext("Too many attempts. Please wait a minute."))
            status = 429
        elif form.is_valid():
            try:
                erased = services.erase_account(user)
            except services.ErasureRefused as refusal:
                reasons, status = refusal.reasons, 409
            else:
                logout(request)
                token = signing.dumps(
                    {
                        "i": erased.leaf_index,
                        "n": erased.receipt["tree_head"]["tree_size"],
                        "s": erased.salt,
                        "p": erased.payload,
                    },
                    salt=_ERASURE_LINK_NAMESPACE,
                    compress=True,
                )
                return redirect(reverse("mydata:erased", args=[token]), permanent=False)
    elif request.method == "POST":
        status = 409
    counts = [
        (category["label"], category["count"]) for category in _categories(services.collect(user))
    ]
    return render(
        request,
        "mydata/erase.html",
        {"form": form, "reasons": reasons, "counts": counts},
        status=status,
    )


def _erasure(token: str) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=_ERASURE_LINK_NAMESPACE, max_age=ERASURE_TOKEN_MAX_AGE)
        document = services.ledger_receipt(int(data["i"]), int(data["n"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, LedgerRangeError) as exc:
        raise Http404 from exc
    document["opening"] = {"salt": data["s"], "payload": data["p"]}
    return document


@never_cache
@require_GET
def erased(request: HttpRequest, token: str) -> HttpResponse:
    """The goodbye page: open to anyone holding the signed link, for one hour."""
    document = _erasure(token)
    return render(
        request,
        "mydata/erased.html",
        {
            "token": token,
            "leaf_index": document["leaf_index"],
            "tree_size": document["tree_head"]["tree_size"],
            "when": datetime.fromtimestamp(document["entry"]["time"] / 1000, tz=UTC),
            "hours": ERASURE_TOKEN_MAX_AGE // 3600,
        },
    )


@never_cache
@require_GET
def erased_receipt(request: HttpRequest, token: str) -> HttpResponse:
    document = _erasure(token)
    return _json_attachment(document, f"alzette-erasure-receipt-{document['leaf_index']}.json")
