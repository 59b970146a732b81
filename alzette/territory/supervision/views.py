"""Supervision pages for agents: health, devices, quarantine, alerts and rules.

Agents and administrators only; a citizen gets 403, an anonymous visitor the
login page. The person is read by attributes (``services.actor_of``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alzette.territory.smartdatamodels import validation
from alzette.territory.supervision import health, services
from alzette.territory.supervision.forms import AlertFilter, CommentForm, DeviceFilter, RuleForm
from alzette.territory.supervision.models import Alert, AlertRule, QuarantinedMessage

DB = "territory"


def agents_only(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = services.actor_of(request.user)
        if not actor.agent:
            raise PermissionDenied
        request.supervision_actor = actor
        return view(request, *args, **kwargs)

    return wrapped


def unacknowledged_alerts(request: HttpRequest) -> int:
    """For the hypervision header: firing alerts nobody acknowledged yet (0 for non-agents)."""
    if not services.actor_of(getattr(request, "user", None)).agent:
        return 0
    return services.unacknowledged_count()


@agents_only
def index(request: HttpRequest) -> HttpResponse:
    items = health.devices()
    return render(request, "supervision/index.html", {
        "summary": health.summary(items), "platform": health.platform(items),
        "offline_minutes": int(health.offline_after().total_seconds() // 60),
    })  # fmt: skip


@agents_only
def devices(request: HttpRequest) -> HttpResponse:
    form = DeviceFilter(request.GET or None)
    items = health.devices()
    if form.is_valid():
        data = form.cleaned_data
        if data["commune"]:
            items = [i for i in items if i.commune == data["commune"]]
        if data["status"]:
            items = [i for i in items if i.status == data["status"]]
        if data["q"]:
            items = [i for i in items if data["q"].lower() in i.device.lower()]
    page = Paginator(items, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "supervision/devices.html",
                  {"form": form, "page": page, "query": query.urlencode()})  # fmt: skip


@agents_only
def device(request: HttpRequest, name: str) -> HttpResponse:
    item = health.device(name)
    if item is None:
        raise Http404(f"No device {name!r}.")
    quarantined = QuarantinedMessage.objects.using(DB).filter(device=name).order_by("-received_at")
    return render(request, "supervision/device.html", {
        "item": item, "recent": health.recent_messages(name),
        "quarantined": quarantined[:50],
    })  # fmt: skip


@agents_only
def quarantine(request: HttpRequest) -> HttpResponse:
    rows = QuarantinedMessage.objects.using(DB).order_by("-received_at")
    kind = request.GET.get("kind", "")
    if kind in QuarantinedMessage.Kind.values:
        rows = rows.filter(kind=kind)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(request, "supervision/quarantine.html", {
        "page": page, "kinds": QuarantinedMessage.Kind.choices, "kind": kind,
    })  # fmt: skip


@agents_only
def alerts(request: HttpRequest) -> HttpResponse:
    form = AlertFilter(request.GET or None)
    rows = Alert.objects.using(DB).select_related("rule")
    state = form.cleaned_data["state"] if form.is_valid() else ""
    rule = AlertRule.objects.using(DB).filter(pk=form.cleaned_data["rule"]).first() if (
        form.is_valid() and form.cleaned_data["rule"]) else None  # fmt: skip
    if state == "":
        rows = rows.filter(state__in=Alert.OPEN)
    elif state != "all":
        rows = rows.filter(state=state)
    if rule is not None:
        rows = rows.filter(rule=rule)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    actor = request.supervision_actor
    listed = [(a, services.alert_abilities(actor, a)) for a in page.object_list]
    return render(request, "supervision/alerts.html", {
        "form": form, "page": page, "listed": listed, "comment_form": CommentForm(), "rule": rule,
        "unacknowledged": services.unacknowledged_count(),
    })  # fmt: skip


@agents_only
@require_POST
def alert_action(request: HttpRequest, alert_id: int, action: str) -> HttpResponse:
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    change = {"acknowledge": services.acknowledge, "close": services.close}.get(action)
    if change is None or not Alert.objects.using(DB).filter(pk=alert_id).exists():
        raise Http404("No such alert.")
    try:
        change(request.supervision_actor, alert_id, comment)
    except services.NotAllowed:
        raise PermissionDenied from None
    messages.success(request, _("The alert is acknowledged.") if action == "acknowledge"
                     else _("The alert is closed."))  # fmt: skip
    return redirect("supervision:alerts")


@agents_only
def rules(request: HttpRequest) -> HttpResponse:
    actor = request.supervision_actor
    listed = [(r, services.rule_abilities(actor, r)) for r in AlertRule.objects.using(DB).all()]
    return render(request, "supervision/rules.html", {"listed": listed})


@agents_only
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    actor = request.supervision_actor
    rule = None
    if rule_id is not None:
        rule = AlertRule.objects.using(DB).filter(pk=rule_id).first()
        if rule is None:
            raise Http404("No such rule.")
        if not services.rule_abilities(actor, rule)["edit"]:
            raise PermissionDenied
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            services.save_rule(actor, form.rule_fields, rule)
            messages.success(request, _("The rule is saved."))
            return redirect("supervision:rules")
    else:
        form = RuleForm.for_rule(rule) if rule else RuleForm()
    history = services.history(f"alert_rule:{rule.pk}") if rule else []
    return render(request, "supervision/rule_form.html",
                  {"form": form, "rule": rule, "history": history,
                   "entity_types": validation.known_types()},
                  status=400 if request.method == "POST" else 200)  # fmt: skip


@agents_only
@require_POST
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = AlertRule.objects.using(DB).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule.")
    try:
        services.set_enabled(request.supervision_actor, rule, not rule.enabled)
    except services.NotAllowed:
        raise PermissionDenied from None
    return redirect("supervision:rules")
