"""The resource tree: the CSEBase at its root, and removing a subtree."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alzette.core.repositories import TERRITORY
from alzette.territory.onem2m import config
from alzette.territory.onem2m.constants import EventType
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.models import Resource


def cse_base() -> Resource:
    """The CSEBase, created on first use from the configured identity."""
    found = Resource.objects.filter(ty=T.CSEBASE).first()
    if found is not None:
        return found
    now = timezone.now()
    try:
        with transaction.atomic(using=TERRITORY):
            return Resource.objects.create(
                ri=config.cse_ri(),
                ty=T.CSEBASE,
                rn=config.cse_rn(),
                pi="",
                path=config.cse_rn(),
                tpe="m2m:cb",
                ct=now,
                lt=now,
                owner=config.admin(),
            )
    except IntegrityError:  # another process created it first
        return Resource.objects.get(ty=T.CSEBASE)


def subtree(resource: Resource) -> Q:
    return Q(path__startswith=f"{resource.path}/")


def delete(ctx: Context, resource: Resource) -> None:
    """Delete ``resource`` and everything below it, with the notifications due:
    net 2 to its own subscriptions, net 4 to its parent's, and a deletion
    notification for each subscription that goes with it."""
    from alzette.territory.onem2m import subscriptions, types

    parent = Resource.objects.filter(ri=resource.pi).first()
    subscriptions.event(ctx, resource, EventType.DELETE, resource)
    hooked = Resource.objects.filter(subtree(resource), ty__in=(T.SUB, T.AE))
    for child in hooked:
        types.kind_of(child.ty).before_delete(ctx, child)
    types.kind_of(resource.ty).before_delete(ctx, resource)
    Resource.objects.filter(subtree(resource) | Q(ri=resource.ri)).delete()
    if parent is not None:
        subscriptions.event(ctx, parent, EventType.DELETE_CHILD, resource)


def expire(now=None) -> int:  # noqa: ANN001 - a datetime, optional
    """Delete expired resources (et passed) and too old instances (mia)."""
    from alzette.territory.onem2m import instances
    from alzette.territory.onem2m.constants import Operation
    from alzette.territory.onem2m.primitives import Request

    now = now or timezone.now()
    count = 0
    request = Request(op=Operation.DELETE, to=config.cse_rn(), fr=config.admin(), rqi="expiry")
    for ri in Resource.objects.filter(et__lte=now).order_by("path").values_list("ri", flat=True):
        with transaction.atomic(using=TERRITORY):
            resource = Resource.objects.filter(ri=ri).first()
            if resource is None:  # gone with an expired ancestor
                continue
            ctx = Context(request=request, originator=config.admin(), now=now)
            delete(ctx, resource)
            count += 1
        _after_commit(ctx)
    for container in Resource.objects.filter(ty=T.CNT, attrs__has_key="mia"):
        with transaction.atomic(using=TERRITORY):
            locked = Resource.objects.select_for_update().get(ri=container.ri)
            ctx = Context(request=request, originator=config.admin(), now=now)
            instances.enforce_limits(ctx, locked)
    return count


def _after_commit(ctx: Context) -> None:
    if ctx.notified:
        from alzette.territory.onem2m import notifications

        notifications.kick()
