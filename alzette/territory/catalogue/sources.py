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
    #: Whether the columns are only known by reading every row (``fields_from``): a
    #: refresh then names them from the rows it reads, rather than ``fields``.
    infers_fields: ClassVar[bool] = False
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

    def fields_from(self, names: dict[str, str]) -> list[Field]:
        """The columns of a source that ``infers_fields``, from what ``observe`` saw."""
        return [Field(name, kind) for name, kind in names.items()]

    def is_spatial(self, dataset: Dataset) -> bool:
        """Whether this dataset's rows carry a geometry; ``spatial`` says whether they may."""
        return self.spatial

    def version(self, dataset: Dataset) -> str:
        """What, beside the options, says which data the rows come from (an uploaded
        file's digest): a snapshot of another version is not served."""
        return ""


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
    infers_fields: ClassVar[bool] = True

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
            observe(names, record)
        return self.fields_from(names)

    def fields_from(self, names: dict[str, str]) -> list[Field]:
        """The columns, from the names and types ``observe`` saw in the rows."""
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


def observe(names: dict[str, str], record: Record) -> None:
    """Note the columns of ``record`` (name -> type of its first value) in ``names``."""
    for name, value in record.values.items():
        if name not in names:
            names[name] = _type_of(value)


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


class NgsiLdAggregate(Source):
    """An attribute of every entity of an NGSI-LD type aggregated per hour, day or
    month: a row per entity and period with the count, minimum, maximum, mean and sum
    of its numeric values, every ``datasetId`` together as in the temporal API's
    aggregations. Read from the broker's hourly and daily rollups (a year of one
    entity is 365 daily rows), so attributes fed by a oneM2M container are not
    included. Options: ``type``, ``attribute``, ``period`` (hour, day or month;
    day by default), ``context``."""

    key: ClassVar[str] = "ngsild-aggregate"
    label: ClassVar[str] = "Attribute of NGSI-LD entities per hour, day or month"
    PERIODS: ClassVar[tuple[str, ...]] = ("hour", "day", "month")

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        period = options.get("period", "day")
        if period not in self.PERIODS:
            raise SourceError(f"The source ngsild-aggregate takes a period among "
                              f"{', '.join(self.PERIODS)}.")  # fmt: skip
        rest = {k: v for k, v in options.items() if k != "period"}
        return {**NgsiLdHistory().check(rest), "period": period}

    def fields(self, dataset: Dataset) -> list[Field]:
        return [Field("id", "string", "NGSI-LD entity id"),
                Field("period_start", "datetime", "Start of the period (UTC)"),
                Field("period_end", "datetime", "End of the period, excluded (UTC)"),
                Field("count", "integer", "Values in the period"),
                Field("min", "number"), Field("max", "number"), Field("avg", "number"),
                Field("sum", "number")]  # fmt: skip

    def records(self, dataset: Dataset) -> Iterator[Record]:
        period = dataset.source_options.get("period", "day")
        history = NgsiLdHistory()
        iri = history._iri(dataset)
        for entity_id in history._entities(dataset):
            for start, acc in _periods(self._rollups(entity_id, iri, period), period):
                values = {"id": entity_id, "period_start": _stamp(start),
                          "period_end": _stamp(_period_end(start, period)), "count": acc[0],
                          "min": acc[2], "max": acc[3], "avg": acc[1] / acc[0] if acc[0] else None,
                          "sum": acc[1]}  # fmt: skip
                yield Record(f"{entity_id}/{values['period_start']}", values)

    def _rollups(self, entity_id: str, iri: str, period: str) -> Iterator[tuple]:
        from alzette.territory.ngsild.models import (
            DEFAULT_TENANT,
            AttributeDailyRollup,
            AttributeRollup,
        )

        model, column = (AttributeRollup, "hour") if period == "hour" else \
            (AttributeDailyRollup, "day")  # fmt: skip
        rows = model.objects.using(DB).filter(tenant=DEFAULT_TENANT, entity_id=entity_id,
                                              attribute=iri).order_by(column)  # fmt: skip
        return rows.values_list(column, "count", "total", "minimum", "maximum").iterator(_CHUNK)


def _periods(rows: Iterator[tuple], period: str) -> Iterator[tuple[Any, list]]:
    """Fold rollup rows in time order into periods: (start, [count, sum, min, max]).
    Rows of several ``datasetId`` share a time, and a month is many days."""
    current, acc = None, None
    for moment, count, total, low, high in rows:
        start = _moment(moment)
        if period == "month":
            start = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if start != current:
            if acc is not None:
                yield current, acc
            current, acc = start, [0, 0.0, low, high]
        acc[0] += count
        acc[1] += total
        acc[2] = low if acc[2] is None or (low is not None and low < acc[2]) else acc[2]
        acc[3] = high if acc[3] is None or (high is not None and high > acc[3]) else acc[3]
    if acc is not None:
        yield current, acc


def _period_end(start: Any, period: str) -> Any:
    from datetime import timedelta

    if period == "hour":
        return start + timedelta(hours=1)
    if period == "day":
        return start + timedelta(days=1)
    year, month = divmod(start.month, 12)  # month is 1-12: the next one, maybe next year
    return start.replace(year=start.year + year, month=month + 1)


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


# --- Uploaded files --------------------------------------------------------------------------


class UploadedFile(Source):
    """The rows of the file last uploaded for the dataset (``services.upload``), checked
    against a French national Table Schema when the option ``schema`` names one. A
    row's point comes from the schema's geopoint or longitude and latitude columns;
    files without coordinates have rows without geometry."""

    key: ClassVar[str] = "uploaded-file"
    label: ClassVar[str] = "An uploaded CSV file"
    spatial: ClassVar[bool] = True

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        from alzette.territory.catalogue import uploads

        name = options.get("schema", "")
        if not isinstance(name, str) or set(options) - {"schema"}:
            raise SourceError('The source uploaded-file takes {"schema": "<national schema>"}.')
        if name and name not in uploads.schema_names():
            raise SourceError(f"Unknown schema {name!r}; one of: "
                              f"{', '.join(uploads.schema_names())}.")  # fmt: skip
        return {"schema": name} if name else {}

    def current(self, dataset: Dataset) -> Any:
        """The dataset's file (``DatasetFile``), None before the first upload."""
        from alzette.territory.catalogue.models import DatasetFile

        return DatasetFile.objects.using(DB).filter(dataset_id=dataset.pk).first()

    def table_schema(self, dataset: Dataset) -> dict[str, Any]:
        """The Table Schema of the dataset's file, or of the file to come."""
        from alzette.territory.catalogue import uploads

        found = self.current(dataset)
        if found is not None:
            return found.table_schema
        if dataset.source_options.get("schema"):
            return uploads.schema(dataset.source_options["schema"])
        return {}

    def fields(self, dataset: Dataset) -> list[Field]:
        from alzette.territory.catalogue import uploads

        columns = uploads.columns(self.table_schema(dataset))
        return [Field(name, kind, text) for name, kind, text in columns]

    def is_spatial(self, dataset: Dataset) -> bool:
        from alzette.territory.catalogue import uploads

        return bool(uploads.geometry_columns(self.table_schema(dataset)))

    def records(self, dataset: Dataset) -> Iterator[Record]:
        from alzette.territory.catalogue import uploads

        found = self.current(dataset)
        if found is None:
            return
        keys = found.table_schema.get("primaryKey") or []
        keys = [keys] if isinstance(keys, str) else keys
        for number, values, point in uploads.rows(found.path, found.encoding,
                                                  found.table_schema, found.dialect):  # fmt: skip
            # The schema's key when it has one, else the row's number (the header is row 1).
            key = "/".join(str(values.get(k)) for k in keys) if keys else str(number - 1)
            yield Record(key, values, point)

    def count(self, dataset: Dataset) -> int:
        found = self.current(dataset)
        return found.row_count if found is not None else 0

    def version(self, dataset: Dataset) -> str:
        found = self.current(dataset)
        return f"{found.pk}:{found.sha256}" if found is not None else ""


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
