"""The live map's layers: dotted paths of ``Layer`` subclasses, in drawing order.

A layer turns one kind of thing on the territory (communes, NGSI-LD devices,
events, alerts) into GeoJSON Features with small, uniform properties, so the
map draws any layer the same way and a delta of 1,500 changes stays small:

    {"id", "layer", "name", "theme", "value", "status", "commune", "observedAt"}

(``gone: true`` in a change means "remove it from the map"). ``features`` gives
the current state, ``changes(since)`` what changed at or after ``since``, and
``removed(since, gone)`` the ids of features that left the layer since while their
thing cannot say so itself (an NGSI-LD entity deleted, or changed so that the layer
no longer draws it); the live stream (``live.py``) polls both and is stateless.

Devices are read from the NGSI-LD store's index tables (entity types, scalar
values, bounding boxes), never from the entity documents: thousands of features
per request cost three scalar queries, not thousands of JSON decodes.

To add a layer, write its class (copy a sibling; another app may keep its own in
its package) and add its dotted path to ``HYPERVISION_LAYERS`` or the setting
``ALZETTE_HYPERVISION_LAYERS``. A path that does not import, a class that is not a
``Layer``, a bad or duplicate slug or an unknown theme raise
``ImproperlyConfigured`` (system check ``hypervision.E001`` at start-up).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max, Q, QuerySet
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

DB = "territory"
THEMES: dict[str, Any] = {
    "waste": _("Waste"),
    "lighting": _("Street lighting"),
    "water": _("Water"),
    "events": _("Events"),
    "territory": _("Territory"),
    "alerts": _("Alerts"),
}
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")

HYPERVISION_LAYERS: list[str] = [
    "alzette.territory.hypervision.layers.CommunesLayer",
    # One layer for every container; alzette.territory.waste.layers has one per kind
    # (bins, drop points, skips) for deployments that prefer them (docs/hypervision.md).
    "alzette.territory.hypervision.layers.WasteLayer",
    "alzette.territory.waste.dumping.layers.DumpingLayer",
    "alzette.territory.waste.rounds.layers.RoundsLayer",
    # The streetlights with each lamp's command state (docs/lighting-commands.md).
    "alzette.territory.lighting.commands.layers.LampCommandsLayer",
    "alzette.territory.water.layers.DistrictMetersLayer",
    "alzette.territory.water.layers.WaterSensorsLayer",
    "alzette.territory.hypervision.layers.EventsLayer",
    "alzette.territory.hypervision.layers.AlertsLayer",
]

Feature = dict[str, Any]


def iso(moment: datetime | date | None) -> str | None:
    """An instant as ISO 8601 UTC with a Z (a date as midnight UTC)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feature(
    layer: Layer,
    fid: str,
    geometry: dict[str, Any] | None,
    *,
    name: str = "",
    value: Any = None,
    status: str = "",
    commune: str = "",
    observed_at: datetime | date | None = None,
    gone: bool = False,
) -> Feature:
    """One GeoJSON Feature with the map's compact properties."""
    properties: dict[str, Any] = {
        "id": fid,
        "layer": layer.slug,
        "name": name,
        "theme": layer.theme,
        "value": value,
        "status": status,
        "commune": commune,
        "observedAt": iso(observed_at),
    }
    if gone:
        properties["gone"] = True
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}


class Layer:
    """Base class of the map's layers. Subclass it and set the class attributes."""

    #: Stable identifier, used in URLs (``?layers=``) and in the features' ``layer``.
    slug: ClassVar[str] = ""
    #: Translated (lazy) title, shown in the legend and the filters.
    title: ClassVar[Any] = ""
    #: One of ``THEMES``: the filter by theme keeps the layers of a theme.
    theme: ClassVar[str] = ""
    #: The legend's colour (CSS), also the markers' stroke.
    colour: ClassVar[str] = "#0b5d4b"

    def features(self, commune: str | None = None) -> list[Feature]:
        """The layer's current features, in ``commune`` (an INSEE code) when given."""
        return []

    def changes(self, since: datetime) -> list[Feature]:
        """Features that changed at or after ``since`` (``gone`` when removed)."""
        return []

    def removed(self, since: datetime, gone: Sequence[Any]) -> list[str]:
        """Ids of features that left the layer at or after ``since`` and that ``changes``
        cannot report as ``gone``: ``gone`` are the NGSI-LD entities that left types or
        their geometry since (``Tombstone`` rows: ``entity_id``, ``types`` by local name,
        ``deleted_at``; deleted ones included). An id the map never drew is harmless: the
        client ignores it. A layer whose things report their own end (closed events,
        alerts) keeps this default, none."""
        return []

    def count(self, commune: str | None = None) -> int:
        """How many features ``features(commune)`` gives; override when cheaper."""
        return len(self.features(commune))

    def recent(self, limit: int = 10) -> list[Feature]:
        """The ``limit`` latest changes of the last day, newest first."""
        since = datetime.now(UTC) - timedelta(days=1)
        found = self.changes(since)
        found.sort(key=lambda f: f["properties"]["observedAt"] or "", reverse=True)
        return found[:limit]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.slug!r}>"


# --- Communes: where a point is -----------------------------------------------------------


def _commune_key() -> tuple[int, Any]:
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    rows = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)
    figures = rows.aggregate(last=Max("updated_at"))
    return rows.count(), figures["last"]


@lru_cache(maxsize=2)
def _commune_shapes(key: tuple[int, Any]) -> list[tuple[str, Any]]:
    import shapely

    from alzette.core import spatial
    from alzette.territory.geo.models import TerritorialUnit, UnitKind

    shapes = []
    for code, geometry in (
        TerritorialUnit.objects.using(DB)
        .filter(kind=UnitKind.COMMUNE)
        .order_by("code")
        .values_list("code", "geometry")
    ):
        shape = spatial.parse_geometry(geometry)
        shapely.prepare(shape)
        shapes.append((code, shape))
    return shapes


def communes_of(xs: list[float], ys: list[float]) -> list[str]:
    """The INSEE code of the commune holding each point ("" outside the territory),
    for many points at once (one vectorised test per commune)."""
    import numpy as np
    import shapely

    found = np.full(len(xs), "", dtype=object)
    if not xs:
        return []
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    for code, shape in _commune_shapes(_commune_key()):
        inside = shapely.contains_xy(shape, x, y) & (found == "")
        found[inside] = code
    return found.tolist()


def commune_bbox(code: str) -> tuple[float, float, float, float] | None:
    from alzette.territory.geo.models import TerritorialUnit

    unit = TerritorialUnit.objects.using(DB).filter(code=code).first()
    if unit is None:
        return None
    return unit.bbox_min_x, unit.bbox_min_y, unit.bbox_max_x, unit.bbox_max_y


class CommunesLayer(Layer):
    """The communes' outlines, for orientation; they change only when reloaded."""

    slug = "communes"
    title = _("Communes")
    theme = "territory"
    colour = "#0b5d4b"

    def _rows(self, rows: QuerySet) -> list[Feature]:
        return [
            feature(
                self,
                f"commune:{u.code}",
                u.geometry,
                name=u.name,
                commune=u.code,
                observed_at=u.updated_at,
            )
            for u in rows.order_by("code")
        ]

    def _units(self) -> QuerySet:
        from alzette.territory.geo.models import TerritorialUnit, UnitKind

        return TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)

    def features(self, commune: str | None = None) -> list[Feature]:
        rows = self._units()
        return self._rows(rows.filter(code=commune) if commune else rows)

    def changes(self, since: datetime) -> list[Feature]:
        return self._rows(self._units().filter(updated_at__gte=since))

    def recent(self, limit: int = 10) -> list[Feature]:
        return []  # reloading the communes is not news for the agents


# --- NGSI-LD devices ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _local(iri: str) -> str:
    return re.split(r"[/#:]", iri)[-1]


def _named(field: str, names: Iterable[str]) -> Q:
    """Rows whose IRI ``field`` has one of ``names`` as local name, whatever @context
    expanded it (core default vocabulary, Smart Data Models...)."""
    query = Q()
    for name in names:
        query |= Q(**{field: name}) | Q(**{f"{field}__endswith": f"/{name}"})
        query |= Q(**{f"{field}__endswith": f"#{name}"})
    return query


class EntityLayer(Layer):
    """Entities of some NGSI-LD types (default tenant) at their ``location``, showing
    one attribute's value (e.g. ``fillingLevel``) and their ``status``."""

    #: Entity types by local name ("WasteContainer"), whatever their @context.
    entity_types: ClassVar[tuple[str, ...]] = ()
    #: The attribute shown as the feature's ``value`` (local name).
    value_attribute: ClassVar[str] = ""
    status_attribute: ClassVar[str] = "status"
    name_attribute: ClassVar[str] = "name"
    location_attribute: ClassVar[str] = "location"

    def type_iris(self) -> list[str]:
        from alzette.territory.ngsild.models import DEFAULT_TENANT, EntityType

        iris = (
            EntityType.objects.using(DB)
            .filter(tenant=DEFAULT_TENANT)
            .filter(_named("type_iri", self.entity_types))
            .values_list("type_iri", flat=True)
            .distinct()
        )
        return [iri for iri in iris if _local(iri) in self.entity_types]

    def entities(self) -> QuerySet:
        from alzette.territory.ngsild.models import DEFAULT_TENANT, Entity, EntityType

        typed = EntityType.objects.using(DB).filter(
            tenant=DEFAULT_TENANT, type_iri__in=self.type_iris()
        )
        return Entity.objects.using(DB).filter(
            tenant=DEFAULT_TENANT, pk__in=typed.values("entity_id")
        )

    def _placed(self, rows: QuerySet) -> QuerySet:
        """The ``rows`` that have a geometry in ``location_attribute`` (those drawn)."""
        from alzette.territory.ngsild.models import GeoIndex

        boxes = GeoIndex.objects.using(DB).filter(_named("attribute", [self.location_attribute]))
        return rows.filter(pk__in=boxes.values("entity_id"))

    def _in_commune(self, rows: QuerySet, commune: str) -> QuerySet:
        from alzette.territory.ngsild.models import GeoIndex

        box = commune_bbox(commune)
        if box is None:
            return rows.none()
        min_x, min_y, max_x, max_y = box
        boxes = GeoIndex.objects.using(DB).filter(
            _named("attribute", [self.location_attribute]),
            max_x__gte=min_x,
            min_x__lte=max_x,
            max_y__gte=min_y,
            min_y__lte=max_y,
        )
        return rows.filter(pk__in=boxes.values("entity_id"))

    def _features(self, rows: QuerySet, commune: str | None = None) -> list[Feature]:
        """Features of the entity ``rows``: three scalar queries (entities, boxes, values)."""
        from alzette.territory.ngsild.models import AttributeIndex, GeoIndex

        entities = list(rows.order_by("pk").values_list("pk", "entity_id", "modified_at"))
        if not entities:
            return []
        pks = rows.values("pk")
        where: dict[int, tuple[float, float]] = {}
        for pk, min_x, min_y, max_x, max_y in (
            GeoIndex.objects.using(DB)
            .filter(_named("attribute", [self.location_attribute]), entity_id__in=pks)
            .values_list("entity_id", "min_x", "min_y", "max_x", "max_y")
        ):
            where[pk] = ((min_x + max_x) / 2, (min_y + max_y) / 2)
        wanted = {
            self.value_attribute: "value",
            self.status_attribute: "status",
            self.name_attribute: "name",
        }
        values: dict[int, dict[str, Any]] = {}
        for pk, attribute, number, text in (
            AttributeIndex.objects.using(DB)
            .filter(_named("attribute", [n for n in wanted if n]), entity_id__in=pks)
            .values_list("entity_id", "attribute", "number", "text")
        ):
            role = wanted.get(_local(attribute))
            if role:
                values.setdefault(pk, {})[role] = number if number is not None else text
        placed = [row for row in entities if row[0] in where]
        codes = communes_of([where[r[0]][0] for r in placed], [where[r[0]][1] for r in placed])
        out = []
        for (pk, entity_id, modified), code in zip(placed, codes, strict=True):
            if commune and code != commune:
                continue
            found = values.get(pk, {})
            out.append(
                feature(
                    self,
                    entity_id,
                    point(*where[pk]),
                    name=found.get("name") or "",
                    value=found.get("value"),
                    status=found.get("status") or "",
                    commune=code,
                    observed_at=modified,
                )
            )
        return out

    def features(self, commune: str | None = None) -> list[Feature]:
        rows = self.entities()
        if commune:
            rows = self._in_commune(rows, commune)
        return self._features(rows, commune)

    def changes(self, since: datetime) -> list[Feature]:
        return self._features(self.entities().filter(modified_at__gte=since))

    def removed(self, since: datetime, gone: Sequence[Any]) -> list[str]:
        """The entities of ``gone`` that had one of the layer's types (deleted, re-typed,
        or without geometry now) and that the layer does not draw now: one query, only
        when some are gone. A layer narrowed further (e.g. by name prefix, which never
        changes) may name an entity it never drew; a subclass that narrows by a value
        that can change adds the entities changed since that it no longer selects."""
        kinds = set(self.entity_types)
        ids = list(dict.fromkeys(t.entity_id for t in gone if kinds & set(t.types)))
        if not ids:
            return []
        drawn = self._placed(self.entities().filter(entity_id__in=ids))
        kept = set(drawn.values_list("entity_id", flat=True))
        return [i for i in ids if i not in kept]

    def count(self, commune: str | None = None) -> int:
        if commune:
            return len(self.features(commune))
        return self.entities().count()

    def recent(self, limit: int = 10) -> list[Feature]:
        latest = self.entities().order_by("-modified_at").values_list("pk", flat=True)[:limit]
        found = self._features(self.entities().filter(pk__in=list(latest)))
        found.sort(key=lambda f: f["properties"]["observedAt"] or "", reverse=True)
        return found


class WasteLayer(EntityLayer):
    """Household bins, drop-point columns and skips, with their fill level (0..1),
    and the drop points (isles)."""

    slug = "waste"
    title = _("Waste containers")
    theme = "waste"
    colour = "#7a4b00"
    entity_types = ("WasteContainer", "WasteContainerIsle")
    value_attribute = "fillingLevel"


class StreetlightsLayer(EntityLayer):
    slug = "streetlights"
    title = _("Streetlights")
    theme = "lighting"
    colour = "#8a6d00"
    entity_types = ("Streetlight",)
    value_attribute = "powerState"


class WaterLayer(EntityLayer):
    slug = "water"
    title = _("Water")
    theme = "water"
    colour = "#1d4f91"
    entity_types = ("WaterConsumptionObserved", "WaterObserved", "WaterQualityObserved")
    value_attribute = "totalActiveVolume"


# --- Events and alerts --------------------------------------------------------------------


class EventsLayer(Layer):
    """Open events reported on the territory, from the bridge's anonymous copy: a
    point to ten metres, a day, a kind; never a photo or a text. Illegal dumps are
    left to the dumping layer, which shows them with the agents' reports."""

    #: Kinds another layer draws (``waste.dumping.layers.DumpingLayer``).
    EXCLUDED = ("illegal_dump",)

    slug = "events"
    title = _("Territory events")
    theme = "events"
    colour = "#b3261e"

    def _rows(self, rows: QuerySet) -> list[Feature]:
        return [
            feature(
                self,
                f"event:{e.pk}",
                point(e.lon, e.lat),
                name=e.kind,
                value=e.kind,
                status=e.status,
                commune=e.commune_code,
                observed_at=e.observed_on,
                gone=e.status != "open",
            )
            for e in rows.order_by("-observed_on")
        ]

    def features(self, commune: str | None = None) -> list[Feature]:
        from alzette.territory.events.models import TerritoryEvent

        rows = (
            TerritoryEvent.objects.using(DB).filter(status="open").exclude(kind__in=self.EXCLUDED)
        )
        return self._rows(rows.filter(commune_code=commune) if commune else rows)

    def changes(self, since: datetime) -> list[Feature]:
        from alzette.territory.events.models import TerritoryEvent

        rows = TerritoryEvent.objects.using(DB).filter(updated_at__gte=since)
        return self._rows(rows.exclude(kind__in=self.EXCLUDED))


def _alert_model() -> Any:
    """supervision.Alert when the supervision app is installed (it is optional here)."""
    try:
        return apps.get_model("supervision", "Alert")
    except LookupError:
        return None


class AlertsLayer(Layer):
    """Open alerts (supervision: firing or acknowledged) at the place of their entity;
    a closed alert leaves the map (``gone``)."""

    slug = "alerts"
    title = _("Active alerts")
    theme = "alerts"
    colour = "#c00000"
    OPEN = ("firing", "acknowledged")

    def _features(self, alerts: list[Any]) -> list[Feature]:
        from alzette.territory.ngsild.models import DEFAULT_TENANT, GeoIndex

        if not alerts:
            return []
        boxes = (
            GeoIndex.objects.using(DB)
            .filter(
                _named("attribute", ["location"]),
                entity__tenant=DEFAULT_TENANT,
                entity__entity_id__in={a.entity_id for a in alerts},
            )
            .values_list("entity__entity_id", "min_x", "min_y", "max_x", "max_y")
        )
        where = {e: ((a + c) / 2, (b + d) / 2) for e, a, b, c, d in boxes}
        placed = [a for a in alerts if a.entity_id in where]
        points = [where[a.entity_id] for a in placed]
        codes = communes_of([p[0] for p in points], [p[1] for p in points])
        out = []
        for alert, (x, y), code in zip(placed, points, codes, strict=True):
            moment = alert.closed_at or alert.acknowledged_at or alert.fired_at
            out.append(
                feature(
                    self,
                    f"alert:{alert.pk}",
                    point(x, y),
                    name=alert.message[:200],
                    value=alert.rule.severity,
                    status=alert.state,
                    commune=code,
                    observed_at=moment,
                    gone=alert.state not in self.OPEN,
                )
            )
        return out

    def features(self, commune: str | None = None) -> list[Feature]:
        model = _alert_model()
        if model is None:
            return []
        rows = model.objects.using(DB).filter(state__in=self.OPEN).select_related("rule")
        found = self._features(list(rows[:5000]))
        return [f for f in found if not commune or f["properties"]["commune"] == commune]

    def changes(self, since: datetime) -> list[Feature]:
        model = _alert_model()
        if model is None:
            return []
        rows = model.objects.using(DB).filter(
            Q(fired_at__gte=since) | Q(acknowledged_at__gte=since) | Q(closed_at__gte=since)
        )
        return self._features(list(rows.select_related("rule")[:5000]))

    def removed(self, since: datetime, gone: Sequence[Any]) -> list[str]:
        """The alerts of the ``gone`` entities that have no place any more (deleted, or
        without a location now); a re-typed entity keeps its alerts where they are.
        Supervision closes a deleted entity's alerts in the deletion's transaction, so
        those closed from then on were open on the map until it."""
        from alzette.territory.ngsild.models import DEFAULT_TENANT, GeoIndex

        model = _alert_model()
        if model is None or not gone:
            return []
        placed = set(
            GeoIndex.objects.using(DB)
            .filter(
                _named("attribute", ["location"]),
                entity__tenant=DEFAULT_TENANT,
                entity__entity_id__in={t.entity_id for t in gone},
            )
            .values_list("entity__entity_id", flat=True)
        )
        lost = [t for t in gone if t.entity_id not in placed]
        if not lost:
            return []
        gone_since = min(t.deleted_at for t in lost) - timedelta(seconds=1)
        pks = (
            model.objects.using(DB)
            .filter(entity_id__in={t.entity_id for t in lost})
            .filter(Q(state__in=self.OPEN) | Q(closed_at__gte=gone_since))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        return [f"alert:{pk}" for pk in pks]

    def count(self, commune: str | None = None) -> int:
        model = _alert_model()
        if model is None or commune:
            return len(self.features(commune)) if model is not None else 0
        return model.objects.using(DB).filter(state__in=self.OPEN).count()


# --- The registry -------------------------------------------------------------------------


def layer_paths() -> tuple[str, ...]:
    """The configured dotted paths: the setting when present, else ``HYPERVISION_LAYERS``."""
    return tuple(getattr(settings, "ALZETTE_HYPERVISION_LAYERS", HYPERVISION_LAYERS))


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> dict[str, Layer]:
    layers: dict[str, Layer] = {}
    for path in paths:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"Map layer {path!r} cannot be imported: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise ImproperlyConfigured(f"Map layer {path!r} is not a Layer subclass.")
        layer = cls()
        if not isinstance(layer.slug, str) or not SLUG.fullmatch(layer.slug):
            raise ImproperlyConfigured(f"Map layer {path!r}: invalid slug {layer.slug!r}.")
        if layer.theme not in THEMES:
            raise ImproperlyConfigured(f"Map layer {path!r}: unknown theme {layer.theme!r}.")
        if not str(layer.title):
            raise ImproperlyConfigured(f"Map layer {path!r} has no title.")
        if layer.slug in layers:
            raise ImproperlyConfigured(f"Map layer {path!r}: the slug {layer.slug!r} is taken.")
        layers[layer.slug] = layer
    return layers


def layers() -> dict[str, Layer]:
    """Every registered layer by slug, in registry (drawing) order."""
    return _load(layer_paths())


def select(slugs: Iterable[str] = (), theme: str = "") -> list[Layer]:
    """The registered layers named in ``slugs`` (all when empty), of ``theme`` when given."""
    wanted = set(slugs)
    return [
        layer
        for slug, layer in layers().items()
        if (not wanted or slug in wanted) and (not theme or layer.theme == theme)
    ]


def reload() -> None:
    """Forget the loaded layers (after the setting changed, e.g. in tests)."""
    _load.cache_clear()
