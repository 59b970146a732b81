"""Demo street lighting: cabinets, groups (streets) and lamps for the eight communes as
NGSI-LD entities (Smart Data Models Streetlighting), the device mappings that feed
them, a default policy per commune and a Christmas market in the calendar.

Run by ``alzette demo``; idempotent: entities that exist are left as they are
(their states belong to the devices), mappings are updated, a policy or override
already there (by name, by reason) is kept. Names follow the device conventions
(docs/lighting.md), so the simulator's lamps land on these entities.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils.text import slugify

from alzette.core import spatial
from alzette.territory.geo.models import TerritorialUnit, UnitKind
from alzette.territory.lighting import policies, schedule
from alzette.territory.lighting.authz import PLATFORM
from alzette.territory.lighting.models import CalendarOverride, Policy
from alzette.territory.ngsild import batch, jsonld, mapping
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.models import Entity

DB = "territory"
TENANT = ""
LIGHTING_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/"
    "master/context.jsonld"
)
#: Communes whose default policy cuts the light off in the small hours.
SMALL_COMMUNES = {"54521", "57096", "57565", "57603"}
POSTCODES = {"54521": "54880", "54580": "54190", "57038": "57390", "57041": "57710",
             "57096": "57655", "57529": "57840", "57565": "57390", "57603": "57390"}  # fmt: skip
STREETS = (
    "Grand-Rue", "Place de la Mairie", "Rue de la Gare", "Rue Jean Jaurès", "Rue de Verdun",
    "Avenue de la Libération", "Rue Victor Hugo", "Rue des Écoles", "Rue Pasteur",
    "Rue de la Mine", "Rue du Moulin", "Rue des Jardins", "Rue Maréchal Foch",
    "Rue de l'Église", "Cité des Mineurs", "Rue de Luxembourg",
)  # fmt: skip
#: Rated powers of LED lanterns (W); old high-pressure sodium lamps are 150 W.
LED_RATINGS = (30, 40, 50, 60, 70, 90)
SODIUM = 150
#: Where lamps stand when the communes are not loaded (Audun-le-Tiche).
FALLBACK_POINT = (5.955, 49.474)
MAPPINGS = (
    ("lighting-lamps-power-state", "alzette/streetlight-*/state", "Streetlight",
     "urn:ngsi-ld:Streetlight:{ae}", "powerState", "powerState", ""),
    ("lighting-lamps-level", "alzette/streetlight-*/state", "Streetlight",
     "urn:ngsi-ld:Streetlight:{ae}", "illuminanceLevel", "illuminanceLevel", ""),
    ("lighting-lamps-power", "alzette/streetlight-*/state", "Streetlight",
     "urn:ngsi-ld:Streetlight:{ae}", "powerConsumption", "powerConsumption", "WTT"),
    ("lighting-lamps-status", "alzette/streetlight-*/state", "Streetlight",
     "urn:ngsi-ld:Streetlight:{ae}", "status", "status", ""),
    ("lighting-cabinets-energy", "alzette/cabinet-*/meter", "StreetlightControlCabinet",
     "urn:ngsi-ld:StreetlightControlCabinet:{ae}", "energyConsumed", "energyConsumed", "KWH"),
    ("lighting-cabinets-power", "alzette/cabinet-*/meter", "StreetlightControlCabinet",
     "urn:ngsi-ld:StreetlightControlCabinet:{ae}", "totalActivePower", "totalActivePower",
     "KWT"),
)  # fmt: skip
AUDUN = "57038"
MARKET = "Marché de Noël"
FESTIVE = "Éclairage festif"


def context() -> jsonld.Context:
    return jsonld.resolve(LIGHTING_CONTEXT)


def default_steps(commune: str) -> list[dict[str, Any]]:
    """On at sunset, 50 % from 23:00, off 01:00 to 05:00 in small communes, 50 % until sunrise."""
    steps = [
        {"at": "sunset", "offset": 0, "level": 1.0},
        {"at": "23:00", "offset": 0, "level": 0.5},
    ]
    if commune in SMALL_COMMUNES:
        steps += [{"at": "01:00", "offset": 0, "level": 0.0},
                  {"at": "05:00", "offset": 0, "level": 0.5}]  # fmt: skip
    return [*steps, {"at": "sunrise", "offset": 0, "level": 0.0}]


def _prop(value: Any, unit: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if unit:
        out["unitCode"] = unit
    return out


def _rel(target: str | list[str]) -> dict[str, Any]:
    return {"type": "Relationship", "object": target}


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}}


def _starts(unit: TerritorialUnit | None, rng: random.Random, count: int) -> list[tuple]:
    """Points inside the commune (its built-up part is unknown: anywhere inside)."""
    if unit is None:
        return [(FALLBACK_POINT[0] + 0.002 * n, FALLBACK_POINT[1]) for n in range(count)]
    area = spatial.parse_geometry(unit.geometry)
    inner = area.representative_point()
    box = unit.bbox
    found: list[tuple[float, float]] = []
    # Streets cluster around the village centre: draw near its representative point first.
    spread = 0.25
    tries = 0
    while len(found) < count:
        tries += 1
        if tries % 50 == 0:
            spread = min(spread * 1.5, 1.0)
        x = inner.x + rng.uniform(-1, 1) * spread * (box.max_x - box.min_x) / 2
        y = inner.y + rng.uniform(-1, 1) * spread * (box.max_y - box.min_y) / 2
        if area.contains(spatial.parse_geometry({"type": "Point", "coordinates": [x, y]})):
            found.append((x, y))
    return found


def _commune_items(code: str, name: str, unit: TerritorialUnit | None, policy: str,
                   rng: random.Random) -> list[dict[str, Any]]:  # fmt: skip
    n_groups = rng.randint(3, 6)
    n_cabinets = rng.randint(2, min(4, n_groups))
    n_lamps = rng.randint(20, 40)
    streets = rng.sample(STREETS[2:], n_groups - 2)
    streets = ["Grand-Rue", "Place de la Mairie", *streets]
    # Spread the lamps over the streets, at least three each.
    sizes = [3] * n_groups
    for _n in range(n_lamps - 3 * n_groups):
        sizes[rng.randrange(n_groups)] += 1
    starts = _starts(unit, rng, n_groups)
    cabinets = [f"urn:ngsi-ld:StreetlightControlCabinet:cabinet-{code}-{n}"
                for n in range(1, n_cabinets + 1)]  # fmt: skip
    cabinet_groups: dict[str, list[str]] = {c: [] for c in cabinets}
    items: list[dict[str, Any]] = []
    lamp_number = 0
    postcode = POSTCODES.get(code, "")
    for g, (street, size, (x0, y0)) in enumerate(zip(streets, sizes, starts, strict=True)):
        group_id = f"urn:ngsi-ld:StreetlightGroup:{code}-{slugify(street)}"
        cabinet = cabinets[g % n_cabinets]
        cabinet_groups[cabinet].append(group_id)
        heading = rng.uniform(0, 3.14159)
        dx, dy = 0.00035 * math.cos(heading), 0.00025 * math.sin(heading)  # about 25-30 m apart
        lamp_ids = []
        for k in range(size):
            lamp_number += 1
            lamp_id = f"urn:ngsi-ld:Streetlight:streetlight-{code}-{lamp_number:03d}"
            lamp_ids.append(lamp_id)
            sodium = rng.random() < 0.08
            rating = SODIUM if sodium else rng.choice(LED_RATINGS)
            items.append({
                "id": lamp_id, "type": "Streetlight",
                "name": _prop(f"{street}, lampadaire {k + 1}"),
                "location": _point(round(x0 + dx * k, 6), round(y0 + dy * k, 6)),
                "status": _prop("ok"), "powerState": _prop("off"),
                "illuminanceLevel": _prop(0.0), "powerConsumption": _prop(0.0, "WTT"),
                "powerRating": _prop(float(rating), "WTT"),
                "refStreetlightGroup": _rel(group_id),
                "refStreetlightControlCabinet": _rel(cabinet),
                "controllingMethod": _prop("group"),
                "locationCategory": _prop("sidewalk"),
                "lanternHeight": _prop(8.0 if sodium else 6.0),
                "address": _prop({"streetAddress": street, "addressLocality": name,
                                  "postalCode": postcode, "addressCountry": "FR"}),
                "description": _prop("Sodium haute pression" if sodium else "LED"),
            })  # fmt: skip
        items.append({
            "id": group_id, "type": "StreetlightGroup",
            "name": _prop(f"{name}, {street}"),
            "location": _point(round(x0, 6), round(y0, 6)),
            "refStreetlight": _rel(lamp_ids),
            "refStreetlightControlCabinet": _rel(cabinet),
            "powerState": _prop("off"), "illuminanceLevel": _prop(0.0),
            "switchingMode": _prop(["night-ON", "night-LOW"]),
            "activeProgramId": _prop(policy),
        })  # fmt: skip
    for n, cabinet in enumerate(cabinets, start=1):
        x0, y0 = starts[(n - 1) % len(starts)]
        items.append({
            "id": cabinet, "type": "StreetlightControlCabinet",
            "name": _prop(f"{name}, armoire {n}"),
            "location": _point(round(x0 - 0.0002, 6), round(y0 - 0.0001, 6)),
            "refStreetlightGroup": _rel(cabinet_groups[cabinet]),
            "workingMode": _prop("automatic"),
            "features": _prop(["astronomicalClock", "individualControl"]),
            "energyConsumed": _prop(round(rng.uniform(2000, 20000), 1), "KWH"),
            "totalActivePower": _prop(0.0, "KWT"),
            "maximumPowerAvailable": _prop(float(rng.choice((9, 12, 18, 24, 36))), "KWT"),
            "cupboardMadeOf": _prop("metal"),
        })  # fmt: skip
    return items


def ensure_mappings() -> int:
    """The device mappings feeding lamps' and cabinets' attributes from their reports."""
    for name, container, entity_type, entity_id, attribute, path, unit in MAPPINGS:
        mapping.define(name=name, container=container, entity_type=entity_type,
                       entity_id=entity_id, attribute=attribute, value_path=path,
                       unit_code=unit, context=LIGHTING_CONTEXT)  # fmt: skip
    return len(MAPPINGS)


def _default_policy(code: str, name: str) -> Policy:
    title = f"Programme standard — {name}"
    found = Policy.objects.using(DB).filter(commune=code, name=title).first()
    if found is not None:
        return found
    return policies.save_policy(PLATFORM, {
        "name": title, "commune": code, "groups": [], "priority": 0, "enabled": True,
        "steps": default_steps(code),
    })  # fmt: skip


def market_dates(today: date) -> tuple[datetime, datetime]:
    """Friday 12:00 to Monday 12:00 (local) of the first weekend of December: three nights."""
    first = date(today.year, 12, 1)
    friday = first + timedelta(days=(4 - first.weekday()) % 7)
    zone = schedule.zone()
    return (datetime.combine(friday, time(12, 0), tzinfo=zone),
            datetime.combine(friday + timedelta(days=3), time(12, 0), tzinfo=zone))  # fmt: skip


def _market(today: date) -> int:
    """The Christmas market of Audun-le-Tiche: its streets follow a festive policy (full
    power all night) over the first weekend of December."""
    start, end = market_dates(today)
    if CalendarOverride.objects.using(DB).filter(commune=AUDUN, reason=MARKET,
                                                 start=start).exists():  # fmt: skip
        return 0
    wanted = [f"urn:ngsi-ld:StreetlightGroup:{AUDUN}-grand-rue",
              f"urn:ngsi-ld:StreetlightGroup:{AUDUN}-place-de-la-mairie"]  # fmt: skip
    known = {g.id for g in schedule.groups(AUDUN)}
    groups = [g for g in wanted if g in known]
    if not groups:
        return 0
    festive = Policy.objects.using(DB).filter(commune=AUDUN, name=FESTIVE).first()
    if festive is None:
        # Disabled: it only applies when the calendar says so.
        festive = policies.save_policy(PLATFORM, {
            "name": FESTIVE, "commune": AUDUN, "groups": groups, "priority": 10,
            "enabled": False, "steps": [{"at": "sunset", "offset": -30, "level": 1.0},
                                        {"at": "sunrise", "offset": 0, "level": 0.0}],
        })  # fmt: skip
    try:
        policies.save_override(PLATFORM, {"commune": AUDUN, "groups": groups, "start": start,
                                          "end": end, "policy": festive.pk,
                                          "reason": MARKET})  # fmt: skip
    except policies.Conflict:  # an agent planned these streets already: theirs stands
        return 0
    return 1


def ensure_demo_lighting(today: date | None = None) -> dict[str, int]:
    """Create the demo lighting (once) and its mappings; what the demo holds."""
    rng = random.Random(5738)  # noqa: S311 - demo data, not security
    units = list(TerritorialUnit.objects.using(DB).filter(kind=UnitKind.COMMUNE).order_by("code"))
    items: list[dict[str, Any]] = []
    for unit in units:
        policy = _default_policy(unit.code, unit.name)
        items += _commune_items(unit.code, unit.name, unit, f"policy:{policy.pk}", rng)
    ids = [i["id"] for i in items]
    existing = set(
        Entity.objects.using(DB).filter(tenant=TENANT, entity_id__in=ids)
        .values_list("entity_id", flat=True)
    )  # fmt: skip
    new = [i for i in items if i["id"] not in existing]
    if new:
        op = Op(tenant=TENANT, ctx=context(), actor="system:demo")
        result = batch.write(op, new, "create")
        if result.errors:
            raise RuntimeError(f"demo lighting entities refused: {result.errors[:3]}")
    overrides = _market(today or datetime.now(schedule.zone()).date())
    return {
        "lamps": sum(1 for i in ids if i.startswith(schedule.LAMP_PREFIX)),
        "groups": sum(1 for i in ids if i.startswith(schedule.GROUP_PREFIX)),
        "cabinets": sum(1 for i in ids if i.startswith(schedule.CABINET_PREFIX)),
        "policies": Policy.objects.using(DB).count(),
        "overrides": overrides,
        "mappings": ensure_mappings(),
    }
