"""Pages of the developer portal: thin adapters over ``territory.partners``.

Every page asks ``partners.authz`` what the signed-in person may do; a secret is
shown in the answer to the request that created it and never stored in clear.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alzette.personal.developers import charts, forms
from alzette.personal.developers.services import actor_for, may_register, register_organisation
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.partners import access, authz, services
from alzette.territory.partners.models import AccessLog, App, Community, Credential, Grant

DB = "territory"


def _organisations(actor: authz.Actor) -> list[Organisation]:
    found = Organisation.objects.using(DB).order_by("name")
    return [o for o in found if authz.acts_for(actor, o)]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    mine = _organisations(actor)
    apps = App.objects.using(DB).filter(organisation__in=mine).select_related("organisation")
    received = []
    for organisation in mine:
        received += list(
            services.active_grants(organisation).select_related(
                "dataset", "granted_by", "community"
            )
        )
    return render(
        request,
        "developers/index.html",
        {
            "actor": actor,
            "organisations": mine,
            "apps": apps,
            "received": received,
            "may_register": may_register(request.user),
            "communities": community_rows(actor),
            "public_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )


def community_rows(actor: authz.Actor) -> list[Community]:
    if not authz.community_abilities(actor)["create"]:
        return []
    return list(Community.objects.using(DB).prefetch_related("members"))


@login_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if not may_register(request.user):
        raise PermissionDenied
    form = forms.OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = register_organisation(request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("“%(name)s” is registered. Create your first application.")
                % {"name": organisation.name},
            )
            return redirect("developers:app_new")
    status = 400 if request.method == "POST" else 200
    return render(request, "developers/register.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def app_new(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    mine = [
        o for o in _organisations(actor) if authz.organisation_abilities(actor, o)["manage_apps"]
    ]
    if not mine:
        raise PermissionDenied
    form = forms.AppForm(request.POST or None)
    organisation = _chosen(request, mine)
    if request.method == "POST" and form.is_valid():
        try:
            app, secret = services.register_app(
                organisation,
                form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                environment=form.cleaned_data["environment"],
                actor=actor.ref,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _app_page(request, app, actor, secret=secret, status=201)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "developers/app_new.html",
        {"form": form, "organisations": mine, "chosen": organisation},
        status=status,
    )


def _chosen(request: HttpRequest, mine: list[Organisation]) -> Organisation:
    wanted = request.POST.get("organisation") or request.GET.get("organisation")
    return next((o for o in mine if o.slug == wanted), mine[0])


def _app(request: HttpRequest, pk: Any, ability: str) -> tuple[App, authz.Actor]:
    actor = actor_for(request.user)
    try:
        app = App.objects.using(DB).select_related("organisation").get(pk=pk)
    except (App.DoesNotExist, ValidationError) as exc:
        raise Http404 from exc
    abilities = authz.app_abilities(actor, app)
    if not abilities["view"]:
        raise Http404  # someone else's application does not exist for you
    if not abilities[ability]:
        raise PermissionDenied
    return app, actor


@login_required
def app_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    app, actor = _app(request, pk, "view")
    return _app_page(request, app, actor)


def _app_page(
    request: HttpRequest,
    app: App,
    actor: authz.Actor,
    *,
    secret: str = "",
    key: str = "",
    status: int = 200,
) -> HttpResponse:
    usage = access.usage_by_day(app, 14)
    keys = app.credentials.using(DB).filter(kind=Credential.Kind.KEY).order_by("-created_at")
    return render(
        request,
        "developers/app.html",
        {
            "app": app,
            "abilities": authz.app_abilities(actor, app),
            "keys": keys,
            "secret": secret,
            "new_key": key,
            "usage": usage,
            "chart": charts.usage(usage),
            "today": usage[-1] if usage else None,
            "now": timezone.now(),
            "token_url": request.build_absolute_uri("/partners/oauth/token"),
            "public_url": request.build_absolute_uri("/").rstrip("/"),
            "sandbox_tenant": access.SANDBOX_TENANT,
        },
        status=status,
    )


@login_required
@require_POST
def key_new(request: HttpRequest, pk: Any) -> HttpResponse:
    app, actor = _app(request, pk, "issue_key")
    _, token = services.issue_key(app, request.POST.get("label", ""))
    return _app_page(request, app, actor, key=token, status=201)


@login_required
@require_POST
def key_revoke(request: HttpRequest, pk: Any, prefix: str) -> HttpResponse:
    app, _actor = _app(request, pk, "revoke_key")
    credential = app.credentials.using(DB).filter(prefix=prefix).first()
    if credential is None:
        raise Http404
    services.revoke_credential(credential)
    messages.success(request, _("The key %(prefix)s… is revoked.") % {"prefix": prefix})
    return redirect("developers:app", pk=app.pk)


@login_required
@require_POST
def secret_rotate(request: HttpRequest, pk: Any) -> HttpResponse:
    app, actor = _app(request, pk, "rotate_secret")
    secret = services.rotate_client_secret(app, actor=actor.ref)
    return _app_page(request, app, actor, secret=secret)


@login_required
@require_POST
def app_revoke(request: HttpRequest, pk: Any) -> HttpResponse:
    app, actor = _app(request, pk, "revoke")
    services.revoke_app(app, actor=actor.ref)
    messages.success(request, _("The application “%(name)s” is revoked.") % {"name": app.name})
    return redirect("developers:index")


# --- Sharing (owners) ------------------------------------------------------------------------


def _owners(actor: authz.Actor) -> list[Organisation]:
    return [o for o in _organisations(actor) if authz.organisation_abilities(actor, o)["share"]]


def _grant_form(request: HttpRequest, owners: list[Organisation]) -> forms.GrantForm:
    datasets = (
        Dataset.objects.using(DB)
        .filter(organisation__in=owners)
        .exclude(access=Dataset.Access.OPEN)
        .order_by("identifier")
    )
    organisations = Organisation.objects.using(DB).exclude(pk__in=[o.pk for o in owners])
    return forms.GrantForm(
        request.POST or None,
        owners=owners,
        datasets=list(datasets),
        organisations=list(organisations.order_by("name")),
        communities=list(Community.objects.using(DB).order_by("name")),
    )


@login_required
@require_http_methods(["GET", "POST"])
def sharing(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    owners = _owners(actor)
    if not owners:
        raise PermissionDenied
    form = _grant_form(request, owners)
    if request.method == "POST" and form.is_valid():
        try:
            grant = _share(actor, owners, form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Shared until %(end)s.") % {"end": timezone.localtime(grant.ends_at).date()},
            )
            return redirect("developers:sharing")
    grants = list(
        Grant.objects.using(DB)
        .filter(granted_by__in=owners)
        .select_related("dataset", "organisation", "community", "granted_by")
    )
    for grant in grants:
        grant.abilities = authz.grant_abilities(actor, grant)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "developers/sharing.html",
        {"form": form, "grants": grants, "now": timezone.now()},
        status=status,
    )


def _share(actor: authz.Actor, owners: list[Organisation], data: dict[str, Any]) -> Grant:
    kind, _sep, value = data["subject"].partition(":")
    dataset = None
    if kind == "dataset":
        dataset = Dataset.objects.using(DB).select_related("organisation").get(identifier=value)
        if not authz.may_share_dataset(actor, dataset):
            raise PermissionDenied
    who, _sep, slug = data["grantee"].partition(":")
    organisation = Organisation.objects.using(DB).get(slug=slug) if who == "organisation" else None
    community = Community.objects.using(DB).get(slug=slug) if who == "community" else None
    granted_by = (
        dataset.organisation if dataset else next(o for o in owners if o.slug == data["on_behalf"])
    )
    tz = timezone.get_current_timezone()
    return services.share(
        granted_by,
        dataset=dataset,
        scope=value if kind == "scope" else "",
        organisation=organisation,
        community=community,
        purpose=data["purpose"],
        starts_at=max(timezone.now(), datetime.combine(data["starts"], time.min, tz)),
        ends_at=datetime.combine(data["ends"], time.max, tz),
        actor=actor.ref,
    )


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: Any) -> HttpResponse:
    actor = actor_for(request.user)
    grant = Grant.objects.using(DB).select_related("granted_by").filter(pk=pk).first()
    if grant is None or not authz.grant_abilities(actor, grant)["view"]:
        raise Http404
    if not authz.grant_abilities(actor, grant)["revoke"]:
        raise PermissionDenied
    services.revoke(grant, actor=actor.ref)
    messages.success(request, _("The share is revoked: access stops now."))
    return redirect("developers:sharing")


@login_required
def accesses(request: HttpRequest) -> HttpResponse:
    """Who accessed our shared data, and who was refused."""
    actor = actor_for(request.user)
    owners = [
        o for o in _organisations(actor) if authz.organisation_abilities(actor, o)["see_accesses"]
    ]
    if not owners:
        raise PermissionDenied
    found = (
        AccessLog.objects.using(DB)
        .filter(owner__in=owners)
        .select_related("app", "organisation", "grant")
    )
    subject = request.GET.get("subject", "").strip()
    if subject:
        found = found.filter(subject=subject)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    context = {"page": page, "subject": subject,
               "access_log_days": services.access_log_days()}  # fmt: skip
    return render(request, "developers/accesses.html", context)


# --- Communities (agents) ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def communities(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not authz.community_abilities(actor)["create"]:
        raise PermissionDenied
    organisations = list(Organisation.objects.using(DB).order_by("name"))
    form = forms.CommunityForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        members = [o for o in organisations if o.slug in data["members"]]
        found = Community.objects.using(DB).filter(slug=data["slug"]).first()
        try:
            if found is None:
                services.create_community(
                    data["slug"],
                    data["name"],
                    members=members,
                    description=data["description"],
                    actor=actor.ref,
                )
            else:
                services.set_members(found, members, actor=actor.ref)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("The community “%(name)s” is saved.") % {"name": data["name"]}
            )
            return redirect("developers:communities")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "developers/communities.html",
        {
            "form": form,
            "communities": Community.objects.using(DB).prefetch_related("members"),
        },
        status=status,
    )
