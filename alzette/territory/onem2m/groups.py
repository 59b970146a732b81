"""Groups (TS-0001 9.6.13): member checks and the fan-out point ``fopt``."""

from __future__ import annotations

from typing import Any

from alzette.territory.onem2m import addressing
from alzette.territory.onem2m.constants import RSC
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.errors import M2MError
from alzette.territory.onem2m.models import Resource
from alzette.territory.onem2m.primitives import Request, Response

MIXED = 24
ABANDON_MEMBER, ABANDON_GROUP, SET_MIXED = 1, 2, 3


def validate_members(ctx: Context, group: Resource) -> None:
    """Check mid against mnm and mt (csy decides what an inconsistency does)."""
    members = list(dict.fromkeys(group.attrs["mid"]))  # duplicates are dropped
    if len(members) > group.attrs["mnm"]:
        raise M2MError(RSC.MAX_NUMBER_OF_MEMBER_EXCEEDED, "mid has more members than mnm")
    mt, csy = group.attrs["mt"], group.attrs.get("csy", ABANDON_MEMBER)
    kept = []
    for member in members:
        resource = addressing.find(member)
        if resource is None:
            raise M2MError(RSC.BAD_REQUEST, f"mid: {member} is not a resource of this CSE")
        if mt != MIXED and resource.ty != mt:
            if csy == ABANDON_GROUP:
                raise M2MError(
                    RSC.GROUP_MEMBER_TYPE_INCONSISTENT, f"mid: {member} is not of type {mt}"
                )
            if csy == SET_MIXED:
                mt = MIXED
            else:
                continue
        kept.append(member)
    group.attrs.update({"mid": kept, "cnm": len(kept), "mt": mt, "mtv": True})


def fan_out(ctx: Context, request: Request, group: Resource, rest: str) -> Response:
    """Run the request on every member; answer with the aggregated responses."""
    from alzette.territory.onem2m import cse

    responses: list[dict[str, Any]] = []
    for member in group.attrs.get("mid", []):
        target = f"{member.rstrip('/')}/{rest}" if rest else member
        sub_request = Request(
            op=request.op,
            to=target,
            fr=request.fr,
            rqi=request.rqi,
            rvi=request.rvi,
            ty=request.ty,
            pc=request.pc,
            rcn=request.rcn,
            drt=request.drt,
            fc=request.fc,
            principal=request.principal,
            binding=request.binding,
        )
        answer = cse.handle_nested(ctx, sub_request)
        primitive = answer.primitive()
        primitive["fr"] = target
        responses.append(primitive)
    return Response(rsc=RSC.OK, pc={"m2m:agr": {"m2m:rsp": responses}})
