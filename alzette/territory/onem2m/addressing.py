"""Addressing (TS-0001 9.3.1): from a request's ``to`` to a resource of this CSE.

Accepted forms, each structured (by names) or unstructured (by resource id):

* CSE-relative: ``alzette/streetlight-42/cmd``, ``-/streetlight-42/cmd``, ``cnt5f...``
* SP-relative: ``/id-alzette/alzette/streetlight-42/cmd``, ``/id-alzette/cnt5f...``
* absolute: ``//alzette.ccphva.fr/id-alzette/alzette/...``

A trailing ``la`` or ``ol`` names a container's latest or oldest instance; a
``fopt`` segment after a group addresses its members (``fopt/rest`` each).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from alzette.territory.onem2m import config
from alzette.territory.onem2m.constants import RSC
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.errors import M2MError, bad_request, not_found
from alzette.territory.onem2m.models import Resource


@dataclass
class Target:
    resource: Resource
    #: "la", "ol", "fopt" or "" for the resource itself.
    virtual: str = ""
    #: After fopt: the path to append to each member's address.
    rest: str = ""


def cse_relative(to: str) -> str:
    """Strip the absolute or SP-relative prefix of ``to``; refuse other CSEs."""
    if not to:
        raise bad_request("to: the target address is empty")
    if to.startswith("//"):
        sp, _, rest = to[2:].partition("/")
        if sp != config.spid():
            raise M2MError(RSC.TARGET_NOT_REACHABLE, f"SP {sp} is not served here")
        to = "/" + rest
    if to.startswith("/"):
        csi, _, rest = to[1:].partition("/")
        if csi != config.cse_ri():
            raise M2MError(RSC.TARGET_NOT_REACHABLE, f"CSE /{csi} is not reachable from here")
        to = rest or config.cse_rn()
    return to.strip("/") or config.cse_rn()


def _alive() -> Q:
    return Q(et__isnull=True) | Q(et__gt=timezone.now())


def resolve(to: str, lock: bool = False) -> Target:
    """The resource (or virtual resource) ``to`` addresses, or 4004.

    ``lock`` locks the row (a container receiving an instance) in the same query.
    """
    segments = cse_relative(to).split("/")
    if "" in segments:
        raise bad_request(f"to: empty segment in {to!r}")
    if "fopt" in segments:
        index = segments.index("fopt")
        group = _lookup(segments[:index])
        if group.ty != T.GRP:
            raise not_found("fopt addresses the members of a group only")
        return Target(group, "fopt", "/".join(segments[index + 1 :]))
    if segments[-1] in ("la", "ol") and len(segments) > 1:
        container = _lookup(segments[:-1], lock)
        if container.ty != T.CNT:
            raise not_found(f"{segments[-1]} exists under a container only")
        return Target(container, segments[-1])
    return Target(_lookup(segments, lock))


def _one(lock: bool = False, **lookup: str) -> Resource | None:
    rows = Resource.objects.filter(_alive(), **lookup)
    if lock:
        rows = rows.select_for_update()
    return next(iter(rows[:1]), None)


def _lookup(segments: list[str], lock: bool = False) -> Resource:
    first = segments[0]
    if first in (config.cse_rn(), "-"):
        found = _one(lock, path="/".join([config.cse_rn(), *segments[1:]]))
    elif len(segments) == 1:
        found = _one(lock, ri=first)
    else:
        # An unstructured id followed by names: the names are below it.
        base = _one(ri=first)
        found = None
        if base is not None:
            found = _one(lock, path="/".join([base.path, *segments[1:]]))
    if found is None and segments in ([config.cse_rn()], ["-"], [config.cse_ri()]):
        from alzette.territory.onem2m import tree

        found = tree.cse_base()  # the very first request: the root is made now
    if found is None:
        raise not_found(f"no resource at {'/'.join(segments)}")
    return found


def find(reference: str, ty: int | None = None) -> Resource | None:
    """A resource by any address form, or None (for references inside attributes)."""
    try:
        target = resolve(reference)
    except M2MError:
        return None
    if target.virtual or (ty is not None and target.resource.ty != ty):
        return None
    return target.resource


def sp_relative(resource: Resource) -> str:
    return f"{config.csi()}/{resource.ri}"


def structured(resource: Resource) -> str:
    return resource.path
