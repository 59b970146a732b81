"""Agents' pages of commands to streetlights, at /hypervision/lighting/lamps/
(namespace ``lighting_commands``): each lamp's wanted level, command state and
reported state, a lamp's command history, and a form to command a lamp or a group."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.lighting.commands import services

DB = services.DB
STATES = ("commanded", "acknowledged", "failed", "superseded", "none")


def _actor(request: HttpRequest) -> services.Actor:
    actor = services.actor_of(request.user)
    if not services.abilities(actor)["view"]:
        raise PermissionDenied("Agents only.")
    return actor


def _communes() -> dict[str, str]:
    units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)
    return dict(units.order_by("name").values_list("code", "name"))


def state_labels() -> dict[str, str]:
    return {"commanded": _("commanded"), "acknowledged": _("acknowledged"),
            "failed": _("failed"), "superseded": _("superseded"),
            "none": _("never commanded")}  # fmt: skip


def _rows(lamp_ids: list[str]) -> list[dict[str, Any]]:
    states = services.lamp_states(lamp_ids)
    labels = state_labels()
    now = timezone.now()
    rows = []
    for lamp_id in lamp_ids:
        state = states.get(lamp_id)
        shown = services.display_state(state) or "none"
        last = state.last_command if state else None
        rows.append({"id": lamp_id, "name": services.ae_of(lamp_id),
                     "commune": services.commune_of(lamp_id), "state": state, "shown": shown,
                     "label": labels[shown], "last": last,
                     "held": bool(state and state.held_until and state.held_until > now),
                     })  # fmt: skip
    return rows


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    communes = _communes()
    commune = request.GET.get("commune", "")
    commune = commune if commune in communes else ""
    wanted = request.GET.get("state", "")
    wanted = wanted if wanted in STATES else ""
    rows = _rows(services.lamps(commune or None))
    if wanted:
        rows = [row for row in rows if row["shown"] == wanted]
    by_commune: dict[str, list] = {}
    for row in rows:
        by_commune.setdefault(row["commune"], []).append(row)
    groups = [(code, communes.get(code, code), items) for code, items in sorted(by_commune.items())]
    return render(request, "lighting_commands/index.html", {
        "groups": groups, "communes": communes, "commune": commune, "state": wanted,
        "states": list(state_labels().items()), "total": len(rows),
        "can_command": services.abilities(actor, actor.commune)["command"],
        "manual_hold_minutes": _hold_minutes(),
    })  # fmt: skip


@login_required
@require_GET
def lamp(request: HttpRequest, name: str) -> HttpResponse:
    actor = _actor(request)
    lamp_id = services.LAMP_PREFIX + name
    if not services.lamp_exists(lamp_id):
        raise Http404("No such streetlight.")
    [row] = _rows([lamp_id])
    commune = services.commune_of(lamp_id)
    return render(request, "lighting_commands/lamp.html", {
        "row": row, "history": services.commands(lamp=lamp_id, limit=100),
        "commune_name": _communes().get(commune, commune),
        "can_command": services.abilities(actor, commune)["command"],
        "manual_hold_minutes": _hold_minutes(),
    })  # fmt: skip


def _level(request: HttpRequest) -> float | None:
    switch = request.POST.get("switch", "")
    if switch in ("on", "off"):
        return 1.0 if switch == "on" else 0.0
    raw = request.POST.get("level", "").strip().replace(",", ".")
    try:
        percent = float(raw)
    except ValueError:
        return None
    return percent / 100 if 0 <= percent <= 100 else None


def _hold_minutes() -> int:
    return int(services.manual_hold().total_seconds() // 60)


def _hold(request: HttpRequest) -> timedelta | None:
    """The form's hold in minutes (empty: the default); None when it is not 1..1440."""
    raw = request.POST.get("hold", "").strip()
    if not raw:
        return services.manual_hold()
    try:
        minutes = int(raw)
    except ValueError:
        return None
    return timedelta(minutes=minutes) if 1 <= minutes <= 1440 else None


@login_required
@require_POST
def command(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    target = request.POST.get("target", "").strip()
    back = request.POST.get("next", "")
    back = back if back.startswith("/hypervision/lighting/lamps/") else "lighting_commands:index"
    if target.startswith(services.GROUP_PREFIX):
        lamps = services.group_lamps(target)
    elif target.startswith(services.LAMP_PREFIX):
        lamps = [target]
    else:
        lamps = None
    if not lamps or services.unknown_lamps(lamps):
        messages.error(request, _("No such lamp or group."))
        return redirect(back)
    if any(not services.abilities(actor, services.commune_of(lamp))["command"] for lamp in lamps):
        raise PermissionDenied("Agents of the lamp's commune or the EPCI only.")
    level = _level(request)
    if level is None:
        messages.error(request, _("Give a level between 0 and 100, or switch on or off."))
        return redirect(back)
    hold = _hold(request)
    if hold is None:
        messages.error(request, _("Hold the level between 1 and 1440 minutes."))
        return redirect(back)
    sent = services.send(lamps, level, source="agent", actor=actor.ref, hold=hold)
    failed = [c for c in sent if c.state == "failed"]
    if failed:
        messages.warning(request, _("Commands sent: %(sent)s; failed: %(failed)s (%(codes)s).") % {
            "sent": len(sent) - len(failed), "failed": len(failed),
            "codes": ", ".join(sorted({c.error_code for c in failed}))})  # fmt: skip
    else:
        messages.success(request, _("Commands sent: %(sent)s.") % {"sent": len(sent)})
    return redirect(back)
