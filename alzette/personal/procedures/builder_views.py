"""The form builder's pages: agents create procedures and change their forms without
code, preview them and publish new versions. A thin adapter over ``builder``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.core.repositories import PERSONAL
from alzette.personal.procedures import builder, formdata, schema, services
from alzette.personal.procedures.authz import manages
from alzette.personal.procedures.builder_forms import (
    TYPE_LABELS,
    FieldForm,
    NewFieldForm,
    ProcedureForm,
)
from alzette.personal.procedures.models import Procedure
from alzette.personal.procedures.presenters import field_views


def _managed(request: HttpRequest, slug: str) -> Procedure:
    procedure = get_object_or_404(Procedure.objects.select_related("unit"), slug=slug)
    if not manages(request.user, procedure):
        raise PermissionDenied
    return procedure


def _require_manager(request: HttpRequest) -> None:
    if request.user.role not in ("agent", "administrator"):
        raise PermissionDenied


@never_cache
@login_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    procedures = [p for p in Procedure.objects.select_related("unit") if manages(request.user, p)]
    return render(request, "procedures/builder/manage.html", {"procedures": procedures})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    _require_manager(request)
    procedure = _managed(request, slug) if slug else Procedure()
    form = ProcedureForm(request.POST or None, instance=procedure, actor=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic(using=PERSONAL):
            saved = form.save()
            builder.draft(request.user, saved)
        messages.success(request, _("Procedure saved."))
        return redirect("procedures:builder", slug=saved.slug)
    return render(
        request,
        "procedures/builder/settings.html",
        {"form": form, "procedure": procedure if slug else None},
        status=400 if form.errors else 200,
    )


def _outline(fields: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    rows = []
    for index, definition in enumerate(fields):
        rows.append(
            {
                "key": definition["key"],
                "label": definition["label"].get("fr", ""),
                "type": TYPE_LABELS.get(definition["type"], definition["type"]),
                "kind": definition["type"],
                "required": definition.get("required", False),
                "conditional": "condition" in definition,
                "depth": depth,
                "first": index == 0,
                "last": index == len(fields) - 1,
            }
        )
        rows.extend(_outline(definition.get("fields", []), depth + 1))
    return rows


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The draft form: its fields, and a form to add one."""
    procedure = _managed(request, slug)
    version = builder.draft(request.user, procedure)
    form = NewFieldForm(request.POST or None)
    blocks = [row for row in _outline(version.schema) if row["kind"] == "block"]
    if request.method == "POST" and form.is_valid():
        definition = _starter(form.cleaned_data["type"], form.cleaned_data["label_fr"])
        parent = request.POST.get("parent", "")
        try:
            key = builder.add_field(
                version, definition, parent if parent in {b["key"] for b in blocks} else ""
            )
        except (schema.SchemaError, KeyError) as exc:
            messages.error(request, str(exc))
        else:
            return redirect("procedures:builder_field", slug=slug, key=key)
    return render(
        request,
        "procedures/builder/edit.html",
        {
            "procedure": procedure,
            "version": version,
            "rows": _outline(version.schema),
            "form": form,
            "blocks": blocks,
        },
        status=400 if form.errors else 200,
    )


def _starter(kind: str, label: str) -> dict[str, Any]:
    """A new field that is valid from the start (choices and files need settings)."""
    definition: dict[str, Any] = {"type": kind, "label": {"fr": label}}
    if kind in ("choice", "multichoice"):
        definition["choices"] = [
            {"value": "option_1", "label": {"fr": _("Option 1")}},
            {"value": "option_2", "label": {"fr": _("Option 2")}},
        ]
    if kind == "file":
        definition["accept"] = ["application/pdf", "image/jpeg", "image/png"]
        definition["max_size"] = 5 * 1024 * 1024
    if kind == "block":
        definition["fields"] = [{"key": "", "type": "text", "label": {"fr": _("Name")}}]
        definition["fields"][0]["key"] = builder.key_from(f"{label} {_('name')}", set())
    return definition


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def field(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    procedure = _managed(request, slug)
    version = builder.draft(request.user, procedure)
    try:
        holder, index = builder.locate(version.schema, key)
    except KeyError:
        return redirect("procedures:builder", slug=slug)
    definition = holder[index]
    form = FieldForm(request.POST or None, definition=definition, earlier=holder[:index])
    if request.method == "POST" and form.is_valid():
        try:
            builder.update_field(version, key, form.definition_from())
        except schema.SchemaError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Field saved."))
            return redirect("procedures:builder", slug=slug)
    return render(
        request,
        "procedures/builder/field.html",
        {
            "procedure": procedure,
            "definition": definition,
            "kind_label": TYPE_LABELS.get(definition["type"]),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_POST
def field_action(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    procedure = _managed(request, slug)
    version = builder.draft(request.user, procedure)
    action = request.POST.get("action")
    try:
        if action in ("up", "down"):
            builder.move_field(version, key, action)
        elif action == "delete":
            builder.remove_field(version, key)
            messages.success(request, _("Field removed."))
    except schema.SchemaError as exc:
        messages.error(request, _("Not possible: %(reason)s") % {"reason": exc})
    except KeyError:
        pass
    return redirect("procedures:builder", slug=slug)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The draft form as citizens will see it; answers are checked, never saved."""
    procedure = _managed(request, slug)
    version = builder.draft(request.user, procedure)
    answers: dict[str, Any] = services.prefill(request.user, version.schema)
    errors: dict[str, list[str]] = {}
    checked = False
    if request.method == "POST":
        answers = formdata.answers_from(version.schema, request.POST, {})
        _clean, errors = schema.validate_answers(version.schema, answers, services.context())
        checked = True
    return render(
        request,
        "procedures/builder/preview.html",
        {
            "procedure": procedure,
            "fields": field_views(version.schema, answers, errors, services.communes()),
            "errors": errors,
            "checked": checked,
        },
        status=400 if errors else 200,
    )


@never_cache
@login_required
@require_POST
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = _managed(request, slug)
    try:
        version = builder.publish(request.user, procedure)
    except schema.SchemaError as exc:
        messages.error(request, str(exc))
        return redirect("procedures:builder", slug=slug)
    messages.success(
        request,
        _("Version %(number)d is online. Files already filed keep their version.")
        % {"number": version.number},
    )
    return redirect("procedures:builder", slug=slug)
