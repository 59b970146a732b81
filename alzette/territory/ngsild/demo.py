"""A small context: six waste containers per commune, and a mapping devices feed.

Used by tests that need a few entities quickly; ``alzette demo`` installs the full
waste equipment instead (``alzette.territory.waste.demo``), whose fill mappings
would overlap this one's. Idempotent (a batch upsert keeps existing values).
"""

from __future__ import annotations

import random

from alzette.core import spatial
from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.ngsild import batch, jsonld, mapping
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.models import Entity

WASTE_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/"
    "master/context.jsonld"
)
PER_COMMUNE = 6


def _points(unit: TerritorialUnit, rng: random.Random, count: int) -> list[tuple[float, float]]:
    area = spatial.parse_geometry(unit.geometry)
    box = unit.bbox
    found: list[tuple[float, float]] = []
    while len(found) < count:
        x, y = rng.uniform(box.min_x, box.max_x), rng.uniform(box.min_y, box.max_y)
        if area.contains(spatial.parse_geometry({"type": "Point", "coordinates": [x, y]})):
            found.append((round(x, 5), round(y, 5)))
    return found


def ensure_demo_context() -> int:
    """Create the demo WasteContainers (once) and the bins' device mapping; their count."""
    ctx = jsonld.resolve(WASTE_CONTEXT)
    rng = random.Random(57)  # noqa: S311 - demo data, not security
    items = []
    communes = TerritorialUnit.objects.using("territory").filter(kind=UnitKind.COMMUNE)
    for unit in communes.order_by("code"):
        for n, (x, y) in enumerate(_points(unit, rng, PER_COMMUNE), start=1):
            items.append({
                "id": f"urn:ngsi-ld:WasteContainer:{unit.code}-{n:02d}",
                "type": "WasteContainer",
                "name": f"{unit.name}, bac {n}",
                "location": {"type": "Point", "coordinates": [x, y]},
                "fillingLevel": {"type": "Property", "value": round(rng.random(), 2),
                                 "unitCode": "P1"},
                "wasteType": rng.choice(["glass", "paper", "plastic"]),
            })  # fmt: skip
    existing = set(
        Entity.objects.using("territory").filter(entity_id__in=[i["id"] for i in items])
        .values_list("entity_id", flat=True)
    )  # fmt: skip
    new = [i for i in items if i["id"] not in existing]
    if new:
        batch.write(Op(tenant="", ctx=ctx, actor="system:demo"), new, "create")
    mapping.define(name="demo-bins", container="alzette/*/fill", entity_type="WasteContainer",
                   entity_id="urn:ngsi-ld:WasteContainer:{ae}", attribute="fillingLevel",
                   value_path="level", unit_code="P1", context=WASTE_CONTEXT)  # fmt: skip
    return len(items)
