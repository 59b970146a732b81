"""Uploaded files as datasets' rows: staging, validation with frictionless against the
French national Table Schemas shipped in ``schemas/``, and reading the stored file.

A file is written to a temporary name beside its final place while its digest and
size are computed and its encoding checked, then validated row by row (constant
memory), and only then moved into place: a refused file leaves nothing behind and
the dataset keeps its previous file (``services.upload`` records the new one).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SCHEMAS = Path(__file__).resolve().parent / "schemas"
#: Row errors shown (and kept in the report) at most: enough to fix a file, bounded.
MAX_ERRORS = 100
#: Rows whose cells name the column types when no schema is named.
INFER_ROWS = 10_000
_CHUNK = 64 * 1024
#: Column names read as longitude and latitude (lower case), when the schema has no
#: geopoint: the national schemas' (Xlong/Ylat, EQUIP_LONG/EQUIP_LAT) and the usual ones.
# Never "x" and "y": those are often projected (Lambert 93) coordinates.
LONGITUDES = ("xlong", "equip_long", "longitude", "lon", "lng", "long")
LATITUDES = ("ylat", "equip_lat", "latitude", "lat")


class InvalidFile(ValidationError):
    """A refused upload. ``problems`` lists what frictionless found (row, field, message)."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        self.problems = problems or []
        lines = [message, *(_describe(p) for p in self.problems)]
        super().__init__({"file": lines})


@dataclass
class Checked:
    """A staged file that passed: what ``services.upload`` stores about it."""

    path: Path  # the temporary file, moved into place by ``keep``
    size: int
    sha256: str
    encoding: str
    media_type: str
    schema_name: str
    table_schema: dict[str, Any]
    dialect: dict[str, Any]
    row_count: int
    report: dict[str, Any] = field(default_factory=dict)


# --- Schemas --------------------------------------------------------------------------------


@cache
def schema_names() -> tuple[str, ...]:
    """The national schemas shipped, by name (file name without ``.schema.json``)."""
    return tuple(sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")))


def schema(name: str) -> dict[str, Any]:
    """A shipped Table Schema descriptor; ValidationError for an unknown name."""
    if name not in schema_names():
        raise ValidationError({"schema": _("Unknown schema %(name)s; one of: %(known)s.")
                               % {"name": name, "known": ", ".join(schema_names())}})  # fmt: skip
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


# --- Where files live -----------------------------------------------------------------------


def root() -> Path:
    return Path(settings.ALZETTE_CATALOGUE_DIR)


def relative(path: Path) -> str:
    return path.relative_to(root()).as_posix()


def absolute(stored: str) -> Path:
    return root() / stored


# --- Staging and validation -----------------------------------------------------------------


def check(dataset_id: uuid.UUID, filename: str, data: bytes | BinaryIO,
          schema_name: str = "") -> Checked:  # fmt: skip
    """Stage ``data`` and validate it; ``InvalidFile`` (nothing kept) if it is refused."""
    descriptor = schema(schema_name) if schema_name else None
    if Path(filename).suffix.lower() not in (".csv", ".txt"):
        raise InvalidFile(_("Only CSV files (.csv) can be uploaded for now."))
    folder = root() / "files" / str(dataset_id)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{uuid.uuid4().hex}.tmp"
    try:
        size, digest, encoding = _stage(data, staged)
        if size == 0:
            raise InvalidFile(_("The file is empty."))
        checked = _validate(staged, encoding, descriptor)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    checked.size, checked.sha256, checked.schema_name = size, digest, schema_name
    return checked


def keep(checked: Checked) -> str:
    """Move a checked file to its final name; its path relative to the catalogue dir."""
    final = checked.path.with_name(f"{checked.sha256[:16]}-{uuid.uuid4().hex[:8]}.csv")
    os.replace(checked.path, final)
    checked.path = final
    return relative(final)


def discard(stored: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        absolute(stored).unlink()


def _stage(data: bytes | BinaryIO, target: Path) -> tuple[int, str, str]:
    """Write ``data`` to ``target`` in chunks: size, SHA-256 and encoding (UTF-8, with or
    without a byte-order mark). Too large or not UTF-8: InvalidFile."""
    limit = settings.ALZETTE_CATALOGUE_UPLOAD_MAX_BYTES
    digest, size = hashlib.sha256(), 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    with open(target, "wb") as out:
        for chunk in _chunks(data):
            size += len(chunk)
            if size > limit:
                raise InvalidFile(_("The file is larger than %(limit)s MB.")
                                  % {"limit": round(limit / 2**20, 1)})  # fmt: skip
            if len(head) < 3:
                head += chunk[:3]
            _decode(decoder, chunk, size - len(chunk))
            digest.update(chunk)
            out.write(chunk)
        _decode(decoder, b"", size, final=True)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest(), "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


def _chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray):
        for start in range(0, len(data), _CHUNK):
            yield bytes(data[start : start + _CHUNK])
        return
    while chunk := data.read(_CHUNK):
        yield chunk


def _decode(decoder: codecs.IncrementalDecoder, chunk: bytes, offset: int,
            final: bool = False) -> None:  # fmt: skip
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError as exc:
        raise InvalidFile(
            _("The file is not UTF-8 text (byte %(byte)s at position %(position)s): save it "
              "as CSV UTF-8.") % {"byte": f"0x{chunk[exc.start]:02x}" if chunk else "?",
                                  "position": offset + exc.start}
        ) from None  # fmt: skip


def _validate(path: Path, encoding: str, descriptor: dict[str, Any] | None) -> Checked:
    from frictionless import Detector, Resource, Schema

    options: dict[str, Any] = {"path": path.name, "basepath": str(path.parent),
                               "format": "csv", "encoding": encoding}  # fmt: skip
    if descriptor is not None:
        options["schema"] = Schema.from_descriptor(_table_schema(descriptor))
    else:  # the types the first rows show, checked on every row like a schema's
        options["detector"] = Detector(sample_size=INFER_ROWS)
    resource = Resource(**options)
    report = resource.validate(limit_errors=MAX_ERRORS)
    task = report.tasks[0] if report.tasks else None
    problems = [_problem(error) for error in (task.errors if task else report.errors)]
    if not report.valid:
        raise InvalidFile(_("The file does not follow the expected format:"), problems)
    with Resource(**options) as opened:  # what validation detected, for reading later
        table_schema = opened.schema.to_descriptor()
        dialect = opened.dialect.to_descriptor()
    summary = {"valid": True, "rows": task.stats.get("rows", 0) if task else 0,
               "errors": [], "checked_with": "frictionless"}  # fmt: skip
    return Checked(path, 0, "", encoding, "text/csv", "", table_schema, dialect,
                   summary["rows"], summary)  # fmt: skip


def _table_schema(descriptor: dict[str, Any]) -> dict[str, Any]:
    """The parts of a national schema frictionless reads: its documentation and its
    Validata-only ``custom_checks`` stay out."""
    keys = ("fields", "missingValues", "primaryKey", "foreignKeys")
    return {key: descriptor[key] for key in keys if key in descriptor}


def _problem(error: Any) -> dict[str, Any]:
    return {"row": getattr(error, "row_number", None), "field": getattr(error, "field_name", None),
            "type": error.type, "message": error.message}  # fmt: skip


def _describe(problem: dict[str, Any]) -> str:
    where = []
    if problem.get("row"):
        where.append(_("row %(row)s") % {"row": problem["row"]})
    if problem.get("field"):
        where.append(_("field %(field)s") % {"field": problem["field"]})
    prefix = ", ".join(where)
    return f"{prefix}: {problem['message']}" if prefix else problem["message"]


# --- Reading the stored file ----------------------------------------------------------------


def columns(table_schema: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, Table Schema type, description) of each column."""
    return [(f["name"], _json_type(f.get("type", "string")), f.get("description", ""))
            for f in table_schema.get("fields", [])]  # fmt: skip


def _json_type(kind: str) -> str:
    # geopoint, geojson, year, yearmonth, duration... leave as their JSON form.
    return {"geopoint": "array", "geojson": "object", "any": "string"}.get(kind, kind)


def geometry_columns(table_schema: dict[str, Any]) -> tuple[str, ...]:
    """The column of a geopoint, or the (longitude, latitude) columns; () if none."""
    fields = table_schema.get("fields", [])
    for found in fields:
        if found.get("type") == "geopoint":
            return (found["name"],)
    numbers = {f["name"].lower(): f["name"] for f in fields
               if f.get("type") in ("number", "integer")}  # fmt: skip
    lon = next((numbers[n] for n in LONGITUDES if n in numbers), None)
    lat = next((numbers[n] for n in LATITUDES if n in numbers), None)
    return (lon, lat) if lon and lat else ()


def rows(stored: str, encoding: str, table_schema: dict[str, Any],
         dialect: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any], dict | None]]:  # fmt: skip
    """(row number, values, GeoJSON point or None) of each row, streamed by frictionless
    with the schema and dialect it was validated with."""
    from frictionless import Dialect, Resource, Schema

    path = absolute(stored)
    where = geometry_columns(table_schema)
    resource = Resource(path=path.name, basepath=str(path.parent), format="csv",
                        encoding=encoding, schema=Schema.from_descriptor(table_schema),
                        dialect=Dialect.from_descriptor(dialect))  # fmt: skip
    with resource:
        for row in resource.row_stream:
            values = {name: _plain(value) for name, value in row.to_dict().items()}
            yield row.row_number, values, _point(row, where)


def _plain(value: Any) -> Any:
    """A cell as JSON has it: numbers as int or float, dates and times as ISO 8601."""
    if isinstance(value, Decimal):  # integer columns give int already
        return float(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, tuple):  # geopoint (lon, lat), yearmonth...
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _point(row: Any, where: tuple[str, ...]) -> dict[str, Any] | None:
    if len(where) == 1:
        point = row[where[0]]
        coordinates = [float(point[0]), float(point[1])] if point else None
    elif len(where) == 2:
        lon, lat = row[where[0]], row[where[1]]
        coordinates = [float(lon), float(lat)] if lon is not None and lat is not None else None
    else:
        return None
    if coordinates is None or not (-180 <= coordinates[0] <= 180 and -90 <= coordinates[1] <= 90):
        return None
    return {"type": "Point", "coordinates": coordinates}
