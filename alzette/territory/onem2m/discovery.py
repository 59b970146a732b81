"""Discovery (fu=1) and the result contents (rcn) that list children."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from alzette.territory.onem2m import access, config, types
from alzette.territory.onem2m.constants import Permission
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.errors import bad_request
from alzette.territory.onem2m.models import Resource
from alzette.territory.onem2m.primitives import FilterCriteria, Request
from alzette.territory.onem2m.tree import subtree


def _below(resource: Resource, fc: FilterCriteria) -> Any:
    if resource.ty == T.CSEBASE:
        rows = Resource.objects.exclude(ri=resource.ri)
    else:
        rows = Resource.objects.filter(subtree(resource))
    if fc.fo == 1:  # AND: let the database narrow down what it can
        lookups = {
            "ty__in": fc.ty or None,
            "ct__gt": fc.cra,
            "ct__lt": fc.crb,
            "lt__gt": fc.ms,
            "lt__lt": fc.us,
            "st__lt": fc.sts,
            "st__gt": fc.stb,
            "et__gt": fc.exa,
            "et__lt": fc.exb,
            "size__gte": fc.sza,
            "size__lt": fc.szb,
        }
        rows = rows.filter(**{k: v for k, v in lookups.items() if v is not None})
    return rows.order_by("path")


def _conditions(resource: Resource, fc: FilterCriteria) -> list[bool]:
    """One boolean per criterion that is set."""
    results = []
    if fc.ty:
        results.append(resource.ty in fc.ty)
    for name, holds in (
        ("cra", lambda v: resource.ct > v),
        ("crb", lambda v: resource.ct < v),
        ("ms", lambda v: resource.lt > v),
        ("us", lambda v: resource.lt < v),
        ("sts", lambda v: resource.st < v),
        ("stb", lambda v: resource.st > v),
        ("exa", lambda v: resource.et is not None and resource.et > v),
        ("exb", lambda v: resource.et is not None and resource.et < v),
        ("sza", lambda v: resource.size >= v),
        ("szb", lambda v: resource.size < v),
    ):
        value = getattr(fc, name)
        if value is not None:
            results.append(holds(value))
    if fc.lbl:
        results.append(bool(set(fc.lbl) & set(resource.lbl)))
    if fc.cty:
        cnf = str(resource.attrs.get("cnf", ""))
        results.append(any(cnf.startswith(c) for c in fc.cty))
    return results


def matches(resource: Resource, fc: FilterCriteria) -> bool:
    results = _conditions(resource, fc)
    if not results:
        return True
    return all(results) if fc.fo == 1 else any(results)


def discover(
    ctx: Context,
    resource: Resource,
    fc: FilterCriteria,
    permission: Permission = Permission.DISCOVER,
) -> tuple[list[Resource], bool]:
    """Resources below ``resource`` that match ``fc`` and that the originator may
    discover, in path order, paged by ofst/lim; and whether more were left out."""
    cap = settings.ALZETTE_ONEM2M_DISCOVERY_LIMIT
    limit = min(fc.lim, cap) if fc.lim is not None else cap
    depth = resource.path.count("/")
    found: list[Resource] = []
    skipped = 0
    for row in _below(resource, fc).iterator(chunk_size=500):
        if fc.lvl is not None and row.path.count("/") - depth > fc.lvl:
            continue
        if not matches(row, fc) or not access.allowed(ctx, row, permission):
            continue
        if skipped < fc.ofst:
            skipped += 1
            continue
        if len(found) == limit:
            # Only the cap makes a partial answer: a lim the originator set is what it asked.
            return found, fc.lim is None or fc.lim > cap
        found.append(row)
    return found, False


def _address(resource: Resource, drt: int) -> str:
    return resource.path if drt == 1 else f"{config.csi()}/{resource.ri}"


def references(found: list[Resource], rcn: int, drt: int) -> dict[str, Any]:
    if drt not in (1, 2):
        raise bad_request("drt: 1 (structured) or 2 (unstructured)")
    if rcn == 6:
        return {"m2m:rrl": {"rrf": [_reference(r, drt) for r in found]}}
    return {"m2m:uril": [_address(r, drt) for r in found]}


def _reference(resource: Resource, drt: int) -> dict[str, Any]:
    ref: dict[str, Any] = {"nm": resource.rn, "typ": resource.ty, "val": _address(resource, drt)}
    if resource.ty == T.FCNT:
        ref["spty"] = resource.attrs.get("cnd")
    return ref


def content(ctx: Context, resource: Resource, rcn: int, request: Request) -> dict[str, Any]:
    """What a retrieve (or a delete) answers for rcn 1, 4, 5, 6 or 8."""
    kind = types.kind_of(resource.ty)
    if rcn == 1:
        return {resource.tpe: kind.represent(resource)}
    fc = request.fc
    if rcn in (5, 6):
        fc = FilterCriteria(**{**fc.__dict__, "lvl": 1})
    children, _partial = discover(ctx, resource, fc, Permission.RETRIEVE)
    if rcn == 5:
        body = kind.represent(resource)
        body["ch"] = [_reference(r, request.drt) for r in children]
        return {resource.tpe: body}
    if rcn == 6:
        return {"m2m:rrl": {"rrf": [_reference(r, request.drt) for r in children]}}
    body = kind.represent(resource) if rcn == 4 else {}
    _nest(body, resource.ri, children)
    return {resource.tpe: body}


def _nest(body: dict[str, Any], parent_ri: str, rows: list[Resource]) -> None:
    """Put each resource under its parent, grouped by type name (rcn 4 and 8)."""
    for row in [r for r in rows if r.pi == parent_ri]:
        child = types.kind_of(row.ty).represent(row)
        _nest(child, row.ri, rows)
        body.setdefault(row.tpe, []).append(child)
