"""Subscriptions (TS-0001 9.6.8, 10.2.11): checks on creation and the events they
turn into notifications, written to the outbox in the event's transaction."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from alzette.territory.onem2m import access, config, notifications
from alzette.territory.onem2m.constants import RSC, ContentType, EventType, Permission
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.errors import M2MError, bad_request
from alzette.territory.onem2m.models import Notification, Resource

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_ENC_KEYS = {"net", "chty", "atr"}


def parse_duration(value: Any, name: str) -> timedelta:
    """An xs:duration limited to days and time (PT5S, PT1M30S, P1D)."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or value in ("P", "PT"):
        raise bad_request(f"{name}: expected a duration like PT10S")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )


def prepare(ctx: Context, parent: Resource, sub: Resource) -> None:
    if not access.allowed(ctx, parent, Permission.RETRIEVE):
        raise M2MError(
            RSC.SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE,
            "the subscriber may not retrieve the subscribed-to resource",
        )
    _check(sub)
    sub.attrs.setdefault("enc", {"net": [EventType.UPDATE]})
    sub.attrs.setdefault("nct", ContentType.ALL_ATTRIBUTES)
    if sub.attrs.get("nse"):
        sub.attrs["nsi"] = [_stats(nu) for nu in sub.attrs["nu"]]
    verify(ctx, sub, sub.attrs["nu"])


def checked(
    ctx: Context, sub: Resource, new_targets: list[str] | None, previous: list[str]
) -> None:
    """After an update: the same checks, and verification of added targets."""
    _check(sub)
    if new_targets is not None:
        known = {entry["tg"] for entry in sub.attrs.get("nsi", [])}
        if sub.attrs.get("nse"):
            sub.attrs["nsi"] = [e for e in sub.attrs.get("nsi", []) if e["tg"] in new_targets] + [
                _stats(nu) for nu in new_targets if nu not in known
            ]
        verify(ctx, sub, [nu for nu in new_targets if nu not in previous])
    if sub.attrs.get("nse") and "nsi" not in sub.attrs:
        sub.attrs["nsi"] = [_stats(nu) for nu in sub.attrs["nu"]]
    if sub.attrs.get("nse") is False:
        sub.attrs.pop("nsi", None)


def _stats(target: str) -> dict[str, Any]:
    return {"tg": target, "rqs": 0, "rsr": 0, "noec": 0}


def _check(sub: Resource) -> None:
    enc = sub.attrs.get("enc")
    if enc is not None:
        if set(enc) - _ENC_KEYS:
            raise bad_request(f"enc: supported criteria are {', '.join(sorted(_ENC_KEYS))}")
        net = enc.get("net", [EventType.UPDATE])
        if not isinstance(net, list) or not net or not all(n in (1, 2, 3, 4) for n in net):
            raise bad_request("enc/net: a list of notification event types 1 to 4")
        chty = enc.get("chty", [])
        if not isinstance(chty, list) or any(type(n) is not int for n in chty):
            raise bad_request("enc/chty: a list of resource types")
        atr = enc.get("atr", [])
        if not isinstance(atr, list) or not all(isinstance(n, str) for n in atr):
            raise bad_request("enc/atr: a list of attribute names")
    bn = sub.attrs.get("bn")
    if bn is not None:
        if set(bn) - {"num", "dur"} or not bn:
            raise bad_request("bn: {num, dur}")
        if "num" in bn and (
            isinstance(bn["num"], bool) or not isinstance(bn["num"], int) or bn["num"] < 1
        ):
            raise bad_request("bn/num: a positive integer")
        if "dur" in bn:
            parse_duration(bn["dur"], "bn/dur")
    for nu in sub.attrs.get("nu", []):
        notifications.check_target(nu)


def verify(ctx: Context, sub: Resource, targets: list[str]) -> None:
    """Send the verification request (vrq) to each new target but the subscriber
    itself; any refusal cancels the request (5204) before anything is written."""
    for target in targets:
        if target in (ctx.originator, f"{config.csi()}/{ctx.originator}"):
            continue
        body = {"m2m:sgn": {"vrq": True, "sur": f"{config.csi()}/{sub.ri}", "cr": sub.cr}}
        error = notifications.send_now(target, body)
        if error:
            raise M2MError(
                RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED,
                f"verification request to {target} failed: {error}",
            )


def event(
    ctx: Context,
    subscribed: Resource,
    net: EventType,
    changed: Resource,
    modified: dict[str, Any] | None = None,
    subs: list[Resource] | None = None,
) -> None:
    """Queue the notifications of ``subscribed``'s subscriptions for this event.

    ``subs`` is ``subscribers(subscribed)`` read once for many events (a batch).
    """
    if subs is None:
        subs = subscribers(subscribed)
    for sub in subs:
        # A subscription is not told of its own creation.
        if sub.ri == changed.ri or (sub.et is not None and sub.et <= ctx.now):
            continue
        if _matches(sub, net, changed, modified):
            _queue(ctx, sub, net, changed, modified)


def subscribers(subscribed: Resource) -> list[Resource]:
    return list(Resource.objects.filter(pi=subscribed.ri, ty=T.SUB))


def _matches(sub: Resource, net: EventType, changed: Resource, modified: dict | None) -> bool:
    enc = sub.attrs.get("enc", {})
    if net not in enc.get("net", [EventType.UPDATE]):
        return False
    if net in (EventType.CREATE_CHILD, EventType.DELETE_CHILD) and enc.get("chty"):
        return changed.ty in enc["chty"]
    if net == EventType.UPDATE and enc.get("atr") and modified is not None:
        return bool(set(enc["atr"]) & set(modified))
    return True


def _representation(sub: Resource, changed: Resource, modified: dict | None) -> dict[str, Any]:
    from alzette.territory.onem2m import types

    nct = sub.attrs.get("nct", ContentType.ALL_ATTRIBUTES)
    if nct == ContentType.RESOURCE_ID:
        return {"m2m:uri": f"{config.csi()}/{changed.ri}"}
    kind = types.kind_of(changed.ty)
    if nct == ContentType.MODIFIED_ATTRIBUTES and modified is not None:
        return {changed.tpe: modified}
    return {changed.tpe: kind.represent(changed)}


def _queue(
    ctx: Context, sub: Resource, net: EventType, changed: Resource, modified: dict | None
) -> None:
    sgn: dict[str, Any] = {
        "nev": {"rep": _representation(sub, changed, modified), "net": int(net)},
        "sur": f"{config.csi()}/{sub.ri}",
    }
    if sub.cr:
        sgn["cr"] = sub.cr
    batch = bool(sub.attrs.get("bn"))
    Notification.objects.bulk_create(
        [
            Notification(
                subscription=sub.ri,
                target=nu,
                payload={"m2m:sgn": sgn},
                batch=batch,
                next_attempt_at=ctx.now,
            )
            for nu in sub.attrs["nu"]
        ]
    )
    ctx.notified = True
    if batch:
        _release_full_batches(ctx, sub)
    dirty = False
    if sub.attrs.get("nse"):
        for entry in sub.attrs.get("nsi", []):
            entry["noec"] += 1
        dirty = True
    if sub.attrs.get("exc") is not None:
        sub.attrs["exc"] -= 1
        dirty = True
        if sub.attrs["exc"] <= 0:
            from alzette.territory.onem2m import tree

            tree.delete(ctx, sub)
            sub.et = ctx.now  # gone: later events of the same batch skip it
            return
    if dirty:
        Resource.objects.filter(ri=sub.ri).update(attrs=sub.attrs)


def _release_full_batches(ctx: Context, sub: Resource) -> None:
    """Make a batch due as soon as it holds bn/num notifications."""
    num = sub.attrs["bn"].get("num")
    if num is None:
        return
    for nu in sub.attrs["nu"]:
        waiting = Notification.objects.filter(
            subscription=sub.ri, target=nu, batch=True, status=Notification.PENDING
        )
        if waiting.count() >= num:
            waiting.update(next_attempt_at=ctx.now)


def deleted(ctx: Context, sub: Resource) -> None:
    """A subscription goes: tell its subscriber (su) with a deletion notification."""
    su = sub.attrs.get("su")
    if not su:
        return
    sgn = {"sud": True, "sur": f"{config.csi()}/{sub.ri}"}
    if sub.cr:
        sgn["cr"] = sub.cr
    Notification.objects.create(
        subscription=sub.ri, target=su, payload={"m2m:sgn": sgn}, next_attempt_at=ctx.now
    )
    ctx.notified = True
