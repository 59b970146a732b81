"""Access control (TS-0001 9.6.2): may this originator do this to this resource?

The one source of truth for the CSE: requests, discovery and notifications all
ask ``allowed``. Rules, in order:

1. the CSE administrator (``ALZETTE_ONEM2M_ADMIN``) may do everything;
2. the owner of a resource (the AE it belongs to, or who created it at the CSE
   root) may do everything to it;
3. otherwise the access control policies in force decide: the resource's own
   ``acpi``, or when it has none (or is a type without ``acpi``) its parent's,
   up to the AE; an ACP itself is governed by its ``pvs``;
4. anyone may retrieve the CSEBase (the entry point) and ask to register.
"""

from __future__ import annotations

import fnmatch

from alzette.territory.onem2m import config
from alzette.territory.onem2m.constants import Permission
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.models import Resource


def allowed(ctx: Context, resource: Resource, permission: Permission) -> bool:
    originator = ctx.originator
    if originator == config.admin():
        return True
    if resource.owner and originator == resource.owner:
        return True
    if resource.ty == T.ACP:
        return _granted(resource.attrs.get("pvs", {}), originator, permission)
    if resource.ty == T.CSEBASE and permission in (Permission.RETRIEVE, Permission.DISCOVER):
        return True
    for acp in _policies(ctx, resource):
        if _granted(acp.attrs.get("pv", {}), originator, permission):
            return True
    return False


def _policies(ctx: Context, resource: Resource) -> list[Resource]:
    current: Resource | None = resource
    while current is not None:
        if current.acpi:
            return [p for p in (_acp(ctx, ri) for ri in current.acpi) if p is not None]
        if current.ty in (T.AE, T.CSEBASE):
            return []
        current = _parent(ctx, current)
    return []


def _parent(ctx: Context, resource: Resource) -> Resource | None:
    key = f"parent:{resource.pi}"
    if key not in ctx.acp_cache:
        ctx.acp_cache[key] = Resource.objects.filter(ri=resource.pi).first()
    return ctx.acp_cache[key]


def _acp(ctx: Context, reference: str) -> Resource | None:
    """An ACP by resource id or address (acpi may hold either)."""
    if reference not in ctx.acp_cache:
        from alzette.territory.onem2m import addressing

        ctx.acp_cache[reference] = addressing.find(reference, ty=T.ACP)
    return ctx.acp_cache[reference]


def _granted(privileges: dict, originator: str, permission: Permission) -> bool:
    for rule in privileges.get("acr", []):
        if not rule.get("acop", 0) & permission:
            continue
        for pattern in rule.get("acor", []):
            if pattern in ("all", "*") or fnmatch.fnmatchcase(originator, pattern):
                return True
    return False
