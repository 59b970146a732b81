"""Demo water network: districts for the 8 communes, their inflow, pressure and
quality entities, and about 60 household meters (docs/water.md).

Run by ``alzette demo``; idempotent: entities that exist are left as they are
(their values belong to the devices), districts and meters are kept. Names follow
the device conventions, so the simulator's devices land on these entities.
"""

from __future__ import annotations

import json
import random
from datetime import date
from typing import Any

from alzette.core import spatial
from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.ngsild import batch
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.models import Entity
from alzette.territory.water import services
from alzette.territory.water.models import District, Meter

DB = "territory"
#: Communes served by two districts (the larger towns); one elsewhere.
TWO_DISTRICTS = ("57038", "54580")
METERS = 60
SERIAL_PREFIX = "W26-"


def _communes() -> list[tuple[str, str]]:
    """(INSEE, name) of the territory's communes: the repository's, else the reference file."""
    rows = TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE).order_by("code")
    found = [(u.code, u.name) for u in rows]
    if found:
        return found
    from alzette.territory.geo.services import REFERENCE_COMMUNES

    features = json.loads(REFERENCE_COMMUNES.read_text(encoding="utf-8"))["features"]
    return sorted((f["properties"]["insee"], f["properties"]["name"]) for f in features)


def demo_meters() -> list[tuple[str, str]]:
    """(serial, INSEE) of the demo household meters, the same on every run."""
    communes = [code for code, _name in _communes()]
    return [(f"{SERIAL_PREFIX}{n:06d}", communes[(n - 1) % len(communes)])
            for n in range(1, METERS + 1)]  # fmt: skip


def _district_shapes(unit: TerritorialUnit | None, count: int) -> list[Any]:
    """The commune cut in ``count`` vertical strips (demo districts)."""
    if unit is None:
        return [None] * count
    area = spatial.parse_geometry(unit.geometry)
    if count == 1:
        return [area]
    from shapely.geometry import box

    b = unit.bbox
    step = (b.max_x - b.min_x) / count
    return [area.intersection(box(b.min_x + step * n, b.min_y, b.min_x + step * (n + 1), b.max_y))
            for n in range(count)]  # fmt: skip


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}


def _entities(district: District, where: tuple[float, float], rng: random.Random) -> list[dict]:
    x, y = where
    name = district.name
    return [
        {
            "id": services.inflow_id(district.slug),
            "type": "WaterConsumptionObserved",
            "name": {"type": "Property", "value": f"{name}, compteur de sectorisation"},
            "location": _point(x, y),
            "waterConsumption": {"type": "Property", "value": rng.randint(20_000, 90_000),
                                 "unitCode": "MTQ"},
            "alarmInProgress": {"type": "Property", "value": 0},
        },
        {
            "id": services.pressure_id(district.slug),
            "type": "DeviceMeasurement",
            "name": {"type": "Property", "value": f"{name}, pression"},
            "location": _point(round(x + 0.002, 6), round(y + 0.001, 6)),
            "controlledProperty": {"type": "Property", "value": "pressure"},
            "deviceType": {"type": "Property", "value": "sensor"},
            "numValue": {"type": "Property", "value": round(rng.uniform(3.0, 4.5), 2),
                         "unitCode": "BAR"},
            "unit": {"type": "Property", "value": "BAR"},
        },
        {
            "id": services.quality_id(district.slug),
            "type": "WaterQualityObserved",
            "name": {"type": "Property", "value": f"{name}, qualité"},
            "location": _point(round(x - 0.002, 6), round(y - 0.001, 6)),
            "pH": {"type": "Property", "value": round(rng.uniform(7.2, 7.9), 2)},
            "temperature": {"type": "Property", "value": 11.5, "unitCode": "CEL"},
            "conductivity": {"type": "Property", "value": rng.randint(450, 650),
                             "unitCode": "H61"},
            "turbidity": {"type": "Property", "value": 0.3, "unitCode": "NTU"},
            "freeChlorine": {"type": "Property", "value": 0.2, "unitCode": "M1"},
        },
    ]  # fmt: skip


def ensure_demo_water() -> dict[str, int]:
    """Create the demo districts, their entities and the household meters (once)."""
    rng = random.Random(5741)  # noqa: S311 - demo data, not security
    units = {u.code: u for u in TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE)}
    items: list[dict] = []
    districts: dict[str, list[District]] = {}
    for code, name in _communes():
        count = 2 if code in TWO_DISTRICTS else 1
        for n, shape in enumerate(_district_shapes(units.get(code), count), start=1):
            slug = f"{code}-{n}"
            label = name if count == 1 else f"{name} {n}"
            geometry = spatial.to_geojson(shape) if shape is not None and not shape.is_empty \
                else None  # fmt: skip
            district, _created = District.objects.using(DB).get_or_create(
                slug=slug, defaults={"name": label, "commune": code, "geometry": geometry,
                                     "inflow_entity": services.inflow_id(slug)},
            )  # fmt: skip
            districts.setdefault(code, []).append(district)
            if shape is not None and not shape.is_empty:
                inner = shape.representative_point()
                where = (round(inner.x, 5), round(inner.y, 5))
            else:
                where = (5.955 + 0.01 * n, 49.474)
            items += _entities(district, where, rng)
    ids = [i["id"] for i in items]
    existing = set(Entity.objects.using(DB).filter(tenant=services.TENANT, entity_id__in=ids)
                   .values_list("entity_id", flat=True))  # fmt: skip
    new = [i for i in items if i["id"] not in existing]
    if new:
        op = Op(tenant=services.TENANT, ctx=services.context(), actor="system:demo")
        result = batch.write(op, new, "create")
        if result.errors:
            raise RuntimeError(f"demo water entities refused: {result.errors[:3]}")
    meters = 0
    per_commune: dict[str, int] = {}
    for serial, code in demo_meters():
        choices = districts.get(code) or [None]
        n = per_commune[code] = per_commune.get(code, -1) + 1
        Meter.objects.using(DB).get_or_create(serial=serial, defaults={
            "commune": code, "district": choices[n % len(choices)],
            "installed_on": date(2026, 1, 1),
        })  # fmt: skip
        meters += 1
    return {
        "districts": sum(len(v) for v in districts.values()),
        "entities": len(ids),
        "meters": meters,
    }
