"""Where a dataset's rows come from: a registry of sources (``ALZETTE_CATALOGUE_SOURCES``).

A source reads live territory data and yields ``Record`` objects in a stable
order, one at a time, so that downloads stream in constant memory. To add a
source, copy a sibling class below (or into your own module), give it a
``key`` and list its dotted path in the setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from alzette.territory.catalogue.models import Dataset

DB = "territory"
_CHUNK = 1000


class SourceError(ValueError):
    """Options a source cannot work with; the message is safe to show."""


@dataclass(frozen=True)
class Field:
    """A column: ``type`` is a Table Schema type (string, number, integer, boolean,
    date, datetime, array, object)."""

    name: str
    type: str = "string"
    description: str = ""


@dataclass
class Record:
    id: str
    values: dict[str, Any]
    geometry: dict[str, Any] | None = None  # GeoJSON in CRS84 (spatial sources)


@dataclass
class Source:
    """Base class of the catalogue's sources."""

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    spatial: ClassVar[bool] = False
    #: The field a datetime filter applies to (OGC API Features), if any.
    temporal_field: ClassVar[str | None] = None
    options: dict[str, Any] = field(default_factory=dict)

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        """The options, checked and normalised; SourceError otherwise."""
        if options:
            raise SourceError(f"The source {self.key} takes no options.")
        return {}

    def fields(self, dataset: Dataset) -> list[Field]:
        raise NotImplementedError

    def records(self, dataset: Dataset) -> Iterator[Record]:
        raise NotImplementedError

    def count(self, dataset: Dataset) -> int:
        return sum(1 for _ in self.records(dataset))

    def cells(self, dataset: Dataset, names: list[str]) -> Iterator[list[str]] | None:
        """Rows as CSV cells in the order of ``names``, for sources with millions of
        rows that can skip ``Record``; None to build them from ``records``."""
        return None


@cache
def _registry() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for path in settings.ALZETTE_CATALOGUE_SOURCES:
        source = import_string(path)()
        found[source.key] = source
    return found


def registry() -> dict[str, Source]:
    """key -> source, in the order of the setting."""
    return _registry()


def get(key: str) -> Source:
    try:
        return _registry()[key]
    except KeyError:
        raise SourceError(f"Unknown source {key!r}; one of: {', '.join(_registry())}.") from None


# --- NGSI-LD entities ------------------------------------------------------------------------


class NgsiLdEntities(Source):
    """Every entity of one NGSI-LD type (default tenant): a row per entity, its
    attributes' values as columns, its ``location`` as the geometry. Options: the
    ``type`` and the ``context`` (URL of a context the broker holds, e.g. a Smart
    Data Models one) that expands the type and names the columns; the core context
    when absent."""

    key: ClassVar[str] = "ngsild-entities"
    label: ClassVar[str] = "NGSI-LD entities of a type"
    spatial: ClassVar[bool] = True

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        kind, context = options.get("type"), options.get("context")
        if not isinstance(kind, str) or not kind.strip() or set(options) - {"type", "context"}:
            raise SourceError(
                'The source ngsild-entities takes {"type": "<entity type>", "context": "<url>"}.'
            )
        checked = {"type": kind.strip()}
        if context is not None:
            from alzette.territory.ngsild import jsonld
            from alzette.territory.ngsild.errors import NgsiLdError

            try:
                jsonld.resolve(context)
            except NgsiLdError as exc:
                raise SourceError(f"Unknown @context {context!r}: {exc.detail}") from None
            checked["context"] = context
        return checked

    def fields(self, dataset: Dataset) -> list[Field]:
        names: dict[str, str] = {}
        for record in self.records(dataset):
            for name, value in record.values.items():
                names.setdefault(name, _type_of(value))
        return [Field("id", "string", "NGSI-LD entity id"),
                *(Field(n, t) for n, t in names.items() if n != "id")]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:
        from alzette.territory.ngsild import representation as rep

        ctx = _context(dataset)
        names: dict[str, str] = {}  # IRI -> column name, compacted once per attribute
        last = 0
        while True:
            rows = self._rows(dataset).filter(pk__gt=last).order_by("pk")[:_CHUNK]
            chunk = list(rows.values_list("pk", "entity_id", "body", "modified_at"))
            for _, entity_id, body, modified in chunk:
                yield _entity_record(entity_id, body, modified, ctx, names, rep)
            if len(chunk) < _CHUNK:
                return
            last = chunk[-1][0]

    def count(self, dataset: Dataset) -> int:
        return self._rows(dataset).count()

    def _rows(self, dataset: Dataset) -> Any:
        from alzette.territory.ngsild.models import DEFAULT_TENANT, Entity, EntityType

        kind = dataset.source_options["type"]
        iris = {kind, _context(dataset).expand(kind)}
        typed = EntityType.objects.using(DB).filter(tenant=DEFAULT_TENANT, type_iri__in=iris)
        return Entity.objects.using(DB).filter(tenant=DEFAULT_TENANT,
                                               pk__in=typed.values("entity_id"))  # fmt: skip


def _context(dataset: Dataset) -> Any:
    from alzette.territory.ngsild import jsonld

    context = dataset.source_options.get("context")
    return jsonld.resolve(context) if context else jsonld.core()


def _entity_record(entity_id: str, body: dict, modified: Any, ctx: Any, names: dict[str, str],
                   rep: Any) -> Record:  # fmt: skip
    values: dict[str, Any] = {"id": entity_id}
    geometry = None
    for iri, instances in body.items():
        first = instances[0]
        name = names.get(iri) or names.setdefault(iri, ctx.compact(iri))
        if first.get("type") == rep.GEOPROPERTY and name == "location":
            geometry = first.get("value")
            continue
        values[name] = _instance_value(first)
    values["modifiedAt"] = rep.iso(modified)
    return Record(entity_id, values, geometry)


def _instance_value(instance: dict[str, Any]) -> Any:
    if "object" in instance:
        return instance["object"]
    if "languageMap" in instance:
        languages = instance["languageMap"]
        return languages.get("fr") or next(iter(languages.values()), None)
    return instance.get("value")


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


class NgsiLdHistory(Source):
    """The history of one attribute of every entity of an NGSI-LD type: a row per
    observation (entity, time, value), entity after entity in time order. The rows
    the temporal API serves (docs/ngsi-ld.md); attributes fed by a oneM2M container
    are not included."""

    key: ClassVar[str] = "ngsild-history"
    label: ClassVar[str] = "History of an attribute of NGSI-LD entities"

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        attribute = options.get("attribute")
        if not isinstance(attribute, str) or not attribute.strip():
            raise SourceError('The source ngsild-history needs an "attribute".')
        rest = {k: v for k, v in options.items() if k != "attribute"}
        return {**NgsiLdEntities().check(rest), "attribute": attribute.strip()}

    def fields(self, dataset: Dataset) -> list[Field]:
        return [Field("id", "string", "NGSI-LD entity id"),
                Field("observedAt", "datetime", "When the value was observed (UTC)"),
                Field(dataset.source_options["attribute"], "number")]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:

        name = dataset.source_options["attribute"]
        for _, entity_id, observed, number, instance in self._rows(dataset):
            value = number if number is not None else json.loads(instance).get("value")
            values = {"id": entity_id, "observedAt": _stamp(observed), name: value}
            yield Record(entity_id, values)

    def cells(self, dataset: Dataset, names: list[str]) -> Iterator[list[str]] | None:
        if names != ["id", "observedAt", dataset.source_options["attribute"]]:
            return None
        return self._cells(dataset)

    def _cells(self, dataset: Dataset) -> Iterator[list[str]]:
        for _, entity_id, observed, number, instance in self._rows(dataset):
            value = number if number is not None else json.loads(instance).get("value")
            yield [entity_id, _stamp(observed), cell(value)]

    def count(self, dataset: Dataset) -> int:
        from alzette.territory.ngsild.models import DEFAULT_TENANT, AttributeInstance

        rows = AttributeInstance.objects.using(DB).filter(
            tenant=DEFAULT_TENANT,
            entity_id__in=self._entities(dataset),
            attribute=self._iri(dataset),
        )
        return rows.count()

    def _iri(self, dataset: Dataset) -> str:
        return _context(dataset).expand(dataset.source_options["attribute"])

    def _entities(self, dataset: Dataset) -> list[str]:
        rows = NgsiLdEntities()._rows(dataset).order_by("entity_id")
        return list(rows.values_list("entity_id", flat=True))

    def _rows(self, dataset: Dataset) -> Iterator[tuple]:
        """Plain rows through a cursor, by chunks per entity along the history index:
        millions of rows, so no model instances and no per-value converters."""
        from django.db import connections
        from django.db.models import Q

        from alzette.territory.ngsild.models import DEFAULT_TENANT, AttributeInstance

        iri = self._iri(dataset)
        base = AttributeInstance.objects.using(DB).filter(tenant=DEFAULT_TENANT, attribute=iri)
        for entity_id in self._entities(dataset):
            after = None
            while True:
                rows = base.filter(entity_id=entity_id)
                if after is not None:  # (time, id): instances may share a time
                    moment, pk = after
                    rows = rows.filter(Q(observed_at__gt=moment) | Q(observed_at=moment, pk__gt=pk))
                rows = rows.order_by("observed_at", "pk")[:_HISTORY_CHUNK]
                query = rows.values_list("pk", "entity_id", "observed_at", "number", "instance")
                sql, params = query.query.get_compiler(DB).as_sql()
                with connections[DB].cursor() as cursor:
                    cursor.execute(sql, params)
                    chunk = cursor.fetchall()
                yield from chunk
                if len(chunk) < _HISTORY_CHUNK:
                    break
                after = (_moment(chunk[-1][2]), chunk[-1][0])


_HISTORY_CHUNK = 20_000


def _stamp(value: Any) -> str:
    """NGSI-LD's form (milliseconds, Z) of a time straight from the cursor: naive UTC
    (SQLite) or UTC. ``isoformat`` is several times faster than ``strftime``, which
    counts over millions of rows."""
    if isinstance(value, str):
        value = _moment(value)
    offset = value.utcoffset()
    if offset is None:
        return value.isoformat(timespec="milliseconds") + "Z"
    if not offset:
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    from alzette.territory.ngsild import representation as rep

    return rep.iso(value)


def _moment(value: Any) -> Any:
    """A time from a plain cursor (SQLite gives text in UTC) as an aware datetime."""
    from datetime import UTC, datetime

    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


# --- Communes ----------------------------------------------------------------------------------


class Communes(Source):
    """The communes of the territory with their boundaries."""

    key: ClassVar[str] = "communes"
    label: ClassVar[str] = "Communes and their boundaries"
    spatial: ClassVar[bool] = True

    def fields(self, dataset: Dataset) -> list[Field]:
        return [Field("code", "string", "INSEE code"), Field("name", "string", "Name"),
                Field("department", "string", "Department")]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:
        from alzette.territory.geo.models import TerritorialUnit, UnitKind

        units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE).order_by("code")
        for unit in units.iterator(200):
            values = {"code": unit.code, "name": unit.name, "department": unit.department}
            yield Record(unit.code, values, unit.geometry)


# --- What the anonymisation bridge released -------------------------------------------------


class TerritoryEvents(Source):
    """Events reported on the territory (anonymised by the bridge): kind, commune,
    day and a point to about ten metres."""

    key: ClassVar[str] = "territory-events"
    label: ClassVar[str] = "Events on the territory (anonymised)"
    spatial: ClassVar[bool] = True
    temporal_field: ClassVar[str | None] = "observed_on"

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        kind = options.get("kind", "")
        if not isinstance(kind, str) or set(options) - {"kind"}:
            raise SourceError('The source territory-events takes {"kind": "<event kind>"}.')
        return {"kind": kind} if kind else {}

    def fields(self, dataset: Dataset) -> list[Field]:
        return [Field("kind"), Field("categories", "array"), Field("commune", "string", "INSEE"),
                Field("observed_on", "date"), Field("status"),
                Field("closed_on", "date")]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:
        from alzette.territory.events.models import TerritoryEvent

        events = TerritoryEvent.objects.using(DB).order_by("observed_on", "id")
        if dataset.source_options.get("kind"):
            events = events.filter(kind=dataset.source_options["kind"])
        for event in events.iterator(_CHUNK):
            closed = event.closed_on.isoformat() if event.closed_on else None
            values = {"kind": event.kind, "categories": event.categories,
                      "commune": event.commune_code, "observed_on": event.observed_on.isoformat(),
                      "status": event.status, "closed_on": closed}  # fmt: skip
            point = {"type": "Point", "coordinates": [event.lon, event.lat]}
            yield Record(str(event.id), values, point)


class ProcedureStatistics(Source):
    """Online procedures per procedure, commune and month (bridge aggregates)."""

    key: ClassVar[str] = "procedure-statistics"
    label: ClassVar[str] = "Online procedures per commune and month"

    def fields(self, dataset: Dataset) -> list[Field]:
        return [Field("procedure"), Field("commune", "string", "INSEE"), Field("month"),
                Field("filed", "integer"), Field("decided", "integer"),
                Field("accepted", "integer"), Field("mean_delay_days", "number")]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:
        from alzette.territory.events.models import ProcedureStatistic

        rows = ProcedureStatistic.objects.using(DB).order_by("procedure", "commune_code", "month")
        for row in rows.iterator(_CHUNK):
            values = {"procedure": row.procedure, "commune": row.commune_code,
                      "month": row.month, "filed": row.filed, "decided": row.decided,
                      "accepted": row.accepted, "mean_delay_days": row.mean_delay_days}  # fmt: skip
            yield Record(f"{row.procedure}/{row.commune_code}/{row.month}", values)


def cell(value: Any) -> str:
    """A value as one CSV cell: lists and objects as JSON, None as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
