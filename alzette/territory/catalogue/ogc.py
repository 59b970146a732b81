"""OGC API - Features over the catalogue: Part 1 (Core, GeoJSON, OpenAPI 3.0),
Part 2 (CRS by reference) and the queryables of Part 3. No HTTP here: the views
in ``ogc_views.py`` parse the request, call these functions and send what they
return; problems leave as ``OgcError``.

A collection is a published open dataset whose source is spatial. Sources only
stream their records in a stable order, so a page is read by walking the
records, skipping ``offset`` matches and stopping as soon as the page is full
(plus one record, to know whether a next page exists). ``numberMatched`` is
given only when it costs nothing more: the walk reached the end, or the
request has no filter and the source counts its rows itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from shapely.errors import ShapelyError
from shapely.geometry import shape

from alzette.core import spatial
from alzette.territory.catalogue import services, sources, vocab
from alzette.territory.catalogue.models import Dataset

CRS84 = spatial.SUPPORTED_CRS["OGC:CRS84"]
#: The CRS a client may ask for, by URI (Part 2 "crs" list), CRS84 first.
CRS_URIS = list(spatial.SUPPORTED_CRS.values())
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
DEFAULT_LIMIT, MAX_LIMIT = 10, 10_000

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
HTML = "text/html"

_SPEC = "http://www.opengis.net/spec"
CONFORMANCE = [
    f"{_SPEC}/ogcapi-features-1/1.0/conf/core",
    f"{_SPEC}/ogcapi-features-1/1.0/conf/geojson",
    f"{_SPEC}/ogcapi-features-1/1.0/conf/oas30",
    f"{_SPEC}/ogcapi-features-2/1.0/conf/crs",
    f"{_SPEC}/ogcapi-features-3/1.0/conf/queryables",
    f"{_SPEC}/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
_REL = "http://www.opengis.net/def/rel/ogc/1.0"
#: Query parameters of the items request that are not queryables.
RESERVED = frozenset({"limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f"})
#: Values of ``f`` this JSON-only implementation answers.
FORMATS = frozenset({"json", "geojson", JSON, GEOJSON})


class OgcError(Exception):
    """A request the API refuses; ``body()`` is the OGC exception document."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "description": self.description}


def bad(description: str) -> OgcError:
    return OgcError(400, "InvalidParameterValue", description)


def not_found(description: str) -> OgcError:
    return OgcError(404, "NotFound", description)


def link(href: str, rel: str, media_type: str, title: str = "") -> dict[str, str]:
    found = {"href": href, "rel": rel, "type": media_type}
    return {**found, "title": title} if title else found


# --- Collections ---------------------------------------------------------------------------


def collections() -> list[Dataset]:
    """Published open datasets whose source is spatial, by identifier."""
    return [d for d in services.visible().select_related("organisation") if _spatial(d)]


def _spatial(dataset: Dataset) -> bool:
    try:
        return services.is_spatial(dataset)
    except sources.SourceError:  # a source dropped from the setting: not served
        return False


def collection(identifier: str) -> Dataset:
    dataset = services.visible().select_related("organisation").filter(identifier=identifier)
    found = dataset.first()
    if found is None or not _spatial(found):
        raise not_found(f"No collection {identifier!r}.")
    return found


def landing(base: str) -> dict[str, Any]:
    return {
        "title": "Alzette open data - OGC API Features",
        "description": "The spatial datasets of the open-data catalogue (JSON and GeoJSON only).",
        "links": [
            link(base, "self", JSON, "This document"),
            link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/api.html", "service-doc", HTML, "The API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/conformance", f"{_REL}/conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "The collections"),
            link(f"{base}/collections", f"{_REL}/data", JSON, "The collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def collections_doc(base: str, language: str) -> dict[str, Any]:
    return {
        "links": [link(f"{base}/collections", "self", JSON, "The collections")],
        "collections": [collection_doc(d, base, language) for d in collections()],
        "crs": CRS_URIS,
    }


def collection_doc(dataset: Dataset, base: str, language: str) -> dict[str, Any]:
    here = f"{base}/collections/{dataset.identifier}"
    links = [
        link(here, "self", JSON, "This collection"),
        link(f"{here}/items", "items", GEOJSON, "The features"),
        link(f"{here}/queryables", f"{_REL}/queryables", SCHEMA, "The queryables"),
    ]
    licence = vocab.LICENCES.get(dataset.licence)
    if licence:
        links.append(link(licence.url, "license", HTML, licence.title))
    return {
        "id": dataset.identifier,
        "title": dataset.text("title", language),
        "description": dataset.text("description", language),
        "keywords": dataset.keywords,
        "links": links,
        "extent": _extent(dataset),
        "itemType": "feature",
        "crs": CRS_URIS,
        "storageCrs": CRS84,
    }


def _extent(dataset: Dataset) -> dict[str, Any]:
    extent: dict[str, Any] = {}
    if dataset.extent:
        extent["spatial"] = {"bbox": [list(dataset.extent)], "crs": CRS84}
    if dataset.temporal_start or dataset.temporal_end:
        days = (dataset.temporal_start, dataset.temporal_end)
        interval = [f"{d.isoformat()}T00:00:00Z" if d else None for d in days]
        extent["temporal"] = {"interval": [interval], "trs": GREGORIAN}
    return extent


def queryables(dataset: Dataset, base: str, language: str) -> dict[str, Any]:
    """Part 3: the properties a client may filter on, as a JSON Schema."""
    properties: dict[str, Any] = {"geometry": {"$ref": "https://geojson.org/schema/Geometry.json"}}
    for found in services.fields(dataset):
        prop = {"title": found.description or found.name, **_json_type(found.type)}
        properties[found.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base}/collections/{dataset.identifier}/queryables",
        "type": "object",
        "title": dataset.text("title", language),
        "properties": properties,
        "additionalProperties": False,
    }


def _json_type(table_type: str) -> dict[str, str]:
    """JSON Schema of a Table Schema type."""
    if table_type in ("date", "datetime"):
        return {"type": "string", "format": "date" if table_type == "date" else "date-time"}
    known = {"number", "integer", "boolean", "array", "object"}
    return {"type": table_type if table_type in known else "string"}


# --- The items request ---------------------------------------------------------------------

Box = tuple[float, float, float, float]
Window = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class Query:
    """An items request, checked: the boxes are CRS84 (two when crossing the antimeridian)."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    boxes: tuple[Box, ...] = ()
    window: Window | None = None
    crs: str = "OGC:CRS84"
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def filtered(self) -> bool:
        return bool(self.boxes or self.window or self.filters)


def parse_query(dataset: Dataset, params: Mapping[str, str]) -> Query:
    """The items request of ``params``; OgcError (400) on anything it cannot use."""
    check_format(params)
    filters = {k: v for k, v in params.items() if k not in RESERVED}
    if filters:  # the fields are only read when asked, as some sources walk every row
        names = {f.name for f in services.fields(dataset)}
        unknown = sorted(set(filters) - names)
        if unknown:
            raise bad(f"Unknown parameter(s): {', '.join(unknown)}; queryables: {sorted(names)}.")
    window = parse_datetime(params["datetime"]) if "datetime" in params else None
    bbox_crs = parse_crs(params.get("bbox-crs"), "bbox-crs")
    boxes = parse_bbox(params["bbox"], bbox_crs) if "bbox" in params else ()
    return Query(
        limit=_integer(params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_integer(params.get("offset"), "offset", 0, 0, None),
        boxes=boxes, window=window, crs=parse_crs(params.get("crs"), "crs"), filters=filters,
    )  # fmt: skip


def check_format(params: Mapping[str, str]) -> None:
    wanted = params.get("f")
    if wanted is not None and wanted.lower() not in FORMATS:
        raise bad(f"Unsupported format f={wanted!r}: this API answers JSON only (f=json).")


def _integer(text: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise bad(f"{name} must be an integer.") from None
    if value < low or (high is not None and value > high):
        limits = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise bad(f"{name} must be {limits}.")
    return value


def parse_crs(uri: str | None, name: str = "crs") -> str:
    """The short name of a supported CRS URI (CRS84 when absent)."""
    if uri is None:
        return "OGC:CRS84"
    wanted = uri.strip().strip("<>")  # Part 2 also shows URIs in angle brackets
    for short, known in spatial.SUPPORTED_CRS.items():
        if wanted == known:
            return short
    raise bad(f"Unsupported {name} {uri!r}; one of: {', '.join(CRS_URIS)}.")


def parse_bbox(text: str, crs: str) -> tuple[Box, ...]:
    """CRS84 boxes of a ``bbox`` given in ``crs`` axis order (4 numbers, or 6 with heights)."""
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise bad("bbox is four comma-separated numbers.") from None
    if len(numbers) not in (4, 6) or not all(map(math.isfinite, numbers)):
        raise bad("bbox is four comma-separated numbers (or six, with heights).")
    low, high = (numbers[0:2], numbers[2:4]) if len(numbers) == 4 else (numbers[0:2], numbers[3:5])
    if _swapped(crs):  # latitude (or northing) first: back to x, y
        low, high = low[::-1], high[::-1]
    if crs in ("OGC:CRS84", "EPSG:4326"):
        return _geographic_boxes(low[0], low[1], high[0], high[1])
    if low[0] > high[0] or low[1] > high[1]:
        raise bad("bbox: the lower corner comes first, then the upper corner.")
    try:
        west, south, east, north = _to_crs84(crs).transform_bounds(*low, *high, densify_pts=21)
    except ProjError:
        raise bad(f"bbox cannot be expressed in CRS84 from {crs}.") from None
    if not all(map(math.isfinite, (west, south, east, north))):
        raise bad(f"bbox cannot be expressed in CRS84 from {crs}.")
    return ((west, south, east, north),)


def _geographic_boxes(west: float, south: float, east: float, north: float) -> tuple[Box, ...]:
    if not (-90 <= south <= north <= 90) or not (-180 <= west <= 180 and -180 <= east <= 180):
        raise bad("bbox: latitudes within -90..90 (south first), longitudes within -180..180.")
    if west > east:  # it crosses the antimeridian
        return ((west, south, 180.0, north), (-180.0, south, east, north))
    return ((west, south, east, north),)


@lru_cache(maxsize=8)
def _to_crs84(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)


@lru_cache(maxsize=8)
def _from_crs84(crs: str) -> Transformer:
    return Transformer.from_crs("OGC:CRS84", crs, always_xy=True)


@lru_cache(maxsize=8)
def _swapped(crs: str) -> bool:
    """Whether the CRS's first axis is latitude or northing (EPSG:4326, EPSG:2169)."""
    return CRS.from_user_input(crs).axis_info[0].direction in ("north", "south")


# --- Time ----------------------------------------------------------------------------------


def parse_datetime(text: str) -> Window:
    """An instant or an interval (``start/end``, ``..`` or empty for an open end) as the
    first and last moment it covers; a date covers its whole day (UTC)."""
    if "/" not in text:
        try:
            return _moments(text)
        except (ValueError, OverflowError):
            raise bad(f"datetime {text!r} is not an RFC 3339 date or date-time.") from None
    start_text, _, end_text = text.partition("/")
    try:
        start = None if start_text in ("", "..") else _moments(start_text)[0]
        end = None if end_text in ("", "..") else _moments(end_text)[1]
    except (ValueError, OverflowError):
        raise bad(f"datetime {text!r} is not an RFC 3339 interval.") from None
    if start and end and start > end:
        raise bad("datetime: the interval ends before it starts.")
    return start, end


@lru_cache(maxsize=4096)  # records repeat their days; parse each once
def _moments(text: str) -> tuple[datetime, datetime]:
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime.combine(day, time.min, UTC), datetime.combine(day, time.max, UTC)
    if "T" not in text.upper():
        raise ValueError(text)
    moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment


def _in_window(value: Any, window: Window) -> bool:
    if not isinstance(value, str):
        return False
    try:
        first, last = _moments(value)
    except (ValueError, OverflowError):
        return False
    start, end = window
    return (start is None or last >= start) and (end is None or first <= end)


# --- Matching and paging -------------------------------------------------------------------


def _matcher(dataset: Dataset, query: Query) -> Callable[[sources.Record], bool]:
    temporal = sources.get(dataset.source).temporal_field
    window = query.window if temporal else None  # no time to filter on: not a filter
    boxes = query.boxes
    filters = list(query.filters.items())

    def matches(record: sources.Record) -> bool:
        if boxes and not _in_boxes(record.geometry, boxes):
            return False
        if window and not _in_window(record.values.get(temporal), window):
            return False
        return all(_equals(record.values.get(name), wanted) for name, wanted in filters)

    return matches


def _in_boxes(geometry: dict[str, Any] | None, boxes: tuple[Box, ...]) -> bool:
    if not geometry:
        return False
    if geometry.get("type") == "Point":  # most features: no shapely object needed
        try:
            x, y = geometry["coordinates"][:2]
            return any(w <= x <= e and s <= y <= n for w, s, e, n in boxes)
        except (KeyError, TypeError, ValueError):  # a malformed point matches nothing
            return False
    try:
        found = shape(geometry)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ShapelyError):
        return False
    return any(found.intersects(shapely.box(*box)) for box in boxes)


def _equals(value: Any, wanted: str) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(wanted) == value
        except ValueError:
            return False
    return sources.cell(value) == wanted


@dataclass
class Page:
    features: list[dict[str, Any]]
    matched: int | None
    more: bool


def page(dataset: Dataset, query: Query) -> Page:
    """The features of one page, in ``query.crs``."""
    source = sources.get(dataset.source)
    # A count the source keeps itself (a COUNT query) answers numberMatched and "is there
    # a next page" without reading past the page.
    counted = not query.filtered and type(source).count is not sources.Source.count
    matched = source.count(dataset) if counted else None
    if counted and query.offset >= matched:
        return Page([], matched, False)
    matches = _matcher(dataset, query)
    found = (r for r in services.records(dataset) if matches(r))
    skipped = _skip(found, query.offset)
    records: list[sources.Record] = []
    for record in found:
        records.append(record)
        if len(records) == query.limit:
            break
    full = len(records) == query.limit
    more = (query.offset + len(records) < matched) if counted else full and _any(found)
    if matched is None and not more:
        matched = skipped + len(records)
    return Page(features(records, query.crs), matched, more)


def _skip(found: Iterator[sources.Record], count: int) -> int:
    skipped = 0
    for _ in range(count):
        if next(found, None) is None:
            break
        skipped += 1
    return skipped


def _any(found: Iterator[sources.Record]) -> bool:
    return next(found, None) is not None


def feature(dataset: Dataset, feature_id: str, crs: str) -> dict[str, Any]:
    for record in services.records(dataset):
        if record.id == feature_id:
            return features([record], crs)[0]
    raise not_found(f"No feature {feature_id!r} in {dataset.identifier}.")


def features(records: list[sources.Record], crs: str) -> list[dict[str, Any]]:
    """GeoJSON features of ``records``, their geometries in ``crs`` and its axis order."""
    geometries = reproject([r.geometry for r in records], crs)
    return [
        {"type": "Feature", "id": r.id, "geometry": g, "properties": r.values}
        for r, g in zip(records, geometries, strict=True)
    ]


# --- Coordinates ---------------------------------------------------------------------------


def reproject(geometries: list[dict[str, Any] | None], crs: str) -> list[dict[str, Any] | None]:
    """CRS84 GeoJSON geometries in ``crs``: every position of the page in one pyproj call."""
    if crs == "OGC:CRS84":
        return geometries
    positions: list[list[float]] = []
    templates = [_collect(g, positions) if g else None for g in geometries]
    if not positions:
        return geometries
    xs, ys = zip(*((p[0], p[1]) for p in positions), strict=True)
    if crs != "EPSG:4326":  # same datum and units as CRS84: only the axis order differs
        xs, ys = _from_crs84(crs).transform(xs, ys, errcheck=False)
    if _swapped(crs):
        xs, ys = ys, xs
    moved = [[float(x), float(y), *p[2:]] for x, y, p in zip(xs, ys, positions, strict=True)]
    return [_fill(t, moved) if t else None for t in templates]


def _collect(geometry: dict[str, Any], positions: list[list[float]]) -> dict[str, Any]:
    """The geometry with each position replaced by its index in ``positions``."""
    if geometry.get("type") == "GeometryCollection":
        members = [_collect(g, positions) for g in geometry.get("geometries", [])]
        return {**geometry, "geometries": members}
    return {**geometry, "coordinates": _indices(geometry.get("coordinates", []), positions)}


def _indices(coordinates: Any, positions: list[list[float]]) -> Any:
    if coordinates and isinstance(coordinates[0], int | float):
        positions.append(coordinates)
        return len(positions) - 1
    return [_indices(c, positions) for c in coordinates]


def _fill(template: dict[str, Any], moved: list[list[float]]) -> dict[str, Any]:
    if template.get("type") == "GeometryCollection":
        return {**template, "geometries": [_fill(g, moved) for g in template["geometries"]]}
    return {**template, "coordinates": _positions(template["coordinates"], moved)}


def _positions(template: Any, moved: list[list[float]]) -> Any:
    if isinstance(template, int):
        return moved[template]
    return [_positions(t, moved) for t in template]


# --- Documents with links ------------------------------------------------------------------


def items_doc(dataset: Dataset, query: Query, base: str,
              params: Iterable[tuple[str, str]], now: datetime) -> dict[str, Any]:  # fmt: skip
    """The FeatureCollection of one page, with self, next and prev links keeping the
    request's other parameters."""
    found = page(dataset, query)
    here = f"{base}/collections/{dataset.identifier}"
    kept = [(k, v) for k, v in params if k != "offset"]

    def at(offset: int) -> str:
        extra = [("offset", str(offset))] if offset else []
        return f"{here}/items" + (f"?{urlencode(kept + extra)}" if kept or extra else "")

    links = [link(at(query.offset), "self", GEOJSON, "This page"),
             link(here, "collection", JSON, dataset.text("title"))]  # fmt: skip
    if found.more:
        links.append(link(at(query.offset + query.limit), "next", GEOJSON, "Next page"))
    if query.offset:
        links.append(link(at(max(0, query.offset - query.limit)), "prev", GEOJSON, "Previous page"))
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": found.features,
                           "links": links, "timeStamp": _stamp(now)}  # fmt: skip
    if found.matched is not None:
        doc["numberMatched"] = found.matched
    doc["numberReturned"] = len(found.features)
    return doc


def feature_doc(dataset: Dataset, feature_id: str, crs: str, base: str) -> dict[str, Any]:
    found = feature(dataset, feature_id, crs)
    here = f"{base}/collections/{dataset.identifier}"
    found["links"] = [
        link(f"{here}/items/{quote(feature_id, safe=':')}", "self", GEOJSON, "This feature"),
        link(here, "collection", JSON, dataset.text("title")),
    ]
    return found


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- The API definition (OpenAPI 3.0) ------------------------------------------------------


def openapi(base: str) -> dict[str, Any]:
    """The service description, listing today's collections."""
    ids = [d.identifier for d in collections()]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Alzette open data - OGC API Features",
            "version": "1.0.0",
            "description": "Spatial datasets of the open-data catalogue; JSON only.",
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": base}],
        "paths": _paths(),
        "components": {"parameters": _parameters(ids), "responses": _responses()},
    }


def _paths() -> dict[str, Any]:
    def get(op_id: str, summary: str, params: list[str], ok: str) -> dict[str, Any]:
        refs = [{"$ref": f"#/components/parameters/{p}"} for p in ["f", *params]]
        answers = {"200": {"$ref": f"#/components/responses/{ok}"},
                   "400": {"$ref": "#/components/responses/Error"}}  # fmt: skip
        if "collectionId" in params:
            answers["404"] = {"$ref": "#/components/responses/Error"}
        return {"get": {"operationId": op_id, "summary": summary, "parameters": refs,
                        "responses": answers}}  # fmt: skip

    items = ["collectionId", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs"]
    return {
        "/": get("getLandingPage", "Landing page", [], "Json"),
        "/conformance": get("getConformance", "Conformance classes", [], "Json"),
        "/api": get("getApi", "This API definition", [], "Json"),
        "/collections": get("getCollections", "The collections", [], "Json"),
        "/collections/{collectionId}": get(
            "describeCollection", "One collection", ["collectionId"], "Json"
        ),
        "/collections/{collectionId}/queryables": get(
            "getQueryables", "Properties to filter on (JSON Schema)", ["collectionId"], "Json"
        ),
        "/collections/{collectionId}/items": get("getFeatures", "Features", items, "Features"),
        "/collections/{collectionId}/items/{featureId}": get(
            "getFeature", "One feature", ["collectionId", "featureId", "crs"], "Feature"
        ),
    }


def _parameters(ids: list[str]) -> dict[str, Any]:
    def query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": schema, **extra}  # fmt: skip

    crs = {"type": "string", "format": "uri", "enum": CRS_URIS, "default": CRS84}
    numbers = {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}
    return {
        "collectionId": {
            "name": "collectionId",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "enum": ids},
        },
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
        },
        "f": query("f", "Format; JSON only.", {"type": "string", "enum": ["json", "geojson"]}),
        "limit": query(
            "limit",
            "Features per page.",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        "offset": query(
            "offset",
            "Matching features to skip (see the next and prev links).",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "bbox": query(
            "bbox",
            "minx,miny,maxx,maxy in bbox-crs axis order.",
            numbers,
            style="form",
            explode=False,
        ),
        "bbox-crs": query("bbox-crs", "CRS of bbox.", crs),
        "datetime": query(
            "datetime", "Instant or interval (RFC 3339, '..' for an open end).", {"type": "string"}
        ),
        "crs": query("crs", "CRS of the geometries in the answer.", crs),
    }


def _responses() -> dict[str, Any]:
    def answer(description: str, media_type: str) -> dict[str, Any]:
        return {"description": description,
                "content": {media_type: {"schema": {"type": "object"}}}}  # fmt: skip

    return {
        "Json": answer("A JSON document.", JSON),
        "Features": answer("A GeoJSON FeatureCollection; Content-Crs names its CRS.", GEOJSON),
        "Feature": answer("A GeoJSON Feature; Content-Crs names its CRS.", GEOJSON),
        "Error": answer("An OGC exception: code and description.", JSON),
    }
