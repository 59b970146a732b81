"""Loading and querying the territory's units, without any HTTP dependency."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.db.models import QuerySet

from alzette.core import spatial
from alzette.core.repositories import TERRITORY
from alzette.territory.geo.models import TerritorialUnit, UnitKind

REFERENCE_COMMUNES = Path(__file__).parent / "data" / "communes-ccphva.geojson"

#: The EPCI that the reference communes belong to.
EPCI_CODE = "CCPHVA"
EPCI_NAME = "Communauté de communes Pays Haut Val d'Alzette"

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, label: str) -> None:
    return None


def load_reference_units(path: Path = REFERENCE_COMMUNES, progress: Progress = _no_progress) -> int:
    """Load the communes of ``path`` and the EPCI that groups them; idempotent.

    Returns the number of units written. Everything is written in one
    transaction: a bad feature leaves the repository as it was.
    """
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    shapes = [spatial.parse_geometry(feature["geometry"]) for feature in features]
    epci_shape = spatial.union(shapes)
    total = len(features) + 1
    with transaction.atomic(using=TERRITORY):
        epci = _upsert(EPCI_CODE, UnitKind.EPCI, EPCI_NAME, spatial.to_geojson(epci_shape))
        progress(1, total, EPCI_NAME)
        for index, (feature, shape) in enumerate(zip(features, shapes, strict=True), start=2):
            props = feature["properties"]
            _upsert(
                props["insee"],
                UnitKind.COMMUNE,
                props["name"],
                spatial.to_geojson(shape),
                department=props.get("department", ""),
                parent=epci,
            )
            progress(index, total, props["name"])
    return total


def _upsert(code: str, kind: str, name: str, geometry: dict, **extra: object) -> TerritorialUnit:
    unit = TerritorialUnit.objects.filter(code=code).first() or TerritorialUnit(code=code)
    unit.kind, unit.name, unit.geometry = kind, name, geometry
    for field, value in extra.items():
        setattr(unit, field, value)
    unit.save()
    return unit


def units_in_bbox(box: spatial.BBox) -> QuerySet[TerritorialUnit]:
    """Units whose bounding box intersects ``box`` (index scan, no geometry maths)."""
    return TerritorialUnit.objects.select_related("parent").filter(
        bbox_min_x__lte=box.max_x,
        bbox_max_x__gte=box.min_x,
        bbox_min_y__lte=box.max_y,
        bbox_max_y__gte=box.min_y,
    )


def locate(
    geojson: dict, crs: str = "OGC:CRS84", predicate: str = "intersects", kind: str | None = None
) -> list[TerritorialUnit]:
    """Units that satisfy ``unit <predicate> geometry``, the geometry given in ``crs``."""
    query = spatial.reproject(spatial.parse_geometry(geojson), crs, spatial.STORAGE_CRS)
    everything = TerritorialUnit.objects.select_related("parent")
    candidates = everything if predicate == "disjoint" else units_in_bbox(spatial.bbox_of(query))
    if kind:
        candidates = candidates.filter(kind=kind)
    return [
        unit
        for unit in candidates.order_by("kind", "name")
        if spatial.evaluate(predicate, spatial.parse_geometry(unit.geometry), query)
    ]


#: The CCPHVA's communes (INSEE codes), for what must work before the territory is
#: loaded (a simulator's generated fleet).
CCPHVA_COMMUNES = ("54521", "54580", "57038", "57041", "57096", "57529", "57565", "57603")


def commune_codes() -> tuple[str, ...]:
    """The communes' INSEE codes in the territory repository, in order; the CCPHVA's
    when the repository is not loaded or not reachable."""
    try:
        codes = tuple(
            TerritorialUnit.objects.using(TERRITORY)
            .filter(kind=UnitKind.COMMUNE)
            .order_by("code")
            .values_list("code", flat=True)
        )
    except Exception:  # no database yet (a simulator run before `alzette migrate`)
        codes = ()
    return codes or CCPHVA_COMMUNES
