"""The CSE's request handling: a request primitive in, a response primitive out.

``handle`` is the only entry point bindings use. Each request runs in one
transaction of the territory database: a refused request leaves nothing behind
(no half-created resource, no notification). Every failure becomes a oneM2M
response with its status code; an unexpected one is logged and answered 5000
without details.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from prometheus_client import Counter

from alzette.core.repositories import TERRITORY
from alzette.territory.onem2m import (
    access,
    addressing,
    config,
    discovery,
    events,
    groups,
    instances,
    notifications,
    security,
    subscriptions,
    tree,
    types,
)
from alzette.territory.onem2m.constants import (
    RCN_ALLOWED,
    RCN_DEFAULT,
    RELEASES,
    RSC,
    EventType,
    Operation,
    Permission,
)
from alzette.territory.onem2m.constants import ResourceType as T
from alzette.territory.onem2m.context import Context
from alzette.territory.onem2m.errors import M2MError, bad_request, no_privilege, not_allowed
from alzette.territory.onem2m.models import Credential, Resource
from alzette.territory.onem2m.primitives import Request, Response

logger = logging.getLogger(__name__)

# For the hypervision's supervision: ingest rate and errors, by binding.
REQUESTS = Counter(
    "alzette_onem2m_requests_total", "oneM2M requests handled", ["binding", "op", "rsc"]
)
INSTANCES = Counter("alzette_onem2m_instances_total", "contentInstances created", ["binding"])

#: Attributes every type keeps in columns rather than in ``attrs``.
_COLUMNS = ("rn", "et", "lbl", "acpi")


def handle(request: Request, deferred: list[Context] | None = None) -> Response:
    """Handle one request; never raises.

    A binding that handles a batch of requests inside one transaction of its own
    (each request then runs in a savepoint) passes ``deferred``: the work due
    after the commit (notifications, events) is appended there, for the binding
    to run with ``after_commit`` once its transaction has committed.
    """
    response = _handle(request, deferred)
    REQUESTS.labels(request.binding, int(request.op), int(response.rsc)).inc()
    return response


def after_commit(contexts: list[Context]) -> None:
    """Run what deferred requests left for after the commit."""
    for ctx in contexts:
        _after_commit(ctx)


def _handle(request: Request, deferred: list[Context] | None) -> Response:
    ctx = None
    try:
        if request.rvi is not None and request.rvi not in RELEASES:
            raise M2MError(RSC.RELEASE_VERSION_NOT_SUPPORTED, f"release {request.rvi} unknown")
        originator = security.authenticate(request)
        ctx = Context(request=request, originator=originator)
        with transaction.atomic(using=TERRITORY):
            response = _dispatch(ctx, request)
            _write_ledger(ctx)
    except M2MError as exc:
        return error(request, exc.rsc, exc.dbg)
    except IntegrityError:
        # Two requests raced for one name: the other one won.
        return error(request, RSC.CONFLICT, "a resource with this name or id exists already")
    except Exception:
        logger.exception("oneM2M request %s failed", request.rqi)
        return error(request, RSC.INTERNAL_SERVER_ERROR, "internal server error")
    if deferred is None:
        _after_commit(ctx)
    else:
        deferred.append(ctx)
    return _finish(request, response)


def handle_nested(ctx: Context, request: Request) -> Response:
    """Handle a request inside another's transaction (a group member's), in a
    savepoint so that one member's failure undoes only its own work."""
    try:
        with transaction.atomic(using=TERRITORY):
            nested = Context(request=request, originator=ctx.originator, now=ctx.now)
            response = _dispatch(nested, request)
    except M2MError as exc:
        return error(request, exc.rsc, exc.dbg)
    except IntegrityError:
        return error(request, RSC.CONFLICT, "a resource with this name or id exists already")
    ctx.notified |= nested.notified
    ctx.created_instances += nested.created_instances
    ctx.ledger += nested.ledger
    return _finish(request, response)


def error(request: Request, rsc: int, dbg: str) -> Response:
    return _finish(request, Response(rsc=rsc, pc={"m2m:dbg": dbg}))


def _finish(request: Request, response: Response) -> Response:
    response.rqi = request.rqi
    response.rvi = request.rvi
    response.to = request.fr
    response.fr = config.csi()
    return response


def _after_commit(ctx: Context | None) -> None:
    if ctx is None:
        return
    if ctx.created_instances:
        INSTANCES.labels(ctx.request.binding).inc(len(ctx.created_instances))
    if ctx.notified:
        notifications.kick()
    for instance in ctx.created_instances:
        events.content_instance_created(instance)


def _write_ledger(ctx: Context) -> None:
    if not ctx.ledger:
        return
    from alzette.ledger import services as ledger

    for kind, ri, payload in ctx.ledger:
        payload = {**payload, "originator": ctx.originator}
        ledger.record(kind, "system:onem2m", f"onem2m:{ri}", payload)


def _dispatch(ctx: Context, request: Request) -> Response:
    # A container receiving an instance is locked as it is found: its counters
    # (cni, cbs, st) are read and written by one writer at a time.
    lock = request.op == Operation.CREATE and request.ty == T.CIN
    target = addressing.resolve(request.to, lock=lock)
    if target.virtual == "fopt":
        if not access.allowed(ctx, target.resource, _permission(request)):
            raise no_privilege()
        return groups.fan_out(ctx, request, target.resource, target.rest)
    handler = {
        Operation.CREATE: _create,
        Operation.RETRIEVE: _retrieve,
        Operation.UPDATE: _update,
        Operation.DELETE: _delete,
        Operation.NOTIFY: _notify,
    }[request.op]
    return handler(ctx, request, target)


def _permission(request: Request) -> Permission:
    if request.op == Operation.RETRIEVE and request.fc.discovery:
        return Permission.DISCOVER
    return {
        Operation.CREATE: Permission.CREATE,
        Operation.RETRIEVE: Permission.RETRIEVE,
        Operation.UPDATE: Permission.UPDATE,
        Operation.DELETE: Permission.DELETE,
        Operation.NOTIFY: Permission.NOTIFY,
    }[request.op]


def _rcn(request: Request, operation: str) -> int:
    rcn = RCN_DEFAULT[operation] if request.rcn is None else request.rcn
    if rcn not in RCN_ALLOWED[operation]:
        raise bad_request(f"rcn={rcn} is not valid for {operation}")
    return rcn


def _body(request: Request, expected: str | None) -> tuple[str, dict[str, Any]]:
    """The one root element of the content and its attributes."""
    pc = request.pc
    if not isinstance(pc, dict) or len(pc) != 1:
        raise bad_request('the content must be one resource: {"m2m:...": {...}}')
    ((root, values),) = pc.items()
    if expected is not None and root != expected:
        raise bad_request(f"expected {expected}, got {root}")
    if not isinstance(values, dict):
        raise bad_request(f"{root}: expected an object of attributes")
    return root, values


# --- Create ------------------------------------------------------------------


def _create(ctx: Context, request: Request, target: addressing.Target) -> Response:
    if target.virtual:
        raise not_allowed(f"cannot create under the virtual resource {target.virtual}")
    if request.ty is None:
        raise bad_request("ty is mandatory to create (Content-Type: application/json;ty=N)")
    parent = target.resource
    kind = types.kind_of(request.ty)
    rcn = _rcn(request, "create")
    if not types.may_contain(parent.ty, kind.ty):
        raise M2MError(
            RSC.INVALID_CHILD_RESOURCE_TYPE,
            f"a {parent.tpe} cannot hold a resource of type {kind.ty}",
        )
    root, raw = _body(request, None if kind.ty == T.FCNT else kind.tpe)
    if kind.ty == T.FCNT and (root.startswith("m2m:") or ":" not in root):
        raise bad_request('a flexContainer\'s root is its specialisation: {"ns:name": {...}}')
    values = kind.check_attributes(raw, "create")
    # Registration has its own rules; subscribing needs RETRIEVE on the target,
    # checked by the subscription (4101), as TS-0001 10.2.11.1 says.
    exempt = kind.ty in (T.AE, T.SUB)
    if not exempt and not access.allowed(ctx, parent, Permission.CREATE):
        raise no_privilege(f"{ctx.originator} may not create under {parent.path}")
    resource = _new_resource(ctx, kind, parent, root, values)
    kind.prepare(ctx, parent, resource, values)
    if "rn" in values and Resource.objects.filter(pi=parent.ri, rn=resource.rn).exists():
        raise M2MError(RSC.CONFLICT, f"{parent.path} already has a child named {resource.rn}")
    # A generated name is random: the unique constraint is the check (IntegrityError: 4105).
    resource.save(force_insert=True)
    kind.after_create(ctx, parent, resource)
    subscriptions.event(ctx, parent, EventType.CREATE_CHILD, resource)
    return Response(rsc=RSC.CREATED, pc=_created_content(rcn, kind, resource), location=resource.ri)


def _new_resource(
    ctx: Context, kind: types.ResourceKind, parent: Resource, root: str, values: dict
) -> Resource:
    ri = kind.new_ri(ctx, values)
    rn = values.get("rn") or ri
    acpi = values.get("acpi", [])
    for reference in acpi:
        if addressing.find(reference, ty=T.ACP) is None:
            raise bad_request(f"acpi: {reference} is not an accessControlPolicy")
    attrs = {k: v for k, v in values.items() if k not in _COLUMNS}
    if "cr" in attrs:  # asked for with null: the CSE fills in the creator
        attrs["cr"] = ctx.originator
    if kind.ty == T.AE and isinstance(ctx.request.principal, Credential):
        attrs["_cred"] = ctx.request.principal.prefix
    return Resource(
        ri=ri,
        ty=kind.ty,
        rn=rn,
        pi=parent.ri,
        path=f"{parent.path}/{rn}",
        tpe=root,
        ct=ctx.now,
        lt=ctx.now,
        et=types._parse_expiry(ctx, values),
        cr=ctx.originator,
        owner=parent.owner if parent.ty != T.CSEBASE else ctx.originator,
        lbl=values.get("lbl", []),
        acpi=acpi,
        attrs=attrs,
    )


def _created_content(rcn: int, kind: types.ResourceKind, resource: Resource) -> Any:
    if rcn == 0:
        return None
    if rcn == 2:
        return {"m2m:uri": resource.path}
    representation = kind.represent(resource)
    if rcn == 3:
        return {"m2m:rce": {resource.tpe: representation, "uri": resource.path}}
    return {resource.tpe: representation}


# --- Retrieve ----------------------------------------------------------------


def _virtual_instance(ctx: Context, target: addressing.Target, permission: Permission) -> Resource:
    # The container's rights first: an outsider learns nothing, not even emptiness.
    if not access.allowed(ctx, target.resource, permission):
        raise no_privilege(f"{ctx.originator} may not access {target.resource.path}")
    instance = instances.latest(target.resource, oldest=target.virtual == "ol")
    if instance is None:
        raise M2MError(RSC.NOT_FOUND, f"the container {target.resource.path} is empty")
    return instance


def _retrieve(ctx: Context, request: Request, target: addressing.Target) -> Response:
    resource = (
        _virtual_instance(ctx, target, _permission(request)) if target.virtual else target.resource
    )
    if request.fc.discovery:
        if not access.allowed(ctx, resource, Permission.DISCOVER):
            raise no_privilege(f"{ctx.originator} may not discover under {resource.path}")
        rcn = _rcn(request, "discovery")
        found, partial = discovery.discover(ctx, resource, request.fc)
        response = Response(rsc=RSC.OK, pc=discovery.references(found, rcn, request.drt))
        if partial:
            response.cnst, response.cnot = 2, request.fc.ofst + len(found)
        return response
    if not access.allowed(ctx, resource, Permission.RETRIEVE):
        raise no_privilege(f"{ctx.originator} may not retrieve {resource.path}")
    rcn = _rcn(request, "retrieve")
    return Response(rsc=RSC.OK, pc=discovery.content(ctx, resource, rcn, request))


# --- Update ------------------------------------------------------------------


def _update(ctx: Context, request: Request, target: addressing.Target) -> Response:
    if target.virtual:
        raise not_allowed(f"{target.virtual} cannot be updated")
    resource = Resource.objects.select_for_update().get(ri=target.resource.ri)
    kind = types.kind_of(resource.ty)
    if not kind.updatable:
        raise not_allowed(f"a {resource.tpe} cannot be updated")
    rcn = _rcn(request, "update")
    _root, raw = _body(request, resource.tpe)
    values = kind.check_attributes(raw, "update")
    if not access.allowed(ctx, resource, Permission.UPDATE):
        raise no_privilege(f"{ctx.originator} may not update {resource.path}")
    for reference in values.get("acpi") or []:
        if addressing.find(reference, ty=T.ACP) is None:
            raise bad_request(f"acpi: {reference} is not an accessControlPolicy")
    kind.apply_update(ctx, resource, values)
    resource.lt = ctx.now
    if resource.ty in (T.CNT, T.FCNT):
        resource.st += 1
    resource.save()
    representation = kind.represent(resource)
    modified = {k: representation.get(k) for k in values}
    subscriptions.event(ctx, resource, EventType.UPDATE, resource, modified)
    content = None
    if rcn == 1:
        content = {resource.tpe: representation}
    elif rcn == 9:
        content = {resource.tpe: modified}
    return Response(rsc=RSC.UPDATED, pc=content)


# --- Delete ------------------------------------------------------------------


def _delete(ctx: Context, request: Request, target: addressing.Target) -> Response:
    resource = (
        _virtual_instance(ctx, target, Permission.DELETE) if target.virtual else target.resource
    )
    if resource.ty == T.CSEBASE:
        raise not_allowed("the CSEBase cannot be deleted")
    if not access.allowed(ctx, resource, Permission.DELETE):
        raise no_privilege(f"{ctx.originator} may not delete {resource.path}")
    rcn = _rcn(request, "delete")
    content = None if rcn == 0 else discovery.content(ctx, resource, rcn, request)
    tree.delete(ctx, resource)
    return Response(rsc=RSC.DELETED, pc=content)


# --- Notify ------------------------------------------------------------------


def _notify(ctx: Context, request: Request, target: addressing.Target) -> Response:
    """A notification addressed to an AE registered here is forwarded to its poa."""
    resource = target.resource
    if target.virtual or resource.ty != T.AE:
        raise not_allowed("notifications are accepted for registered AEs only")
    if not access.allowed(ctx, resource, Permission.NOTIFY):
        raise no_privilege(f"{ctx.originator} may not notify {resource.path}")
    failure = notifications.send_now(resource.ri, request.pc or {})
    if failure:
        raise M2MError(RSC.TARGET_NOT_REACHABLE, failure)
    return Response(rsc=RSC.OK)


# --- Batches (the MQTT binding's ingest) ---------------------------------------


def handle_batch(requests: list[Request], deferred: list[Context]) -> list[Response]:
    """Handle requests that arrived together, inside the caller's transaction.

    contentInstances created in the same container are written together (one
    lock, one insert, one update of the container's counters, its subscriptions
    read once); every other request goes through ``handle``. Answers keep the
    order of the requests; one request's refusal touches no other.
    """
    responses: list[Response | None] = [None] * len(requests)
    groups: dict[str, list[int]] = {}
    for index, request in enumerate(requests):
        if (
            request.op == Operation.CREATE
            and request.ty == T.CIN
            and not request.fc.has_conditions()
        ):
            groups.setdefault(request.to, []).append(index)
        else:
            responses[index] = handle(request, deferred)
    for to, indexes in groups.items():
        try:
            with transaction.atomic(using=TERRITORY):
                answered = _create_instances(to, [requests[i] for i in indexes], deferred)
        except M2MError as exc:
            answered = [error(requests[i], exc.rsc, exc.dbg) for i in indexes]
        except Exception:
            logger.exception("a batch of contentInstances for %s failed", to)
            answered = [
                error(requests[i], RSC.INTERNAL_SERVER_ERROR, "internal server error")
                for i in indexes
            ]
        for index, response in zip(indexes, answered, strict=True):
            responses[index] = response
    return responses  # type: ignore[return-value]


def _create_instances(to: str, requests: list[Request], deferred: list[Context]) -> list[Response]:
    target = addressing.resolve(to, lock=True)
    container = target.resource
    if target.virtual or container.ty != T.CNT:
        # Not a plain container: the general path says what is wrong, one by one.
        return [handle(request, deferred) for request in requests]
    kind = types.kind_of(T.CIN)
    answers: list[Response | None] = [None] * len(requests)
    created: list[tuple[int, Context, Resource, int]] = []
    taken = _names_taken(container, requests)
    for index, request in enumerate(requests):
        try:
            ctx, resource, rcn = _prepare_instance(kind, container, request, taken)
        except M2MError as exc:
            answers[index] = error(request, exc.rsc, exc.dbg)
            continue
        created.append((index, ctx, resource, rcn))
    if created:
        Resource.objects.bulk_create([resource for _, _, resource, _ in created])
        first_ctx = created[0][1]
        instances.added_many(first_ctx, container, [r for _, _, r, _ in created])
        subs = subscriptions.subscribers(container)
        for index, ctx, resource, rcn in created:
            if subs:
                subscriptions.event(ctx, container, EventType.CREATE_CHILD, resource, subs=subs)
            ctx.created_instances.append(resource)
            deferred.append(ctx)
            content = _created_content(rcn, kind, resource)
            answers[index] = _finish(
                ctx.request, Response(rsc=RSC.CREATED, pc=content, location=resource.ri)
            )
    for request, answer in zip(requests, answers, strict=True):
        REQUESTS.labels(request.binding, int(request.op), int(answer.rsc)).inc()
    return answers  # type: ignore[return-value]


def _names_taken(container: Resource, requests: list[Request]) -> set[str]:
    """Names asked for in the batch that the container already holds (one query)."""
    wanted = set()
    for request in requests:
        values = (request.pc or {}).get(types.kind_of(T.CIN).tpe)
        if isinstance(values, dict) and isinstance(values.get("rn"), str):
            wanted.add(values["rn"])
    if not wanted:
        return set()
    return set(Resource.objects.filter(pi=container.ri, rn__in=wanted).values_list("rn", flat=True))


def _prepare_instance(
    kind: types.ResourceKind, container: Resource, request: Request, taken: set[str]
) -> tuple[Context, Resource, int]:
    if request.rvi is not None and request.rvi not in RELEASES:
        raise M2MError(RSC.RELEASE_VERSION_NOT_SUPPORTED, f"release {request.rvi} unknown")
    ctx = Context(request=request, originator=security.authenticate(request))
    rcn = _rcn(request, "create")
    _root, raw = _body(request, kind.tpe)
    values = kind.check_attributes(raw, "create")
    if not access.allowed(ctx, container, Permission.CREATE):
        raise no_privilege(f"{ctx.originator} may not create under {container.path}")
    if "rn" in values:
        if values["rn"] in taken:
            raise M2MError(RSC.CONFLICT, f"{container.path} already has {values['rn']}")
        taken.add(values["rn"])
    resource = _new_resource(ctx, kind, container, kind.tpe, values)
    kind.prepare(ctx, container, resource, values)
    return ctx, resource, rcn
