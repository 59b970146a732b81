"""Pages of the service store: a thin adapter over ``store.services``.

Browsing is public; activating needs an account; providers' pages need the
ability to manage the provider; moderation needs the ability to moderate. Every
decision reads ``Service.get_abilities`` (``store.authz``).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alzette.core.repositories import PERSONAL
from alzette.personal.sso.services import consent_covers, scope_items
from alzette.personal.store import authz, services
from alzette.personal.store.forms import ModerationForm, SearchForm, ServiceForm
from alzette.personal.store.models import Provider, ProviderKind, Service, Status

_LOGO_NAME = re.compile(r"store/logos/[0-9a-f]{32}\.png")


def _service(slug: str, actor: Any, ability: str = "view") -> Service:
    """The service, if ``actor`` may ``ability`` it; 404 otherwise (including for a
    service they may not see, so its existence does not leak)."""
    service = get_object_or_404(
        Service.objects.select_related("provider", "provider__unit", "application"), slug=slug
    )
    abilities = service.get_abilities(actor)
    if not abilities["view"]:
        raise Http404
    if not abilities.get(ability):
        raise PermissionDenied
    return service


# --- Citizens ------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    found: list[Service] = []
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        data = form.cleaned_data if form.is_bound else {}
        found = services.catalogue(data.get("q", ""), data.get("theme", ""), data.get("commune"))
    active = services.active_service_ids(request.user)
    return render(
        request,
        "store/index.html",
        {
            "form": form,
            "services": found,
            "active": active,
            "may_manage": _managed_providers(request.user).exists(),
            "may_moderate": authz.moderates(request.user),
        },
        status=status,
    )


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug, request.user)
    return render(
        request,
        "store/detail.html",
        {
            "service": service,
            "abilities": service.get_abilities(request.user),
            "active": services.is_active(request.user, service),
            "scope_items": scope_items(services.requested_scopes(service)),
            "communes": list(service.communes.all()),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug, request.user, "activate")
    if services.is_active(request.user, service) and not _scopes_pending(request.user, service):
        return redirect("store:detail", slug=service.slug)
    if request.method == "POST":
        services.activate(request.user, service)
        messages.success(
            request, _("%(service)s is activated.") % {"service": service.local_name()}
        )
        return redirect("store:detail", slug=service.slug)
    return render(
        request,
        "store/activate.html",
        {"service": service, "scope_items": scope_items(services.requested_scopes(service))},
    )


def _scopes_pending(user: Any, service: Service) -> bool:
    """A service that now asks for more than the person agreed to needs a new consent."""
    return service.signs_in and not consent_covers(
        user, service.application, services.requested_scopes(service)
    )


@never_cache
@login_required
@require_POST
def deactivate(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service.objects.select_related("application"), slug=slug)
    if services.deactivate(request.user, service):
        messages.success(
            request,
            _("%(service)s is deactivated: it no longer receives anything from your account.")
            % {"service": service.local_name()},
        )
    if service.get_abilities(request.user)["view"]:
        return redirect("store:detail", slug=service.slug)
    return redirect("store:index")


@require_GET
def provider(request: HttpRequest, slug: str) -> HttpResponse:
    found = get_object_or_404(Provider, slug=slug)
    published = sorted(
        found.services.published().prefetch_related("communes"),
        key=lambda service: service.local_name().casefold(),
    )
    return render(
        request,
        "store/provider.html",
        {
            "provider": found,
            "services": published,
            "showcase": found.kind in ProviderKind.private(),
            "active": services.active_service_ids(request.user),
            "abilities": authz.provider_abilities(found, request.user),
        },
    )


@require_GET
def logo(request: HttpRequest, name: str) -> FileResponse:
    """A logo, from whatever storage holds them; names are unique, so cache for long."""
    if not _LOGO_NAME.fullmatch(name) or not default_storage.exists(name):
        raise Http404
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Providers -----------------------------------------------------------------------


def _managed_providers(actor: Any) -> Any:
    if not getattr(actor, "is_authenticated", False):
        return Provider.objects.none()
    providers = Provider.objects.select_related("unit", "organisation")
    return providers.filter(pk__in=[p.pk for p in providers if authz.manages(actor, p)])


@never_cache
@login_required
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    providers = _managed_providers(request.user)
    if not providers.exists():
        raise PermissionDenied
    listed = Service.objects.filter(provider__in=providers).select_related("provider")
    return render(
        request,
        "store/manage.html",
        {
            "rows": [(service, service.get_abilities(request.user)) for service in listed],
            "providers": providers,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    providers = _managed_providers(request.user)
    if not providers.exists():
        raise PermissionDenied
    instance = _service(slug, request.user, "edit") if slug else Service()
    form = ServiceForm(
        request.POST or None, request.FILES or None, instance=instance, providers=providers
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(using=PERSONAL):
                service = form.save(commit=False)
                services.replace_logo(service, form.cleaned_data.get("logo_file"))
                services.save_draft(request.user, service, form.cleaned_data["communes"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Saved as a draft. Submit it for moderation when it is ready."),
            )
            return redirect("store:manage")
    return render(
        request,
        "store/edit.html",
        {"form": form, "service": instance if slug else None},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_POST
def submit(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug, request.user, "submit")
    services.submit(request.user, service)
    messages.success(request, _("Submitted: an agent of the territory will review it."))
    return redirect("store:manage")


@never_cache
@login_required
@require_POST
def withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug, request.user, "withdraw")
    services.withdraw(request.user, service)
    messages.success(request, _("Withdrawn: the service no longer appears in the store."))
    return redirect("store:manage")


@never_cache
@login_required
@require_POST
def credentials(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug, request.user, "credentials")
    secret = services.new_client_secret(request.user, service)
    response = render(
        request,
        "store/credentials.html",
        {"service": service, "client_id": service.application.client_id, "secret": secret},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Moderation ----------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def moderation(request: HttpRequest) -> HttpResponse:
    if not authz.moderates(request.user):
        raise PermissionDenied
    waiting = Service.objects.filter(status=Status.SUBMITTED).select_related("provider")
    return render(
        request,
        "store/moderation.html",
        {
            "rows": [
                (service, service.get_abilities(request.user)["moderate"])
                for service in waiting.order_by("submitted_at")
            ]
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def moderate(request: HttpRequest, slug: str) -> HttpResponse:
    service = _service(slug, request.user, "moderate")
    form = ModerationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        if form.cleaned_data["decision"] == "approve":
            services.approve(request.user, service, note)
            messages.success(request, _("Published in the store."))
        else:
            services.reject(request.user, service, note)
            messages.success(request, _("Rejected: the provider sees your note."))
        return redirect("store:moderation")
    return render(
        request,
        "store/moderate.html",
        {
            "service": service,
            "form": form,
            "communes": list(service.communes.all()),
            "scope_items": scope_items(
                ["openid", *service.requested_scopes.split()] if service.redirect_uris else []
            ),
        },
        status=400 if form.errors else 200,
    )
