"""contentInstances in their container: size, state tag, counters and limits.

The container's row holds ``cni`` (count), ``size`` (cbs) and ``st``; the CSE
locks it while an instance is added, so concurrent writers keep them exact.
"""

from __future__ import annotations

import json
from datetime import timedelta

from alzette.territory.onem2m.constants import RSC
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.errors import M2MError
from alzette.territory.onem2m.models import Resource


def content_size(con: object) -> int:
    text = con if isinstance(con, str) else json.dumps(con, separators=(",", ":"))
    return len(text.encode())


def prepare(ctx: Context, container: Resource, instance: Resource) -> None:
    instance.size = content_size(instance.attrs["con"])
    mbs = container.attrs.get("mbs")
    if mbs is not None and instance.size > mbs:
        raise M2MError(
            RSC.NOT_ACCEPTABLE, f"content of {instance.size} bytes exceeds the container's mbs"
        )
    container.st += 1
    instance.st = container.st
    # An instance never expires after its container.
    if container.et is not None and (instance.et is None or instance.et > container.et):
        instance.et = container.et


def added(ctx: Context, container: Resource, instance: Resource) -> None:
    container.cni += 1
    container.size += instance.size
    container.lt = ctx.now
    enforce_limits(ctx, container, save=False)
    Resource.objects.filter(ri=container.ri).update(
        cni=container.cni, size=container.size, st=container.st, lt=container.lt
    )
    ctx.created_instances.append(instance)


def added_many(ctx: Context, container: Resource, created: list[Resource]) -> None:
    """``added`` for instances written together (a batch): one update of the container."""
    container.cni += len(created)
    container.size += sum(instance.size for instance in created)
    container.lt = ctx.now
    enforce_limits(ctx, container, save=False)
    Resource.objects.filter(ri=container.ri).update(
        cni=container.cni, size=container.size, st=container.st, lt=container.lt
    )


def removed(instance: Resource) -> None:
    """Called before an instance is deleted on its own: give back its count and size."""
    container = Resource.objects.select_for_update().filter(ri=instance.pi).first()
    if container is not None:
        container.cni = max(0, container.cni - 1)
        container.size = max(0, container.size - instance.size)
        Resource.objects.filter(ri=container.ri).update(cni=container.cni, size=container.size)


def enforce_limits(ctx: Context, container: Resource, save: bool = True) -> None:
    """Drop the oldest instances beyond mni, mbs and mia (TS-0001 9.6.6)."""
    mni, mbs, mia = (container.attrs.get(n) for n in ("mni", "mbs", "mia"))
    within = (mni is None or container.cni <= mni) and (mbs is None or container.size <= mbs)
    if within and mia is None:
        return  # the common case: nothing to drop, no query
    instances = Resource.objects.filter(pi=container.ri, ty=T.CIN)
    dropped: list[tuple[str, int]] = []
    if mia is not None:
        dropped += list(
            instances.filter(ct__lt=ctx.now - timedelta(seconds=mia)).values_list("ri", "size")
        )
    excess_count = container.cni - len(dropped) - mni if mni is not None else 0
    excess_size = container.size - sum(s for _, s in dropped) - mbs if mbs is not None else 0
    if excess_count > 0 or excess_size > 0:
        seen = {ri for ri, _ in dropped}
        for ri, size in instances.order_by("st").values_list("ri", "size").iterator():
            if excess_count <= 0 and excess_size <= 0:
                break
            if ri in seen:
                continue
            dropped.append((ri, size))
            excess_count -= 1
            excess_size -= size
    if dropped:
        Resource.objects.filter(ri__in=[ri for ri, _ in dropped]).delete()
        container.cni = max(0, container.cni - len(dropped))
        container.size = max(0, container.size - sum(s for _, s in dropped))
    if save and (dropped or container.cni != 0):
        Resource.objects.filter(ri=container.ri).update(cni=container.cni, size=container.size)


def latest(container: Resource, oldest: bool = False) -> Resource | None:
    instances = Resource.objects.filter(pi=container.ri, ty=T.CIN)
    return instances.order_by("st" if oldest else "-st").first()
