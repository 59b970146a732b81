"""Waste containers as the rest of the platform sees them, the recycling centre's
gate and occupancy, and pick-up requests for its skips.

Containers are read from the NGSI-LD store (``WasteContainer`` entities): the
context is the one truth about where a container is and how full it is, so
rounds, households and maps all read it through ``containers()`` rather than
keep copies. The kind of a container follows the device conventions of the
platform (docs/waste.md): ``bin-<insee>-<nnn>`` household bins,
``pav-<insee>-<nn>-<kind>`` drop-point columns, ``skip-<centre>-<n>`` skips of a
recycling centre.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.territory.ngsild import entities, jsonld, notifier, store, temporal
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.errors import NgsiLdError
from alzette.territory.ngsild.models import Entity
from alzette.territory.waste.models import Centre, CentrePassage, LedgerRecord, PickupRequest

DB = "territory"
TENANT = ""
WASTE_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/"
    "master/context.jsonld"
)
ENTITY_PREFIX = "urn:ngsi-ld:WasteContainer:"
ISLE_PREFIX = "urn:ngsi-ld:WasteContainerIsle:"
KINDS = ("bin", "droppoint", "skip")
_PREFIXES = {"bin": "bin", "pav": "droppoint", "skip": "skip"}
_COMMUNE_IN_ID = re.compile(r"^(?:bin-|pav-)?(\d[0-9AB]\d{3})(?:-|$)")
_SKIP = re.compile(r"^skip-([a-z0-9-]+)-(\d+)$")
_DROP_POINT_KINDS = {"glass", "paper", "plastic"}


@cache
def context() -> jsonld.Context:
    """The Smart Data Models WasteManagement @context (bundled, never fetched)."""
    return jsonld.resolve(WASTE_CONTEXT)


def iri(term: str) -> str:
    return context().expand(term)


def iris(term: str) -> tuple[str, str]:
    """A term as the Smart Data Models context expands it, and as the core context
    does (clients that wrote a WasteContainer without the WasteManagement @context)."""
    return iri(term), jsonld.DEFAULT_VOCAB + term


def container_rows() -> Any:
    """Entity rows of type WasteContainer, whatever @context typed them."""
    return (
        Entity.objects.using(DB)
        .filter(tenant=TENANT, type_rows__type_iri__in=iris("WasteContainer"))
        .distinct()
    )


def entity_id(container_id: str) -> str:
    """The full entity id of ``bin-57038-001`` or ``urn:ngsi-ld:WasteContainer:bin-57038-001``."""
    return container_id if container_id.startswith("urn:") else ENTITY_PREFIX + container_id


def short_id(container_id: str) -> str:
    """``bin-57038-001`` for ``urn:ngsi-ld:WasteContainer:bin-57038-001`` (the device's name)."""
    return container_id.rsplit(":", 1)[-1]


# --- Containers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContainerView:
    """What a round, a map or a bill needs to know about one container."""

    id: str  # the full NGSI-LD entity id
    kind: str  # "bin", "droppoint" or "skip"
    commune: str  # INSEE code, "" when the container stands outside every commune
    lon: float
    lat: float
    filling_level: float | None
    capacity_l: float | None
    waste_kind: str  # storedWasteKind: organic, inorganic, glass, paper, plastic...
    observed_at: datetime | None  # when the fill level was measured
    name: str

    @property
    def short_id(self) -> str:
        return short_id(self.id)


def containers(kind: str | None = None, commune: str | None = None) -> list[ContainerView]:
    """Every WasteContainer of the context, optionally of one kind and one commune,
    ordered by id."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind is one of {', '.join(KINDS)}")
    rows = container_rows()
    if kind is not None:
        prefix = {"bin": "bin-", "droppoint": "pav-", "skip": "skip-"}[kind]
        if kind == "bin":  # older demo containers have no prefix (see kind_of)
            rows = rows.exclude(entity_id__startswith=ENTITY_PREFIX + "pav-").exclude(
                entity_id__startswith=ENTITY_PREFIX + "skip-"
            )
        elif kind == "droppoint":
            rows = rows.exclude(entity_id__startswith=ENTITY_PREFIX + "bin-").exclude(
                entity_id__startswith=ENTITY_PREFIX + "skip-"
            )
        else:
            rows = rows.filter(entity_id__startswith=ENTITY_PREFIX + prefix)
    where = _Whereabouts()
    out = []
    for row in rows.order_by("entity_id").iterator(chunk_size=2000):
        view = view_of(row, where)
        if view is None:
            continue
        if kind is not None and view.kind != kind:
            continue
        if commune is not None and view.commune != commune:
            continue
        out.append(view)
    return out


def container(container_id: str) -> ContainerView | None:
    row = store.get(TENANT, entity_id(container_id))
    if row is None or not set(iris("WasteContainer")) & set(row.types):
        return None
    return view_of(row, _Whereabouts())


def view_of(row: Entity, where: _Whereabouts | None = None) -> ContainerView | None:
    """The view of one entity row (None when it has no usable point location)."""
    body = row.body
    point = attribute_value(body, "location")
    try:
        lon, lat = (float(c) for c in point["coordinates"][:2])
    except (TypeError, KeyError, ValueError):
        return None
    level_instance = rep.default_instance(body, "fillingLevel", ctx=context())
    level = rep.instance_value(level_instance)
    observed = level_instance.get("observedAt") if level_instance else None
    waste_kind = (
        attribute_value(body, "storedWasteKind") or attribute_value(body, "wasteType") or ""
    )
    capacity = attribute_value(body, "binCapacity")
    short = short_id(row.entity_id)
    return ContainerView(
        id=row.entity_id,
        kind=kind_of(short, str(waste_kind or "")),
        commune=(where or _Whereabouts()).commune(short, lon, lat),
        lon=lon,
        lat=lat,
        filling_level=float(level) if _number(level) else None,
        capacity_l=float(capacity) if _number(capacity) else None,
        waste_kind=str(waste_kind or ""),
        observed_at=parse_moment(observed),
        name=str(attribute_value(body, "name") or short),
    )


def kind_of(short: str, waste_kind: str = "") -> str:
    """bin, droppoint or skip, from the device name's prefix.

    Containers named otherwise (the first demo context, ``57038-01``) are drop
    points when they hold glass, paper or plastic, household bins otherwise.
    """
    prefix = short.split("-", 1)[0]
    if prefix in _PREFIXES:
        return _PREFIXES[prefix]
    return "droppoint" if waste_kind in _DROP_POINT_KINDS else "bin"


class _Whereabouts:
    """The commune of a container: from its name, its centre, or its location."""

    def __init__(self) -> None:
        self._centres: dict[str, str] | None = None
        self._communes: list[tuple[str, Any]] | None = None

    def commune(self, short: str, lon: float, lat: float) -> str:
        found = _COMMUNE_IN_ID.match(short)
        if found:
            return found.group(1)
        skip = _SKIP.match(short)
        if skip:
            if self._centres is None:
                self._centres = dict(Centre.objects.using(DB).values_list("slug", "commune"))
            if skip.group(1) in self._centres:
                return self._centres[skip.group(1)]
        return self._locate(lon, lat)

    def _locate(self, lon: float, lat: float) -> str:
        from shapely.geometry import Point
        from shapely.prepared import prep

        from alzette.core import spatial
        from alzette.territory.geo.models import TerritorialUnit, UnitKind

        if self._communes is None:
            units = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)
            self._communes = [(u.code, prep(spatial.parse_geometry(u.geometry))) for u in units]
        point = Point(lon, lat)
        return next((code for code, area in self._communes if area.covers(point)), "")


def attribute_value(body: dict[str, list], term: str) -> Any:
    """The plain value of ``term`` in a waste entity's body (the WasteManagement context's
    IRI, else the core context's); see ``representation.attribute_value``."""
    return rep.attribute_value(body, term, ctx=context())


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return rep.parse_datetime(text, "observedAt")
    except NgsiLdError:  # an unreadable time is no time
        return None


# --- Fill rates ----------------------------------------------------------------------------

#: History window the fill rate is estimated on.
RATE_WINDOW = timedelta(days=14)
#: A fall of the level by more than this is an emptying, not sensor noise.
EMPTYING_DROP = 0.1
#: Less observed filling time than this (in days) is too little to say anything.
MIN_SPAN_DAYS = 0.5
MIN_POINTS = 3


def fill_rate_per_day(container_id: str, *, now: datetime | None = None) -> float | None:
    """How much of the container fills per day (0.25 = a quarter), None with too little data.

    Estimated on the last 14 days of the fillingLevel history: the history is cut
    at every emptying (a fall of more than 0.1), and the rises of the pieces are
    summed over their durations, so several cycles average out the weekdays.
    """
    return fill_rates([container_id], now=now).get(entity_id(container_id))


def fill_rates(
    container_ids: Iterable[str], *, now: datetime | None = None
) -> dict[str, float | None]:
    """``fill_rate_per_day`` for many containers in a few queries; keys are full entity ids."""
    ids = [entity_id(c) for c in container_ids]
    if not ids:
        return {}
    since = (now or datetime.now(UTC)) - RATE_WINDOW
    query = temporal.TimeQuery(timerel="after", start=since)
    level = iri("fillingLevel")
    histories = temporal.history(TENANT, ids, {level}, query)
    out: dict[str, float | None] = {}
    for eid in ids:
        instances = histories[eid].attributes.get(level, []) if eid in histories else []
        out[eid] = rate_of(_points(instances))
    return out


def _points(instances: list[dict[str, Any]]) -> list[tuple[datetime, float]]:
    points = []
    for instance in instances:
        value = instance.get("value")
        moment = parse_moment(instance.get("observedAt"))
        if _number(value) and moment is not None:
            points.append((moment, float(value)))
    points.sort(key=lambda p: p[0])
    return points


def rate_of(points: list[tuple[datetime, float]]) -> float | None:
    """Summed rises over summed durations of the pieces between emptyings."""
    if len(points) < MIN_POINTS:
        return None
    rise = span = 0.0
    start = previous = points[0]
    for point in points[1:]:
        if point[1] < previous[1] - EMPTYING_DROP:
            rise, span = _close(start, previous, rise, span)
            start = point
        previous = point
    rise, span = _close(start, previous, rise, span)
    if span < MIN_SPAN_DAYS:
        return None
    return round(max(rise, 0.0) / span, 4)


def _close(start: tuple, end: tuple, rise: float, span: float) -> tuple[float, float]:
    days = (end[0] - start[0]).total_seconds() / 86400
    if days <= 0:
        return rise, span
    return rise + (end[1] - start[1]), span + days


# --- Writing container attributes ---------------------------------------------------------


def mark_emptied(container_id: str, at: datetime, *, actor: str) -> None:
    """Fill level 0 and dateLastEmptying ``at``, as the context's history keeps them."""
    stamp = rep.iso(at.astimezone(UTC))
    attributes = {
        "fillingLevel": {"type": "Property", "value": 0.0, "unitCode": "P1", "observedAt": stamp},
        "dateLastEmptying": {"type": "Property", "value": stamp},
    }
    entities.append(Op(tenant=TENANT, ctx=context(), actor=actor), entity_id(container_id),
                    attributes)  # fmt: skip
    notifier.flush()


# --- Recycling centres ---------------------------------------------------------------------


def centres() -> list[dict[str, Any]]:
    """Every recycling centre: its occupancy (``centre_occupancy``) with ``slug``,
    ``commune``, ``lon``, ``lat`` and ``visits_per_year`` (public: no personal data)."""
    return [_described(c) for c in Centre.objects.using(DB).order_by("name")]


def _described(c: Centre) -> dict[str, Any]:
    return {**_occupancy(c), "slug": c.slug, "commune": c.commune, "lon": c.lon, "lat": c.lat,
            "visits_per_year": c.visits_per_year}  # fmt: skip


def centre_occupancy(centre: str | Centre) -> dict[str, Any]:
    """``{"centre", "name", "inside", "capacity", "updated_at"}`` for one centre.

    Raises ``Centre.DoesNotExist`` for an unknown slug.
    """
    row = centre if isinstance(centre, Centre) else Centre.objects.using(DB).get(slug=centre)
    return _occupancy(row)


def _occupancy(centre: Centre, now: datetime | None = None) -> dict[str, Any]:
    # Counted from the local day's passages, so a vehicle whose exit the gate missed
    # is forgotten at night rather than counted inside for ever.
    now = now or timezone.now()
    day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    passages = CentrePassage.objects.using(DB).filter(centre=centre, at__gte=day)
    entered = passages.filter(direction=CentrePassage.Direction.IN, allowed=True).count()
    left = passages.filter(direction=CentrePassage.Direction.OUT).count()
    last = passages.order_by("-at").values_list("at", flat=True).first()
    return {
        "centre": centre.slug,
        "name": centre.name,
        "inside": max(entered - left, 0),
        "capacity": centre.capacity,
        "updated_at": last or day,
        "opening_hours": centre.opening_hours,
    }


def record_passage(centre: str, direction: str, allowed: bool, at: datetime) -> None:
    """An anonymous passage through a centre's gate (called by the personal side once it
    decided on the badge or plate). Raises ValueError for an unknown centre or direction."""
    if direction not in CentrePassage.Direction.values:
        raise ValueError("direction is 'in' or 'out'")
    if timezone.is_naive(at):
        raise ValueError("the passage time must be timezone-aware")
    row = Centre.objects.using(DB).filter(slug=centre).first()
    if row is None:
        raise ValueError(f"unknown recycling centre {centre!r}")
    CentrePassage.objects.using(DB).create(
        centre=row, direction=direction, allowed=bool(allowed), at=at
    )


def skips(centre: Centre) -> list[ContainerView]:
    prefix = f"skip-{centre.slug}-"
    found = [c for c in containers(kind="skip") if c.short_id.startswith(prefix)]
    return sorted(found, key=lambda c: int(c.short_id.rsplit("-", 1)[-1]))


# --- Pick-up requests ----------------------------------------------------------------------


def _record(kind: str, actor: str, object_ref: str, payload: dict[str, Any]) -> None:
    from alzette.ledger import services as ledger

    ledger.record_opening(
        LedgerRecord, kind, actor, object_ref, payload, using=DB, object_ref=object_ref
    )


def _pickup_payload(request: PickupRequest) -> dict[str, Any]:
    return {
        "skip": short_id(request.container_id),
        "centre": request.centre.slug,
        "status": request.status,
        "weight_kg": request.weight_kg,
    }


def request_pickup(skip_id: str, actor: str, *, now: datetime | None = None) -> PickupRequest:
    """Ask the haulier to collect a skip; the request is recorded in the ledger.

    A skip with an open request is not asked for twice (ValidationError).
    """
    short = short_id(skip_id)
    match = _SKIP.match(short)
    centre = Centre.objects.using(DB).filter(slug=match.group(1)).first() if match else None
    if centre is None or store.get(TENANT, entity_id(short)) is None:
        raise ValidationError(_("This skip does not exist."), code="unknown")
    with transaction.atomic(using=DB):
        open_ = PickupRequest.objects.using(DB).select_for_update().filter(
            container_id=entity_id(short),
            status__in=[PickupRequest.Status.REQUESTED, PickupRequest.Status.SCHEDULED],
        )  # fmt: skip
        if open_.exists():
            raise ValidationError(_("A pick-up is already requested for this skip."), code="open")
        request = PickupRequest.objects.using(DB).create(
            container_id=entity_id(short), centre=centre, requested_by=actor,
            requested_at=now or timezone.now(),
        )  # fmt: skip
        _record("centre.pickup_requested", actor, f"pickup:{request.pk}", _pickup_payload(request))
    return request


def schedule_pickup(request: PickupRequest, actor: str) -> PickupRequest:
    return _change(request, PickupRequest.Status.SCHEDULED, actor)


def cancel_pickup(request: PickupRequest, actor: str) -> PickupRequest:
    return _change(request, PickupRequest.Status.CANCELLED, actor)


def complete_pickup(
    request: PickupRequest, weight_kg: float | None, actor: str, *, at: datetime | None = None
) -> PickupRequest:
    """The skip was collected: the request is done with the weight the haulier gave,
    and the skip's entity is emptied."""
    if weight_kg is not None and not (0 <= weight_kg <= 50_000):
        raise ValidationError(_("The weight must be between 0 and 50,000 kg."), code="weight")
    at = at or timezone.now()
    with transaction.atomic(using=DB):
        request = _change(request, PickupRequest.Status.DONE, actor, weight_kg=weight_kg, at=at)
        if store.get(TENANT, request.container_id) is not None:
            mark_emptied(request.container_id, at, actor="system:waste")
    return request


def _change(
    request: PickupRequest,
    status: str,
    actor: str,
    *,
    weight_kg: float | None = None,
    at: datetime | None = None,
) -> PickupRequest:
    with transaction.atomic(using=DB):
        request = PickupRequest.objects.using(DB).select_for_update().select_related(
            "centre"
        ).get(pk=request.pk)  # fmt: skip
        if not request.open:
            raise ValidationError(_("This pick-up request is closed."), code="closed")
        request.status = status
        if status == PickupRequest.Status.DONE:
            request.done_at = at
            request.weight_kg = weight_kg
        request.save(using=DB)
        _record("centre.pickup_requested", actor, f"pickup:{request.pk}", _pickup_payload(request))
    return request
