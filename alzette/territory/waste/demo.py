"""Demo waste equipment: household bins, drop points and a recycling centre with its
skips, as NGSI-LD entities, and the device mappings that feed their fill levels.

Run by ``alzette demo``; idempotent: entities that exist are left as they are
(their fill levels belong to the devices), the centre and mappings are updated.
Names follow the device conventions (docs/waste.md), so the simulator's devices
land on these entities.
"""

from __future__ import annotations

import hashlib
import random

from alzette.core import spatial
from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.ngsild import batch, mapping
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.models import Entity
from alzette.territory.waste import services
from alzette.territory.waste.models import Centre

DB = "territory"
BINS_PER_COMMUNE = 25
ISLES_PER_COMMUNE = 2
COLUMN_KINDS = ("glass", "paper", "plastic")
CENTRE = {
    "slug": "audun",
    "name": "Déchèterie d'Audun-le-Tiche",
    "commune": "57038",
    "capacity": 12,
    "visits_per_year": 24,
    "opening_hours": "Lun-Sam 9h-12h, 14h-18h (hiver 17h) ; fermée dimanche et jours fériés",
}
#: Where the centre stands when the communes are not loaded (Audun-le-Tiche).
FALLBACK_POINT = (5.955, 49.474)
#: The skips of the demo centre and what each receives.
SKIP_KINDS = ("inorganic", "metal", "organic", "paper", "electronics", "hazardous")
#: (name, container path pattern) of the mappings feeding fillingLevel.
MAPPINGS = (
    ("waste-bins-fill", "alzette/bin-*/fill"),
    ("waste-droppoints-fill", "alzette/pav-*/fill"),
    ("waste-skips-fill", "alzette/skip-*/fill"),
)


def rfid_tag(bin_name: str) -> str:
    """The demo RFID tag of a bin (an asset id, the same on every run): EPC-like hex."""
    return "E28011" + hashlib.sha256(bin_name.encode()).hexdigest()[:18].upper()


def _points(unit: TerritorialUnit, rng: random.Random, count: int) -> list[tuple[float, float]]:
    area = spatial.parse_geometry(unit.geometry)
    box = unit.bbox
    found: list[tuple[float, float]] = []
    while len(found) < count:
        x, y = rng.uniform(box.min_x, box.max_x), rng.uniform(box.min_y, box.max_y)
        if area.contains(spatial.parse_geometry({"type": "Point", "coordinates": [x, y]})):
            found.append((round(x, 5), round(y, 5)))
    return found


def _point(x: float, y: float) -> dict:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}


def _level(rng: random.Random) -> dict:
    return {"type": "Property", "value": round(rng.uniform(0.05, 0.85), 2), "unitCode": "P1"}


def _bins(unit: TerritorialUnit, rng: random.Random) -> list[dict]:
    items = []
    for n, (x, y) in enumerate(_points(unit, rng, BINS_PER_COMMUNE), start=1):
        name = f"bin-{unit.code}-{n:03d}"
        # One household in three sorts its biowaste in a separate bin.
        kind = "organic" if n % 3 == 0 else "inorganic"
        items.append({
            "id": services.entity_id(name),
            "type": "WasteContainer",
            "name": {"type": "Property", "value": f"{unit.name}, {name}"},
            "location": _point(x, y),
            "fillingLevel": _level(rng),
            "storedWasteKind": {"type": "Property", "value": kind},
            "storedWasteOrigin": {"type": "Property", "value": "household"},
            "binCapacity": {"type": "Property", "value": rng.choice([120, 240]),
                            "unitCode": "LTR"},
            "category": {"type": "Property", "value": ["portable"]},
            "RFID": {"type": "Property", "value": rfid_tag(name)},
        })  # fmt: skip
    return items


def _drop_points(unit: TerritorialUnit, rng: random.Random) -> list[dict]:
    items = []
    for n, (x, y) in enumerate(_points(unit, rng, ISLES_PER_COMMUNE), start=1):
        isle = f"pav-{unit.code}-{n:02d}"
        columns = [f"{isle}-{kind}" for kind in COLUMN_KINDS]
        items.append({
            "id": services.ISLE_PREFIX + isle,
            "type": "WasteContainerIsle",
            "name": {"type": "Property", "value": f"{unit.name}, point d'apport {n}"},
            "location": _point(x, y),
            "refWasteContainer": {"type": "Property",
                                  "value": [services.entity_id(c) for c in columns]},
            "features": {"type": "Property", "value": ["containerFix"]},
            "insertHolesNumber": {"type": "Property", "value": len(columns)},
        })  # fmt: skip
        for offset, (column, kind) in enumerate(zip(columns, COLUMN_KINDS, strict=True)):
            items.append({
                "id": services.entity_id(column),
                "type": "WasteContainer",
                "name": {"type": "Property", "value": f"{unit.name}, point d'apport {n}, {kind}"},
                # Columns stand side by side, about three metres apart.
                "location": _point(round(x + 0.00004 * offset, 6), y),
                "fillingLevel": _level(rng),
                "storedWasteKind": {"type": "Property", "value": kind},
                "storedWasteOrigin": {"type": "Property", "value": "household"},
                "binCapacity": {"type": "Property", "value": 3000, "unitCode": "LTR"},
                "category": {"type": "Property", "value": ["fixed"]},
                "refWasteContainerIsle": {"type": "Relationship",
                                          "object": services.ISLE_PREFIX + isle},
            })  # fmt: skip
    return items


def _centre(rng: random.Random) -> tuple[Centre, list[dict]]:
    unit = TerritorialUnit.objects.using(DB).filter(code=CENTRE["commune"]).first()
    lon, lat = FALLBACK_POINT
    if unit is not None:  # communes not loaded: the centre still has a place
        inner = spatial.parse_geometry(unit.geometry).representative_point()
        lon, lat = round(inner.x, 5), round(inner.y, 5)
    centre, _ = Centre.objects.using(DB).update_or_create(
        slug=CENTRE["slug"], defaults={**CENTRE, "lon": lon, "lat": lat}
    )
    items = []
    for n, kind in enumerate(SKIP_KINDS, start=1):
        name = f"skip-{centre.slug}-{n}"
        items.append({
            "id": services.entity_id(name),
            "type": "WasteContainer",
            "name": {"type": "Property", "value": f"{centre.name}, benne {n} ({kind})"},
            "location": _point(round(lon + 0.00008 * n, 6), lat),
            "fillingLevel": _level(rng),
            "storedWasteKind": {"type": "Property", "value": kind},
            "storedWasteOrigin": {"type": "Property", "value": "municipal"},
            "binCapacity": {"type": "Property", "value": 30000, "unitCode": "LTR"},
            "category": {"type": "Property", "value": ["portable"]},
        })  # fmt: skip
    return centre, items


def ensure_mappings() -> int:
    """The device mappings feeding containers' fillingLevel (``level`` of ``fill``)."""
    for name, container in MAPPINGS:
        mapping.define(
            name=name, container=container, entity_type="WasteContainer",
            entity_id="urn:ngsi-ld:WasteContainer:{ae}", attribute="fillingLevel",
            value_path="level", unit_code="P1", context=services.WASTE_CONTEXT,
        )  # fmt: skip
    return len(MAPPINGS)


def ensure_demo_waste() -> dict[str, int]:
    """Create the demo equipment (once) and its mappings; what the demo holds."""
    rng = random.Random(5738)  # noqa: S311 - demo data, not security
    items: list[dict] = []
    communes = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE).order_by("code")
    isles = 0
    for unit in communes:
        items += _bins(unit, rng)
        items += _drop_points(unit, rng)
        isles += ISLES_PER_COMMUNE
    _centre_row, skips = _centre(rng)
    items += skips
    ids = [i["id"] for i in items]
    existing = set(
        Entity.objects.using(DB).filter(tenant=services.TENANT, entity_id__in=ids)
        .values_list("entity_id", flat=True)
    )  # fmt: skip
    new = [i for i in items if i["id"] not in existing]
    if new:
        op = Op(tenant=services.TENANT, ctx=services.context(), actor="system:demo")
        result = batch.write(op, new, "create")
        if result.errors:
            raise RuntimeError(f"demo waste entities refused: {result.errors[:3]}")
    return {
        "bins": sum(1 for i in ids if ":bin-" in i),
        "drop_points": isles,
        "columns": sum(1 for i in ids if ":WasteContainer:pav-" in i),
        "skips": len(skips),
        "centres": 1,
        "mappings": ensure_mappings(),
    }
