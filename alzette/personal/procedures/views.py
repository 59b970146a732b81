"""Pages of online procedures: citizens file, agents instruct. A thin adapter over
``procedures.services``; every decision reads ``Dossier.get_abilities``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.personal.accounts.models import User
from alzette.personal.procedures import agent_api, authz, formdata, services
from alzette.personal.procedures.models import AgentToken, Dossier, EventKind, Procedure, Status
from alzette.personal.procedures.presenters import field_views, follow_ups

_ANONYMOUS = "procedures_anonymous"


def _actor(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _dossier(request: HttpRequest, pk: Any, ability: str = "view") -> Dossier:
    """The file if the person may ``ability`` it; 404 when they may not even see it."""
    dossier = get_object_or_404(
        Dossier.objects.select_related("procedure", "procedure__unit", "version", "group", "user"),
        pk=pk,
    )
    reporter = dossier.user_id is None and str(dossier.pk) in request.session.get(_ANONYMOUS, [])
    if reporter and (dossier.status == Status.DRAFT or ability == "view"):
        return dossier  # the anonymous reporter, in the browser session that started it
    abilities = dossier.get_abilities(request.user)
    if not abilities["view"]:
        raise Http404
    if not abilities.get(ability):
        raise PermissionDenied
    return dossier


# --- Citizens ---------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    procedures = sorted(
        services.offered().select_related("unit"), key=lambda p: p.local_title().casefold()
    )
    mine = Dossier.objects.none()
    if request.user.is_authenticated:
        mine = Dossier.objects.filter(user=request.user).select_related("procedure")[:5]
    return render(request, "procedures/index.html", {"procedures": procedures, "mine": mine})


@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    procedure = get_object_or_404(Procedure, slug=slug)
    if not request.user.is_authenticated and not procedure.allow_anonymous:
        return redirect(f"{reverse('account_login')}?next={reverse('procedures:index')}")
    dossier = services.start(_actor(request), procedure)
    if dossier.user_id is None:
        request.session[_ANONYMOUS] = [*request.session.get(_ANONYMOUS, [])[-19:], str(dossier.pk)]
    return redirect("procedures:dossier", pk=dossier.pk)


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    dossiers = Dossier.objects.filter(user=request.user).select_related("procedure")
    return render(request, "procedures/mine.html", {"dossiers": dossiers})


@never_cache
@require_http_methods(["GET", "POST"])
def dossier(request: HttpRequest, pk: Any) -> HttpResponse:
    found = _dossier(request, pk)
    editable = found.status in authz.EDITABLE and (
        found.get_abilities(request.user)["edit"] or found.user_id is None
    )
    if editable:
        return _fill(request, found)
    return _follow(request, found)


def _uploads(
    request: HttpRequest, dossier: Dossier
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Keep the files uploaded for the shown file fields: (ids by field, errors by field)."""
    from alzette.personal.files.services import FileRejected

    ids: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for definition in dossier.version.schema:
        upload = (
            request.FILES.get(f"f-{definition['key']}") if definition["type"] == "file" else None
        )
        if upload is None:
            continue
        try:
            ids[definition["key"]] = [services.attach(_actor(request), dossier, definition, upload)]
        except FileRejected as exc:
            errors[definition["key"]] = exc.messages
    return ids, errors


def _fill(request: HttpRequest, dossier: Dossier) -> HttpResponse:
    fields = dossier.version.schema
    answers, errors, status = dossier.answers, {}, 200
    if request.method == "POST":
        uploaded, upload_errors = _uploads(request, dossier)
        answers = formdata.answers_from(fields, request.POST, uploaded)
        if upload_errors:
            errors, status = upload_errors, 400
            services.save_draft(_actor(request), dossier, answers)
        elif request.POST.get("action") == "submit":
            try:
                services.submit(_actor(request), dossier.pk, answers)
            except services.AnswersInvalid as exc:
                errors, status = exc.errors, 400
            except services.Conflict as exc:
                messages.error(request, str(exc))
                return redirect("procedures:dossier", pk=dossier.pk)
            else:
                messages.success(
                    request,
                    _("Your file is submitted. Keep its reference: %(reference)s.")
                    % {"reference": dossier.reference},
                )
                dossier.refresh_from_db()
                if dossier.get_abilities(request.user)["pay"]:
                    return _checkout(request, dossier)
                return redirect("procedures:dossier", pk=dossier.pk)
        else:
            errors = services.save_draft(_actor(request), dossier, answers)
            if not errors:
                messages.success(request, _("Draft saved."))
                return redirect("procedures:dossier", pk=dossier.pk)
            status = 400
    names = services.file_names(services.attachment_ids(dossier))
    context = {
        "dossier": dossier,
        "fields": field_views(fields, answers, errors, services.communes(), file_names=names),
        "errors": errors,
        "correction": _last_correction(dossier),
    }
    return render(request, "procedures/fill.html", context, status=status)


def _last_correction(dossier: Dossier) -> Any:
    if dossier.status != Status.CORRECTION:
        return None
    return dossier.events.filter(to_status=Status.CORRECTION).order_by("-created_at").first()


def _follow(request: HttpRequest, dossier: Dossier) -> HttpResponse:
    events = dossier.events.exclude(kind=EventKind.NOTE).select_related("actor")
    names = services.file_names(services.attachment_ids(dossier))
    return render(
        request,
        "procedures/follow.html",
        {
            "dossier": dossier,
            "rows": formdata.rows(dossier.version.schema, dossier.answers, names),
            "events": events,
            "names": names,
            "attachments": _answer_files(dossier, names),
            "abilities": dossier.get_abilities(request.user),
            "follow_ups": follow_ups(dossier),
        },
    )


def _answer_files(dossier: Dossier, names: dict[str, str]) -> list[tuple[str, str]]:
    from alzette.personal.procedures.schema import file_ids

    return [
        (item, names.get(item, item))
        for item in sorted(file_ids(dossier.version.schema, dossier.answers))
    ]


@never_cache
@require_GET
def attachment(request: HttpRequest, pk: Any, file_id: Any) -> HttpResponse:
    """An attachment of the file, for its applicant and its instructors only."""
    from alzette.personal.files.models import StoredFile
    from alzette.personal.files.views import serve

    found = _dossier(request, pk)
    if str(file_id) not in services.attachment_ids(found):
        raise Http404
    return serve(request, get_object_or_404(StoredFile, pk=file_id))


def _verify_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/ledger/")


#: The PDF documents of a file: the service building it, and when it exists.
DOCUMENTS = {
    "receipt": (services.receipt_document, "submitted_at"),
    "decision": (services.decision_document, "decided_at"),
}


@never_cache
@require_GET
def document_pdf(request: HttpRequest, pk: Any, document: str) -> HttpResponse:
    """The filing receipt or the decision, as PDF, with its ledger receipt."""
    from alzette.personal.files.pdf import render_pdf

    found = _dossier(request, pk)
    build, date_field = DOCUMENTS[document]
    if getattr(found, date_field) is None:
        raise Http404
    content = render_pdf(build(found, _verify_url(request)))
    return _pdf(content, f"{found.reference}-{document}.pdf")


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _checkout(request: HttpRequest, dossier: Dossier) -> HttpResponse:
    from alzette.personal.payments.services import checkout_url

    payment = services.start_payment(request.user, dossier)
    return redirect(checkout_url(payment, request.build_absolute_uri("/")))


@never_cache
@login_required
@require_POST
def pay(request: HttpRequest, pk: Any) -> HttpResponse:
    return _checkout(request, _dossier(request, pk, "pay"))


@never_cache
@login_required
@require_POST
def message(request: HttpRequest, pk: Any) -> HttpResponse:
    from alzette.personal.files.services import FileRejected

    found = _dossier(request, pk, "message")
    try:
        services.post_message(
            request.user,
            found,
            request.POST.get("message", ""),
            request.FILES.getlist("attachment")[:5],
        )
    except services.AnswersInvalid:
        messages.error(request, _("Write the message."))
    except FileRejected as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Message sent."))
    target = "procedures:office_dossier" if authz.is_agent(request.user) else "procedures:dossier"
    return redirect(target, pk=found.pk)


# --- Agents' back office -----------------------------------------------------------------


@never_cache
@login_required
@require_GET
def office(request: HttpRequest) -> HttpResponse:
    if not authz.is_agent(request.user):
        raise PermissionDenied
    dossiers = agent_api.files_instructed_by(request.user)
    status = request.GET.get("status", "")
    procedure = request.GET.get("procedure", "")
    commune = request.GET.get("commune", "")
    if status in Status.values:
        dossiers = dossiers.filter(status=status)
    if procedure:
        dossiers = dossiers.filter(procedure__slug=procedure)
    if commune:
        dossiers = dossiers.filter(commune__code=commune)
    if request.GET.get("mine"):
        dossiers = dossiers.filter(assignee=request.user)
    page = Paginator(dossiers.order_by("due_at", "submitted_at"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "procedures/office.html",
        {
            "page": page,
            "statuses": [
                (value, label) for value, label in Status.choices if value != Status.DRAFT
            ],
            "procedures": Procedure.objects.filter(
                pk__in=agent_api.files_instructed_by(request.user).values("procedure")
            ),
            "communes": services.communes().items(),
            "filters": {
                "status": status,
                "procedure": procedure,
                "commune": commune,
                "mine": request.GET.get("mine", ""),
            },
        },
    )


@never_cache
@login_required
@require_GET
def office_dossier(request: HttpRequest, pk: Any) -> HttpResponse:
    if not authz.is_agent(request.user):
        raise PermissionDenied
    found = _dossier(request, pk)
    agent_api.note_access(request.user, found, gettext_noop("File read in the back office"))
    members = found.group.members.all() if found.group else User.objects.none()
    names = services.file_names(services.attachment_ids(found))
    return render(
        request,
        "procedures/office_dossier.html",
        {
            "dossier": found,
            "names": names,
            "attachments": _answer_files(found, names),
            "rows": formdata.rows(found.version.schema, found.answers, names),
            "events": found.events.select_related("actor"),
            "abilities": found.get_abilities(request.user),
            "members": members,
            "decisions": [
                ("accept", _("Accept")),
                ("refuse", _("Refuse")),
                ("close", _("Close without follow-up")),
            ],
        },
    )


@never_cache
@login_required
@require_POST
def act(request: HttpRequest, pk: Any) -> HttpResponse:
    """One instruction step: take, request a correction, decide, assign or note."""
    if not authz.is_agent(request.user):
        raise PermissionDenied
    found = _dossier(request, pk)
    action = request.POST.get("action", "")
    text = request.POST.get("text", "")
    try:
        _apply(request, found, action, text)
    except services.AnswersInvalid as exc:
        for problems in exc.errors.values():
            for problem in problems:
                messages.error(request, problem)
    return redirect("procedures:office_dossier", pk=found.pk)


def _apply(request: HttpRequest, dossier: Dossier, action: str, text: str) -> None:
    agent = request.user
    if action == "take":
        services.take(agent, dossier.pk)
        messages.success(request, _("You are instructing this file."))
    elif action == "correction":
        services.request_correction(agent, dossier.pk, text)
        messages.success(request, _("Correction requested: the applicant is notified."))
    elif action in services.DECISIONS:
        services.decide(agent, dossier.pk, action, text)
        messages.success(request, _("Decision recorded: the applicant is notified."))
    elif action == "assign":
        assignee = User.objects.filter(pk=request.POST.get("assignee") or None).first()
        services.assign(agent, dossier.pk, assignee)
        messages.success(request, _("Assignment changed."))
    elif action == "note":
        services.add_note(agent, dossier, text)
        messages.success(request, _("Note added."))
    else:
        raise services.AnswersInvalid({"action": [_("Unknown action.")]})


@never_cache
@login_required
@require_POST
def batch(request: HttpRequest) -> HttpResponse:
    if not authz.is_agent(request.user):
        raise PermissionDenied
    action = request.POST.get("action", "")
    if action not in ("take", *services.DECISIONS):
        messages.error(request, _("Choose an action for the selected files."))
        return redirect("procedures:office")
    result = services.batch(
        request.user, request.POST.getlist("dossier"), action, request.POST.get("text", "")
    )
    if result.done:
        messages.success(request, _("Done for %(count)d file(s).") % {"count": len(result.done)})
    if result.refused:
        messages.error(
            request,
            _("Not possible for: %(references)s.") % {"references": ", ".join(result.refused)},
        )
    return redirect("procedures:office")


# --- Agents' API tokens ----------------------------------------------------------


def _tokens_page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "tokens": request.user.agent_tokens.all(),
        "now": timezone.now(),
        "max_days": agent_api.MAX_TOKEN_DAYS,
        **extra,
    }
    return render(request, "procedures/tokens.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """An agent's API tokens: the list, and a new one shown once after creation."""
    if not authz.is_agent(request.user):
        raise PermissionDenied
    if request.method == "GET":
        return _tokens_page(request)
    name = request.POST.get("name", "")
    try:
        days = int(request.POST.get("days", ""))
        _token, clear = agent_api.create_token(request.user, name, days)
    except ValueError:
        error = _("Give the token a name (80 characters at most) and a life of 1 to %(max)d days.")
        return _tokens_page(request, 400, error=error % {"max": agent_api.MAX_TOKEN_DAYS})
    return _tokens_page(request, created=clear)


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: Any) -> HttpResponse:
    if not authz.is_agent(request.user):
        raise PermissionDenied
    try:
        token = agent_api.revoke_token(request.user, pk)
    except AgentToken.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("procedures:tokens")
