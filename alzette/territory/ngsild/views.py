"""NGSI-LD HTTP endpoints (CIM 009 §6): thin adapters over the domain modules."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse

from alzette.territory.ngsild import (
    batch,
    discovery,
    documents,
    entities,
    ldcontexts,
    queries,
    subscriptions,
)
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.errors import NgsiLdError, bad_data, not_found
from alzette.territory.ngsild.geoquery import GeoQueryError, parse_geoquery
from alzette.territory.ngsild.http import Call, answer, empty, endpoint, flag, not_allowed
from alzette.territory.ngsild.query import QueryError, compile_q, parse_q

BASE = "/ngsi-ld/v1"
FORMATS = {"normalized", "concise", "keyValues", "simplified"}
OPTIONS = FORMATS | {"sysAttrs", "noOverwrite", "update", "replace"}


# -- /entities -------------------------------------------------------------------


@endpoint(body=True)
def entities_view(call: Call) -> HttpResponse:
    if call.request.method == "POST":
        call.require_write()
        entity_id = entities.create(_op(call), call.body)
        return empty(call, 201, {"Location": f"{BASE}/entities/{quote(entity_id, safe=':')}"})
    if call.request.method == "GET":
        return _query(call)
    return not_allowed(["GET", "POST"])


@endpoint(body=True)
def entity_view(call: Call, entity_id: str) -> HttpResponse:
    method = call.request.method
    if method == "GET":
        call.require_read()
        return answer(call, _render_one(call, entity_id))
    call.require_write()
    op = _op(call)
    if method == "PUT":
        entities.replace(op, entity_id, call.body)
    elif method == "PATCH":
        entities.merge(op, entity_id, call.body)
    elif method == "DELETE":
        entities.delete(op, entity_id)
    else:
        return not_allowed(["GET", "PUT", "PATCH", "DELETE"])
    return empty(call)


@endpoint(body=True)
def attrs_view(call: Call, entity_id: str) -> HttpResponse:
    method = call.request.method
    call.require_write()
    op = _op(call)
    if method == "POST":
        options = _options(call)
        outcome = entities.append(op, entity_id, call.body, no_overwrite="noOverwrite" in options)
    elif method == "PATCH":
        outcome = entities.update_attributes(op, entity_id, call.body)
    else:
        return not_allowed(["POST", "PATCH"])
    if outcome.not_updated:
        return answer(call, outcome.body(), 207)
    return empty(call)


@endpoint(body=True)
def attr_view(call: Call, entity_id: str, attr: str) -> HttpResponse:
    method = call.request.method
    call.require_write()
    op = _op(call)
    if method == "PATCH":
        entities.patch_attribute(op, entity_id, attr, call.body)
    elif method == "PUT":
        entities.replace_attribute(op, entity_id, attr, call.body)
    elif method == "DELETE":
        entities.delete_attribute(
            op,
            entity_id,
            attr,
            dataset_id=call.param("datasetId"),
            delete_all=flag(call.param("deleteAll")),
        )
    else:
        return not_allowed(["PATCH", "PUT", "DELETE"])
    return empty(call)


# -- helpers -------------------------------------------------------------------------


def _op(call: Call) -> entities.Op:
    return entities.Op(tenant=call.tenant, ctx=call.ctx, actor=call.caller.actor)


def _options(call: Call) -> set[str]:
    options = set(call.list_param("options") or [])
    unknown = options - OPTIONS
    if unknown:
        raise bad_data(f"unknown options: {', '.join(sorted(unknown))}")
    return options


def renderer(call: Call) -> rep.Renderer:
    """The representation asked by options/format, attrs, pick, omit and lang."""
    options = _options(call)
    fmt = call.param("format") or next((o for o in options if o in FORMATS), "normalized")
    if fmt not in FORMATS:
        raise bad_data(f"unknown format {fmt}")
    fmt = "keyValues" if fmt == "simplified" else fmt
    pick, omit = call.list_param("pick"), call.list_param("omit")
    if pick and omit:
        raise bad_data("pick and omit cannot be used together")
    attrs = call.list_param("attrs")
    return rep.Renderer(
        call.ctx,
        fmt=fmt,
        sys_attrs="sysAttrs" in options,
        attrs={call.ctx.expand(a) for a in attrs} if attrs else None,
        pick=set(pick) if pick else None,
        omit=set(omit) if omit else None,
        lang=call.param("lang"),
    )


def _render_one(call: Call, entity_id: str) -> Any:
    from alzette.territory.ngsild import store

    rep.check_entity_id(entity_id)
    row = store.get(call.tenant, entity_id)
    if row is None:
        raise not_found(f"entity {entity_id} not found")
    render = renderer(call)
    extra = documents.linked([row.entity_id], call.ctx)
    if call.accept == "application/geo+json":
        return _feature(call, row, render, extra)
    return _render(render, row, extra)


def _render(render: rep.Renderer, row: Any, extra: dict | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"scope": row.scope}
    if render.sys_attrs:  # formatting two dates per entity shows on pages of a thousand
        meta["createdAt"] = rep.iso(row.created_at)
        meta["modifiedAt"] = rep.iso(row.modified_at)
    body = row.body
    if extra and extra.get(row.entity_id):
        body = {**body, **extra[row.entity_id]}
    return render.entity(row.entity_id, row.types, body, meta)


def _feature(call: Call, row: Any, render: rep.Renderer, extra: dict | None) -> dict[str, Any]:
    """GeoJSON representation (§4.5.16): the geoproperty becomes the geometry."""
    name = call.param("geometryProperty") or "location"
    iri = call.ctx.expand(name)
    instances = row.body.get(iri, [])
    geometry = instances[0].get("value") if instances else None
    properties = _render(render, row, extra)
    properties.pop("id", None)
    return {"id": row.entity_id, "type": "Feature", "geometry": geometry,
            "properties": properties}  # fmt: skip


def _query(call: Call) -> HttpResponse:
    call.require_read()
    query = entity_query(call)
    render = renderer(call)
    query.sys_times = render.sys_attrs
    rows, total = queries.run(call.tenant, query)
    extra = documents.linked([row.entity_id for row in rows], call.ctx)
    headers = {}
    if total is not None:
        headers["NGSILD-Results-Count"] = str(total)
    if len(rows) == query.limit and query.limit:
        headers["Link"] = _next_link(call, query)
    if call.accept == "application/geo+json":
        features = [_feature(call, row, render, extra) for row in rows]
        return answer(call, {"type": "FeatureCollection", "features": features}, 200, headers)
    data = [_render(render, row, extra) for row in rows]
    response = answer(call, data, 200, {})
    for name, value in headers.items():
        if name == "Link":
            response["Link"] = response["Link"] + ", " + value
        else:
            response[name] = value
    return response


def _next_link(call: Call, query: queries.EntityQuery) -> str:
    params = call.request.GET.copy()
    params["offset"] = str(query.offset + query.limit)
    return f'<{call.request.path}?{params.urlencode()}>; rel="next"'


def entity_query(call: Call, *, require_filter: bool = True) -> queries.EntityQuery:
    """The EntityQuery of a request's query parameters (§6.4.3.2)."""
    ctx = call.ctx
    limit, offset = queries.check_paging(
        call.param("limit"), call.param("offset"), flag(call.param("count"))
    )
    types = parse_types(call.param("type"), ctx.expand)
    attrs = call.list_param("attrs")
    query = queries.EntityQuery(
        ids=call.list_param("id"),
        id_pattern=queries.check_id_pattern(call.param("idPattern"))
        if call.param("idPattern")
        else None,
        types=types,
        attrs={ctx.expand(a) for a in attrs} if attrs else None,
        limit=limit,
        offset=offset,
        count=flag(call.param("count")),
    )
    if query.ids:
        for entity_id in query.ids:
            rep.check_entity_id(entity_id)
    q_text = call.param("q")
    if q_text is not None:
        query.q = compile_query(q_text, ctx.expand)
    geo = geo_query(call.param("georel"), call.param("geometry"), call.param("coordinates"),
                    call.param("geoproperty"))  # fmt: skip
    if geo is not None:
        query.geo = geo
        query.geoproperty = ctx.expand(geo.geoproperty)
    if call.param("scopeQ") or call.param("csf"):
        raise NgsiLdError("OperationNotSupported", "scopeQ and csf are not supported")
    if require_filter and not (types or attrs or query.q or query.geo or query.ids
                               or query.id_pattern):  # fmt: skip
        raise bad_data("a query needs at least one of type, attrs, q, id, idPattern or georel")
    return query


def compile_query(text: str, expand: Any) -> Any:
    try:
        return compile_q(parse_q(text), expand)
    except QueryError as exc:
        raise bad_data(f"invalid q: {exc}") from None


def geo_query(georel: Any, geometry: Any, coordinates: Any, geoproperty: Any) -> Any:
    try:
        return parse_geoquery(georel, geometry, coordinates, geoproperty)
    except GeoQueryError as exc:
        raise bad_data(f"invalid geo-query: {exc}") from None


def parse_types(text: str | None, expand: Any) -> list[list[str]] | None:
    """The type selector (§4.17): ``,`` or ``|`` is OR, ``;`` is AND, parentheses group."""
    if text is None:
        return None
    groups = []
    for alternative in text.replace("|", ",").split(","):
        names = [n.strip().strip("()") for n in alternative.split(";")]
        if not all(names):
            raise bad_data(f"malformed type selector {text!r}")
        groups.append([expand(rep.check_name(n)) for n in names])
    return groups


# -- /jsonldContexts -----------------------------------------------------------------


@endpoint(body=True, document=True)
def contexts_view(call: Call) -> HttpResponse:
    if call.request.method == "POST":
        call.require_write()
        base = f"{call.request.scheme}://{call.request.get_host()}"
        row = ldcontexts.add(call.body, base, call.param("url"))
        return empty(call, 201, {"Location": f"{BASE}/jsonldContexts/{row.context_id}"})
    if call.request.method == "GET":
        rows = ldcontexts.listing(call.param("kind"))
        if flag(call.param("details")):
            return answer(call, [ldcontexts.details(r) for r in rows])
        return answer(call, [r.url for r in rows])
    return not_allowed(["GET", "POST"])


@endpoint()
def context_view(call: Call, context_id: str) -> HttpResponse:
    if call.request.method == "GET":
        row = ldcontexts.get(context_id)
        if flag(call.param("details")):
            return answer(call, ldcontexts.details(row))
        return HttpResponse(json.dumps(row.document), content_type="application/ld+json")
    if call.request.method == "DELETE":
        call.require_write()
        ldcontexts.delete(context_id)
        return empty(call)
    return not_allowed(["GET", "DELETE"])


# -- /entityOperations -----------------------------------------------------------------

_BATCH_MODES = {"create", "upsert", "update", "merge", "delete", "query"}


@endpoint(body=True)
def batch_view(call: Call, operation: str) -> HttpResponse:
    if call.request.method != "POST":
        return not_allowed(["POST"])
    if operation not in _BATCH_MODES:
        raise not_found(f"no entity operation {operation}")
    if operation == "query":
        return _batch_query(call)
    call.require_write()
    op = _op(call)
    if operation == "delete":
        result = batch.delete(op, call.body)
        return _batch_answer(call, result, 204, result.success)
    options = _options(call)
    mode = operation
    if operation == "upsert":
        mode = "upsert-replace" if "replace" in options else "upsert-update"
    elif operation == "update" and "noOverwrite" in options:
        mode = "update-noOverwrite"
    result = batch.write(op, call.body, mode)
    if operation == "create":
        return _batch_answer(call, result, 201, result.success)
    if operation == "upsert" and result.created:
        return _batch_answer(call, result, 201, result.created)
    return _batch_answer(call, result, 204, None)


def _batch_answer(
    call: Call, result: batch.BatchResult, status: int, body: list[str] | None
) -> HttpResponse:
    if result.errors:
        return answer(call, result.body(), 207)
    if status == 204 or body is None:
        return empty(call)
    return answer(call, body, status)


def _batch_query(call: Call) -> HttpResponse:
    """POST /entityOperations/query (§5.7.2 with a Query body)."""
    call.require_read()
    body = call.body
    if not isinstance(body, dict) or body.get("type") != "Query":
        raise bad_data('the payload must be a Query object ("type": "Query")')
    query = body_query(call, body)
    rows, total = queries.run(call.tenant, query)
    render = renderer(call)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    return answer(call, [_render(render, r) for r in rows], 200, headers)


def body_query(call: Call, body: dict[str, Any]) -> queries.EntityQuery:
    """An EntityQuery from a Query payload (§5.2.23), paging from the URL."""
    ctx = call.ctx
    limit, offset = queries.check_paging(
        call.param("limit"), call.param("offset"), flag(call.param("count"))
    )
    query = queries.EntityQuery(limit=limit, offset=offset, count=flag(call.param("count")))
    selectors = body.get("entities")
    if selectors is not None:
        if not isinstance(selectors, list) or len(selectors) != 1:
            raise NgsiLdError("OperationNotSupported", "one EntitySelector per query is supported")
        selector = selectors[0]
        if not isinstance(selector, dict):
            raise bad_data("an EntitySelector is an object")
        query.types = parse_types(selector.get("type"), ctx.expand)
        if selector.get("id"):
            query.ids = [rep.check_entity_id(selector["id"])]
        if selector.get("idPattern"):
            query.id_pattern = queries.check_id_pattern(selector["idPattern"])
    attrs = body.get("attrs")
    if attrs is not None:
        if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
            raise bad_data("attrs is a list of attribute names")
        query.attrs = {ctx.expand(a) for a in attrs}
    if body.get("q") is not None:
        query.q = compile_query(str(body["q"]), ctx.expand)
    geo = body.get("geoQ")
    if geo is not None:
        if not isinstance(geo, dict):
            raise bad_data("geoQ is an object")
        query.geo = geo_query(geo.get("georel"), geo.get("geometry"), geo.get("coordinates"),
                              geo.get("geoproperty"))  # fmt: skip
        if query.geo is not None:
            query.geoproperty = ctx.expand(query.geo.geoproperty)
    return query


# -- /types, /attributes ---------------------------------------------------------------------


@endpoint()
def types_view(call: Call) -> HttpResponse:
    call.require_read()
    return answer(call, discovery.types(call.tenant, call.ctx, details=flag(call.param("details"))))


@endpoint()
def type_view(call: Call, type_name: str) -> HttpResponse:
    call.require_read()
    return answer(call, discovery.type_info(call.tenant, call.ctx, type_name))


@endpoint()
def attributes_view(call: Call) -> HttpResponse:
    call.require_read()
    details = flag(call.param("details"))
    return answer(call, discovery.attributes(call.tenant, call.ctx, details=details))


@endpoint()
def attribute_view(call: Call, attr: str) -> HttpResponse:
    call.require_read()
    return answer(call, discovery.attribute_info(call.tenant, call.ctx, attr))


# -- /subscriptions --------------------------------------------------------------------------


@endpoint(body=True)
def subscriptions_view(call: Call) -> HttpResponse:
    if call.request.method == "POST":
        call.require_write()
        sub_id = subscriptions.create(_op(call), call.body)
        return empty(call, 201, {"Location": f"{BASE}/subscriptions/{quote(sub_id, safe=':')}"})
    if call.request.method == "GET":
        call.require_read()
        count = flag(call.param("count"))
        limit, offset = queries.check_paging(call.param("limit"), call.param("offset"), count)
        rows, total = subscriptions.listing(call.tenant, limit, offset)
        headers = {"NGSILD-Results-Count": str(total)} if count else {}
        return answer(call, [subscriptions.render(r, call.ctx) for r in rows], 200, headers)
    return not_allowed(["GET", "POST"])


@endpoint(body=True)
def subscription_view(call: Call, sub_id: str) -> HttpResponse:
    method = call.request.method
    if method == "GET":
        call.require_read()
        return answer(call, subscriptions.render(subscriptions.get(call.tenant, sub_id), call.ctx))
    call.require_write()
    if method == "PATCH":
        subscriptions.update(_op(call), sub_id, call.body)
    elif method == "DELETE":
        subscriptions.delete(_op(call), sub_id)
    else:
        return not_allowed(["GET", "PATCH", "DELETE"])
    return empty(call)
