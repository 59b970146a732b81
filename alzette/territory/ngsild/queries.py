"""Entity queries (CIM 009 §5.7.2): narrow in SQL, then check exactly.

Index tables narrow the candidate rows: types (``EntityType``), simple
conditions of ``q`` (``AttributeIndex``), the bounding box of a geo-query
(``GeoIndex``). Each candidate's document is then checked with the exact
``q`` and geo predicates, so an index can only make a query faster, never
change its answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connections
from django.db.models import Q, QuerySet

from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.errors import bad_data
from alzette.territory.ngsild.geoquery import GeoQuery
from alzette.territory.ngsild.models import AttributeIndex, Entity, EntityType, GeoIndex
from alzette.territory.ngsild.query import CompiledQ, Condition

DB = "territory"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
_CHUNK = 500
_ID_CHUNK = 2000  # ids per query: under SQLite's limit of bound parameters


@dataclass
class EntityQuery:
    """A query with every term already expanded to IRIs."""

    ids: list[str] | None = None
    id_pattern: str | None = None
    types: list[list[str]] | None = None  # OR of AND groups of type IRIs
    attrs: set[str] | None = None
    q: CompiledQ | None = None
    geo: GeoQuery | None = None
    geoproperty: str = "https://uri.etsi.org/ngsi-ld/location"
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False
    sys_times: bool = True  # whether answers need createdAt/modifiedAt


def check_paging(limit: Any, offset: Any, count: bool) -> tuple[int, int]:
    """limit and offset from a request, checked against the broker's bounds."""
    try:
        lim = DEFAULT_LIMIT if limit in (None, "") else int(limit)
        off = 0 if offset in (None, "") else int(offset)
    except (TypeError, ValueError):
        raise bad_data("limit and offset must be integers") from None
    if lim < 0 or off < 0:
        raise bad_data("limit and offset must not be negative")
    if lim > MAX_LIMIT:
        raise bad_data(f"limit must not exceed {MAX_LIMIT}")
    if lim == 0 and not count:
        raise bad_data("limit=0 is only allowed with count=true")
    return lim, off


def check_id_pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise bad_data(f"idPattern is not a valid regular expression: {exc}") from None
    return pattern


def run(tenant: str, query: EntityQuery) -> tuple[list[Entity], int | None]:
    """The page of matching entities, and the total when ``count`` is asked."""
    rows = _narrow(tenant, query).order_by("pk")
    exact = query.q is not None or query.geo is not None or query.id_pattern is not None
    if not exact:
        total = rows.count() if query.count else None
        return list(rows[query.offset : query.offset + query.limit]), total
    page: list[Entity] = []
    total = 0
    for row in _matching(rows, query):
        if query.offset <= total < query.offset + query.limit:
            page.append(row)
        total += 1
        if not query.count and total >= query.offset + query.limit:
            break
    return page, (total if query.count else None)


@dataclass
class Row:
    """An entity as read for a query: the fields answers need, without a model instance."""

    pk: int
    entity_id: str
    types: list[str]
    body: dict[str, list]
    scope: list[str] | None
    created_at: Any = None  # read only when the query needs them (``EntityQuery.sys_times``)
    modified_at: Any = None


_FIELDS = ("pk", "entity_id", "types", "body", "scope", "created_at", "modified_at")


def _matching(rows: QuerySet[Entity], query: EntityQuery) -> Iterator[Row]:
    pattern = re.compile(query.id_pattern) if query.id_pattern else None
    times = query.q is not None and any(t in query.q.q.text for t in ("createdAt", "modifiedAt"))
    located = _located(rows, query) if query.geo is not None else None
    known = located[1] if located is not None else set()
    fields = _FIELDS if times or query.sys_times else _FIELDS[:-2]
    for row in _chunks(rows.values_list(*fields), located):
        if pattern is not None and not pattern.fullmatch(row.entity_id):
            continue
        if query.q is not None and not query.q.matches(document(row, times=times)):
            continue
        if query.geo is not None and row.pk not in known and not _geo_matches(row, query):
            continue
        yield row


def _chunks(rows: QuerySet, located: tuple[list[int], set[int]] | None) -> Iterator[Row]:
    """Candidates in primary-key order, a chunk at a time: those of ``rows``, or those
    of ``rows`` among ``located``'s list when the geo index settled it."""
    if located is not None:
        pks = located[0]
        for start in range(0, len(pks), _ID_CHUNK):
            yield from _read(_among(rows, pks[start : start + _ID_CHUNK]))
        return
    last = 0
    while True:
        chunk = _read(rows.filter(pk__gt=last)[:_CHUNK])
        yield from chunk
        if len(chunk) < _CHUNK:
            return
        last = chunk[-1].pk


def _read(rows: QuerySet) -> list[Row]:
    """The rows of a ``values_list`` of ``_FIELDS``. Without the dates, through a plain
    cursor: Django's per-value converters cost as much as the query on large pages."""
    if len(rows.query.values_select) == len(_FIELDS):
        return [Row(*values) for values in rows]  # dates: the backend's own converters
    sql, params = rows.query.get_compiler(DB).as_sql()
    with connections[DB].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return [
        Row(pk, entity_id, _json(types), _json(body), _json(scope))
        for pk, entity_id, types, body, scope in found
    ]


def _json(value: Any) -> Any:
    # Both backends hand JSON columns over as text (Django sets psycopg so for jsonb).
    return json.loads(value) if isinstance(value, str | bytes) else value


def _among(rows: QuerySet, pks: list[int]) -> QuerySet:
    if connections[DB].vendor == "postgresql":
        # One array literal: psycopg would otherwise scan the SQL for thousands of %s, or
        # adapt a list element by element.
        array = "{" + ",".join(map(str, pks)) + "}"
        where = f'"{Entity._meta.db_table}"."id" = ANY(%s::bigint[])'
        return rows.extra(where=[where], params=[array])  # noqa: S610
    return rows.filter(pk__in=pks)


def _located(rows: QuerySet[Entity], query: EntityQuery) -> tuple[list[int], set[int]] | None:
    """Settle the geo-query from the index where it can: (the candidates' primary keys in
    order, those known to match), or None to check every candidate's geometry.

    The index keeps a geometry of a single position (a Point) as a box of zero size,
    so its coordinates answer without the entity's body; any other box leaves its
    entity to the exact check. The boxes are read alone, then the other conditions
    are checked on the ids kept: PostgreSQL cannot estimate how many rows a box
    overlap keeps, guesses few, and would probe every other index once per box.
    """
    if not query.geo.decides_points:
        return None
    boxes = _box_rows(query.geoproperty, query.geo.search_bbox())
    sql, params = boxes.values_list(
        "entity_id", "min_x", "min_y", "max_x", "max_y"
    ).query.sql_with_params()
    with connections[DB].cursor() as cursor:  # plain tuples: thousands of rows, five numbers each
        cursor.execute(sql, params)
        table = np.array(cursor.fetchall(), dtype=float).reshape(-1, 5)
    ids = table[:, 0].astype(np.int64)
    point = (table[:, 1] == table[:, 3]) & (table[:, 2] == table[:, 4])
    verdict = query.geo.points_match(table[:, 1], table[:, 2])
    known = ids[point & verdict]
    candidates = np.union1d(known, ids[~point])  # sorted, without repeats
    return candidates.tolist(), set(known.tolist())


def document(row: Entity | Row, *, times: bool = True) -> dict[str, Any]:
    """The stored form the q evaluator reads (system times only when q names them)."""
    found = {"id": row.entity_id, "type": row.types, **row.body}
    if times:
        found["createdAt"] = rep.iso(row.created_at)
        found["modifiedAt"] = rep.iso(row.modified_at)
    return found


def _geo_matches(row: Entity | Row, query: EntityQuery) -> bool:
    instances = row.body.get(query.geoproperty, [])
    return any(
        i.get("type") == rep.GEOPROPERTY and query.geo.matches(i["value"]) for i in instances
    )


def _narrow(tenant: str, query: EntityQuery) -> QuerySet[Entity]:
    """Candidates narrowed by every index; the box of a geo-query only when the index
    cannot settle it (``_located`` reads the boxes otherwise)."""
    rows = Entity.objects.using(DB).filter(tenant=tenant)
    if query.ids:
        rows = rows.filter(entity_id__in=query.ids)
    if query.types:
        rows = rows.filter(_types_filter(tenant, query.types))
    if query.attrs:
        having = AttributeIndex.objects.using(DB).filter(attribute__in=query.attrs)
        rows = rows.filter(pk__in=having.values("entity_id"))
    for condition in query.q.prefilter() if query.q is not None else []:
        rows = rows.filter(pk__in=_condition_rows(condition).values("entity_id"))
    if query.geo is not None and not query.geo.decides_points:
        box = _box_rows(query.geoproperty, query.geo.search_bbox())
        rows = rows.filter(pk__in=box.values("entity_id"))
    return rows


def _types_filter(tenant: str, groups: list[list[str]]) -> Q:
    any_group = Q(pk__in=[])
    for group in groups:
        every = Q()
        for iri in group:
            typed = EntityType.objects.using(DB).filter(tenant=tenant, type_iri=iri)
            every &= Q(pk__in=typed.values("entity_id"))
        any_group |= every
    return any_group


_OPS = {"==": "", ">": "__gt", ">=": "__gte", "<": "__lt", "<=": "__lte"}


def _condition_rows(condition: Condition) -> QuerySet[AttributeIndex]:
    rows = AttributeIndex.objects.using(DB).filter(attribute=condition.attribute)
    value = condition.value
    if condition.op not in _OPS or value is None:
        return rows  # "exists", "!=" and anything else: the attribute must exist
    if isinstance(value, bool):
        return rows.filter(text=str(value).lower()) if condition.op == "==" else rows
    if isinstance(value, int | float):
        return rows.filter(**{f"number{_OPS[condition.op]}": float(value)})
    if isinstance(value, str) and len(value) < 255 and condition.op == "==":
        # Only equality: ordering of strings depends on the database's collation.
        return rows.filter(text=value)
    return rows


def _box_rows(attribute: str, box: tuple[float, float, float, float] | None) -> QuerySet:
    rows = GeoIndex.objects.using(DB).filter(attribute=attribute)
    if box is None:
        return rows
    min_x, min_y, max_x, max_y = box
    rows = rows.filter(max_x__gte=min_x, min_x__lte=max_x, max_y__gte=min_y, min_y__lte=max_y)
    if connections[DB].vendor == "postgresql":
        # The same overlap, in the form the GiST index of migration 0003 answers.
        rows = rows.extra(where=[_OVERLAP], params=[min_x, min_y, max_x, max_y])  # noqa: S610
    return rows


_OVERLAP = "box(point(min_x, min_y), point(max_x, max_y)) && box(point(%s, %s), point(%s, %s))"
