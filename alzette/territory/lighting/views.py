"""Agents' pages of street lighting policies and calendar, at /hypervision/lighting/
(namespace ``lighting``): a commune's overview (its policies and tonight's plan), the
policy editor, the calendar of overrides and the "what is planned" lookup. Every
agent sees every commune; a commune's agents change their own (``authz``)."""

from __future__ import annotations

import calendar as calendar_module
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alzette.territory.lighting import charts, policies, schedule, sun
from alzette.territory.lighting.authz import Actor, NotAllowed, abilities, actor_of
from alzette.territory.lighting.forms import LookupForm, OverrideForm, PolicyForm
from alzette.territory.lighting.models import CalendarOverride, Policy

DB = "territory"


def _actor(request: HttpRequest) -> Actor:
    actor = actor_of(request.user)
    if not abilities(actor)["view"]:
        raise PermissionDenied("Agents only.")
    return actor


def _changeable(actor: Actor, communes: dict[str, str]) -> dict[str, str]:
    return {code: name for code, name in communes.items() if abilities(actor, code)["change"]}


def _commune(request: HttpRequest, actor: Actor, communes: dict[str, str]) -> str:
    wanted = request.GET.get("commune", "")
    if wanted in communes:
        return wanted
    if actor.commune in communes:
        return actor.commune
    return next(iter(communes), "")


def _night(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return schedule.night_of(datetime.now(UTC))


def source_labels() -> dict[str, str]:
    """How each possible source of a level reads on the pages."""
    labels = {schedule.DEFAULT: _("default (on while dark)")}
    for policy in Policy.objects.using(DB).all():
        labels[policy.source] = _("policy “%(name)s”") % {"name": policy.name}
    for override in CalendarOverride.objects.using(DB).all():
        labels[override.source] = _("calendar: %(reason)s") % {"reason": override.reason}
    return labels


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(schedule.zone()) if moment else None


def _rows(segments: list[schedule.Segment], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [{"start": _local(s.start), "end": _local(s.end), "level": s.level,
             "percent": round(s.level * 100), "source": s.source,
             "label": labels.get(s.source, s.source)} for s in segments]  # fmt: skip


def _named(rows: list[Policy]) -> list[Policy]:
    for policy in rows:
        policy.weekday_names = [WEEKDAYS[d] for d in policy.weekdays]
    return rows


def group_item(group_id: str, names: dict[str, str]) -> dict[str, str]:
    """How a street (group) reads on the pages: its name from its entity, its id as
    secondary text; a group without a name (or no longer in the context) by its id only."""
    short = group_id.removeprefix(schedule.GROUP_PREFIX)
    name = names.get(group_id, "")
    return {"id": group_id, "name": "" if name == short else name}


def group_names(groups: list[schedule.Group]) -> dict[str, str]:
    return {g.id: g.name for g in groups}


def _with_groups(rows: list[Any], names: dict[str, str]) -> list[Any]:
    """Policies or overrides with their streets as ``group_items`` for the templates."""
    for row in rows:
        row.group_items = [group_item(g, names) for g in row.groups]
    return rows


def _overview_url(commune: str) -> str:
    return reverse("lighting:index") + "?" + urlencode({"commune": commune})


# --- Overview ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    communes = policies.communes()
    commune = _commune(request, actor, communes)
    night = _night(request.GET.get("night", ""))
    groups = schedule.groups(commune) if commune else []
    group_ids = {g.id for g in groups}
    group = request.GET.get("group", "")
    group = group if group in group_ids else None
    context: dict[str, Any] = {
        "communes": communes, "commune": commune, "commune_name": communes.get(commune, commune),
        "night": night, "previous_night": night - timedelta(days=1),
        "next_night": night + timedelta(days=1), "group": group, "groups": groups,
        "can_change": abilities(actor, commune)["change"] if commune else False,
    }  # fmt: skip
    if commune:
        labels = source_labels()
        names = group_names(groups)
        resolver = schedule.Resolver([commune])
        segments = resolver.timeline(commune, group, night)
        sunset, sunrise = sun.night(night, *resolver.point(commune))
        now = datetime.now(UTC)
        context.update({
            "chart": charts.night_chart(segments, night, sunset, sunrise),
            "rows": _rows(segments, labels), "sunset": _local(sunset), "sunrise": _local(sunrise),
            "policies": _with_groups(_named(policies.policies(commune)), names),
            "overrides": _with_groups(policies.overrides(commune, start=now), names),
            "group_rows": [{"group": g, "item": group_item(g.id, names),
                            "planned": resolver.at(commune, g.id, now),
                            "label": labels.get(resolver.pick(commune, g.id, now)[1], "")}
                           for g in groups],
            "labels": labels,
            "target_name": next((g.name for g in groups if g.id == group),
                                _("streets without their own policy")),
        })  # fmt: skip
    return render(request, "lighting/index.html", context)


# --- Policies ------------------------------------------------------------------------------


DEFAULT_STEPS = [{"at": "sunset", "offset": 0, "level": 1.0},
                 {"at": "23:00", "offset": 0, "level": 0.5},
                 {"at": "sunrise", "offset": 0, "level": 0.0}]  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def policy_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    policy = None
    if pk is not None:
        policy = Policy.objects.using(DB).filter(pk=pk).first()
        if policy is None:
            raise Http404("No such policy.")
        if not abilities(actor, policy.commune)["change"]:
            raise PermissionDenied("Agents of the policy's commune or the EPCI only.")
    communes = _changeable(actor, policies.communes())
    if not communes:
        raise PermissionDenied("No commune to act on.")
    kwargs = {"communes": communes, "groups": schedule.groups()}
    conflict = None
    if request.method == "POST":
        form = PolicyForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                saved = policies.save_policy(actor, form.service_data(), policy)
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            except policies.Conflict as exc:
                conflict = exc
                form.add_error(None, exc.message)
            except NotAllowed:
                raise PermissionDenied("Agents of the policy's commune or the EPCI only.") from None
            else:
                messages.success(request, _("Policy “%(name)s” saved.") % {"name": saved.name})
                return redirect(_overview_url(saved.commune))
    else:
        if policy is not None:
            initial = PolicyForm.initial_for(policy)
        else:
            draft = Policy(commune=actor.commune or next(iter(communes)), steps=DEFAULT_STEPS,
                           name="", enabled=True, priority=0)  # fmt: skip
            initial = PolicyForm.initial_for(draft)
        form = PolicyForm(initial=initial, **kwargs)
    return render(request, "lighting/policy_form.html", {
        "form": form, "policy": policy, "conflict": conflict,
        "back": _overview_url(policy.commune if policy else actor.commune or ""),
    })  # fmt: skip


def _policy_or_404(pk: int) -> Policy:
    policy = Policy.objects.using(DB).filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


@login_required
@require_POST
def policy_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    policy = _policy_or_404(pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        policies.set_enabled(actor, policy, enabled)
    except NotAllowed:
        raise PermissionDenied("Agents of the policy's commune or the EPCI only.") from None
    except policies.Conflict as exc:
        messages.error(request, exc.message)
    else:
        done = _("Policy “%(name)s” enabled.") if enabled else _("Policy “%(name)s” disabled.")
        messages.success(request, done % {"name": policy.name})
    return redirect(_overview_url(policy.commune))


@login_required
@require_POST
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    policy = _policy_or_404(pk)
    try:
        policies.delete_policy(actor, policy)
    except NotAllowed:
        raise PermissionDenied("Agents of the policy's commune or the EPCI only.") from None
    except policies.Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Policy “%(name)s” deleted.") % {"name": policy.name})
    return redirect(_overview_url(policy.commune))


# --- Calendar ------------------------------------------------------------------------------


def _month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-", 1))
        return date(year, month, 1)
    except (TypeError, ValueError):
        today = datetime.now(schedule.zone()).date()
        return today.replace(day=1)


def _days(commune: str, month: date, rows: list[CalendarOverride]) -> list[dict[str, Any]]:
    zone = schedule.zone()
    point = schedule.commune_point(commune)
    last = calendar_module.monthrange(month.year, month.month)[1]
    today = datetime.now(zone).date()
    out = []
    for number in range(1, last + 1):
        day = month.replace(day=number)
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        out.append({
            "date": day, "today": day == today,
            "sunrise": _local(sun.sunrise(day, *point)), "sunset": _local(sun.sunset(day, *point)),
            "overrides": [o for o in rows if o.start < end and o.end > start],
        })  # fmt: skip
    return out


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    communes = policies.communes()
    commune = _commune(request, actor, communes)
    month = _month(request.GET.get("month", ""))
    changeable = _changeable(actor, communes)
    all_groups = schedule.groups()
    kwargs = {"communes": changeable, "groups": all_groups,
              "policies": policies.policies()}  # fmt: skip
    form = None
    conflict = None
    if request.method == "POST":
        if not changeable:
            raise PermissionDenied("No commune to act on.")
        form = OverrideForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                override = policies.save_override(actor, form.service_data())
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            except policies.Conflict as exc:
                conflict = exc
                form.add_error(None, exc.message)
            except NotAllowed:
                raise PermissionDenied("Agents of the commune or the EPCI only.") from None
            else:
                messages.success(request, _("Override “%(reason)s” added to the calendar.")
                                 % {"reason": override.reason})  # fmt: skip
                start = override.start.astimezone(schedule.zone())
                return redirect(reverse("lighting:calendar") + "?" + urlencode(
                    {"commune": override.commune, "month": start.strftime("%Y-%m")}))  # fmt: skip
    elif changeable:
        zone = schedule.zone()
        first = datetime.combine(month, time(18, 0), tzinfo=zone)
        form = OverrideForm(initial={"commune": commune if commune in changeable else
                                     next(iter(changeable)), "mode": "level", "level": 100,
                                     "start": first, "end": first + timedelta(hours=5)},
                            **kwargs)  # fmt: skip
    zone = schedule.zone()
    month_start = datetime.combine(month, time(0), tzinfo=zone)
    next_month = (month + timedelta(days=32)).replace(day=1)
    month_end = datetime.combine(next_month, time(0), tzinfo=zone)
    rows = policies.overrides(commune, month_start, month_end) if commune else []
    _with_groups(rows, group_names(all_groups))
    days = _days(commune, month, rows) if commune else []
    return render(request, "lighting/calendar.html", {
        "communes": communes, "commune": commune, "commune_name": communes.get(commune, commune),
        "month": month, "previous_month": (month - timedelta(days=1)).replace(day=1),
        "next_month": next_month, "days": days, "lead": range(month.weekday()),
        "weekdays": [WEEKDAYS_ABBR[n] for n in range(7)], "overrides": rows,
        "form": form, "conflict": conflict,
        "can_change": abilities(actor, commune)["change"] if commune else False,
        "deletable": {o.pk for o in rows if abilities(actor, o.commune)["change"]},
    }, status=200)  # fmt: skip


@login_required
@require_POST
def override_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    override = CalendarOverride.objects.using(DB).filter(pk=pk).first()
    if override is None:
        raise Http404("No such override.")
    try:
        policies.delete_override(actor, override)
    except NotAllowed:
        raise PermissionDenied("Agents of the commune or the EPCI only.") from None
    messages.success(request, _("Override “%(reason)s” deleted.") % {"reason": override.reason})
    start = override.start.astimezone(schedule.zone())
    return redirect(reverse("lighting:calendar") + "?" + urlencode(
        {"commune": override.commune, "month": start.strftime("%Y-%m")}))  # fmt: skip


# --- Lookup --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def lookup(request: HttpRequest) -> HttpResponse:
    _actor(request)
    result = None
    target = None
    if "target" in request.GET:
        form = LookupForm(request.GET)
        if form.is_valid():
            target = schedule.target_of(form.cleaned_data["target"])
            if target is None:
                form.add_error("target", _("No such lamp, group or commune."))
            else:
                moment = form.cleaned_data["at"].astimezone(UTC)
                planned = schedule.Resolver([target.commune]).at(target.commune, target.group,
                                                                 moment)  # fmt: skip
                result = {"planned": planned, "percent": round(planned.level * 100),
                          "label": source_labels().get(planned.source, planned.source),
                          "until": _local(planned.until), "at": _local(moment)}  # fmt: skip
    else:
        now = datetime.now(schedule.zone()).replace(second=0, microsecond=0, tzinfo=None)
        form = LookupForm(initial={"at": now})
    return render(request, "lighting/lookup.html", {"form": form, "result": result,
                                                    "target": target})  # fmt: skip
