"""The sandbox: an NGSI-LD tenant of synthetic data for every theme.

Sandbox applications may read and write only the ``sandbox`` tenant (and see only
the sandbox's datasets), so developers try every call on realistic data before
asking for real shared data. The data are synthetic, drawn from a fixed seed
around the territory's communes, and follow the Smart Data Models the live
context uses; each entity gets two days of hourly history.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alzette.territory.catalogue.models import Organisation
from alzette.territory.ngsild import entities, jsonld
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.models import Entity
from alzette.territory.partners.access import SANDBOX_ORGANISATION, SANDBOX_TENANT

_SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
#: Around the CCPHVA (Audun-le-Tiche to Aumetz), in CRS84.
_BOX = (5.88, 49.40, 6.02, 49.50)
PER_THEME = 6
HOURS = 48
ACTOR = "system:sandbox"
SANDBOX_DATASET = "sandbox-communes"


def _series(kind: str) -> Callable[[random.Random, int, int], dict[str, Any]]:
    """The changing attributes of a theme, ``n`` hours into the series at hour ``h`` of the
    day (waste fills over the series; the others follow daily profiles)."""

    def waste(rng: random.Random, n: int, h: int) -> dict[str, Any]:
        return {"fillingLevel": {"type": "Property", "value": round((n % 72) / 80 + 0.05, 2)}}

    def lighting(rng: random.Random, n: int, h: int) -> dict[str, Any]:
        night = h >= 18 or h < 7
        level = (0.5 if 0 <= h < 5 else 1.0) if night else 0.0
        return {
            "illuminanceLevel": {"type": "Property", "value": level},
            "powerState": {"type": "Property", "value": "on" if night else "off"},
            "powerConsumption": {"type": "Property", "value": round(60 * level, 1)},
        }

    def water(rng: random.Random, n: int, h: int) -> dict[str, Any]:
        litres = 20 + 300 * max(0.0, math.sin((h - 6) / 24 * 2 * math.pi))
        return {
            "waterConsumption": {
                "type": "Property",
                "value": int(litres + rng.random() * 20),
                "unitCode": "LTR",
            }
        }

    def mobility(rng: random.Random, n: int, h: int) -> dict[str, Any]:
        rush = 1.0 if h in (6, 7, 8, 16, 17, 18) else 0.3
        return {
            "intensity": {"type": "Property", "value": int(400 * rush + rng.randint(0, 40))},
            "averageVehicleSpeed": {
                "type": "Property",
                "value": round(70 - 35 * rush + rng.random() * 5, 1),
            },
        }

    return {"waste": waste, "lighting": lighting, "water": water, "mobility": mobility}[kind]


#: theme -> (Smart Data Models subject, entity type, attributes fixed at creation)
THEMES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "waste": ("WasteManagement", "WasteContainer", {"status": {"type": "Property", "value": "ok"}}),
    "lighting": ("Streetlighting", "Streetlight", {"status": {"type": "Property", "value": "ok"}}),
    "water": ("WaterConsumption", "WaterConsumptionObserved", {}),
    "mobility": (
        "Transportation",
        "TrafficFlowObserved",
        {"dateObserved": {"type": "Property", "value": "2026-01-01T00:00:00Z"}},
    ),
}


def seed(now: datetime | None = None, hours: int = HOURS) -> int:
    """Create the sandbox's organisation and entities (once each); the entities created."""
    Organisation.objects.using("territory").get_or_create(
        slug=SANDBOX_ORGANISATION,
        defaults={
            "name": "Bac à sable Alzette",
            "kind": Organisation.Kind.PUBLIC,
            "description": "Données synthétiques pour essayer les API.",
        },
    )
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    created = 0
    for theme, (subject, kind, fixed) in THEMES.items():
        created += _seed_theme(theme, subject, kind, fixed, now, hours)
    _seed_dataset()
    return created


def _seed_dataset() -> None:
    """A dataset that is not open, so sandbox applications try reading shared data."""
    from alzette.territory.catalogue import services as catalogue
    from alzette.territory.catalogue.models import Dataset

    if Dataset.objects.using("territory").filter(identifier=SANDBOX_DATASET).exists():
        return
    catalogue.publish(
        Organisation.objects.using("territory").get(slug=SANDBOX_ORGANISATION),
        SANDBOX_DATASET,
        title={"fr": "Bac à sable : communes", "en": "Sandbox: municipalities"},
        description={"fr": "Un jeu partagé d'essai, lisible par les applications du bac à sable."},
        licence="etalab-2.0",
        source="communes",
        source_options={},
        themes=["REGI"],
        access=Dataset.Access.COMMUNITY,
        actor=ACTOR,
    )


def _seed_theme(
    theme: str, subject: str, kind: str, fixed: dict[str, Any], now: datetime, hours: int
) -> int:
    ctx = jsonld.resolve(_SDM.format(subject))
    rng = random.Random(f"sandbox-{theme}")  # noqa: S311 - synthetic data, not security
    series = _series(theme)
    created = 0
    for n in range(1, PER_THEME + 1):
        entity_id = f"urn:ngsi-ld:{kind}:sandbox-{theme}-{n:02d}"
        if (
            Entity.objects.using("territory")
            .filter(tenant=SANDBOX_TENANT, entity_id=entity_id)
            .exists()
        ):
            continue
        start = now - timedelta(hours=hours)
        point = [round(rng.uniform(_BOX[0], _BOX[2]), 5), round(rng.uniform(_BOX[1], _BOX[3]), 5)]
        payload = {
            "id": entity_id,
            "type": kind,
            **fixed,
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": point}},
            **_observed(series(rng, 0, start.hour), start),
        }
        entities.create(Op(SANDBOX_TENANT, ctx, ACTOR, now=start), payload)
        for hour in range(1, hours + 1):
            at = start + timedelta(hours=hour)
            op = Op(SANDBOX_TENANT, ctx, ACTOR, now=at)
            entities.update_attributes(op, entity_id, _observed(series(rng, hour, at.hour), at))
        created += 1
    return created


def _observed(attributes: dict[str, Any], at: datetime) -> dict[str, Any]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {name: {**value, "observedAt": stamp} for name, value in attributes.items()}
