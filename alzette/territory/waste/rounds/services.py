"""Planning collection rounds: which bins to empty, and the trucks' routes to them.

A bin is collected when it is over the threshold on the round's day, or when it
would overflow before the next round (its level plus its fill rate times the
days until then reaches 1.0). The routes are compared with the fixed weekly
round that empties every bin of the territory with the same trucks, computed by
the same solver, so the savings shown are those of the selection and not of a
better or worse solver (docs/rounds.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alzette.territory.waste.rounds import distances, routing
from alzette.territory.waste.rounds.models import Depot, Round, RoundRecord, Route, Truck

DB = "territory"
DEFAULT_THRESHOLD = 0.7
#: Days until the next round when the parameters do not say (a weekly rhythm).
DEFAULT_HORIZON_DAYS = 7
#: Volume assumed for a bin whose entity does not give its capacity (a common 240 l bin).
DEFAULT_BIN_LITRES = 240.0


@dataclass(frozen=True)
class Candidate:
    """A bin as the planner sees it on the round's day."""

    id: str
    lon: float
    lat: float
    commune: str
    level: float  # expected level on the round's day, 0..1
    forecast: float  # expected level on the next round's day, uncapped
    load_l: int
    reason: str  # "threshold", "forecast" or "" (not selected)


def _bins() -> list[Any]:
    from alzette.territory.waste import services as waste

    return list(waste.containers(kind="bin"))


def _fill_rate(container_id: str) -> float | None:
    from alzette.territory.waste import services as waste

    return waste.fill_rate_per_day(container_id)


def _fill_rates(container_ids: list[str]) -> Callable[[str], float | None]:
    """Every bin's fill rate in a few queries (one per bin when the waste app lacks it)."""
    from alzette.territory.waste import services as waste

    bulk = getattr(waste, "fill_rates", None)
    if bulk is None:
        return _fill_rate
    rates = bulk(container_ids)
    return rates.get


def _days_between(observed_at: datetime | date | None, day: date) -> int:
    if observed_at is None:
        return 0
    seen = observed_at.date() if isinstance(observed_at, datetime) else observed_at
    return max(0, (day - seen).days)


def assess(
    bins: Iterable[Any],
    *,
    threshold: float,
    day: date,
    horizon: int,
    fill_rate: Callable[[str], float | None] = _fill_rate,
) -> list[Candidate]:
    """Every bin with a position, its expected level on ``day`` and whether it is
    selected. A bin whose level is unknown is never selected (nothing says it is
    full) but is part of the fixed round, counted full for the trucks' loads."""
    assessed = []
    for item in bins:
        if item.lon is None or item.lat is None:
            continue
        litres = float(item.capacity_l or DEFAULT_BIN_LITRES)
        if item.filling_level is None:
            assessed.append(
                Candidate(
                    item.id, item.lon, item.lat, item.commune or "", 1.0, 1.0, round(litres), ""
                )
            )
            continue
        rate = max(0.0, fill_rate(item.id) or 0.0)
        level = min(1.0, max(0.0, item.filling_level) + rate * _days_between(item.observed_at, day))
        forecast = level + rate * horizon
        reason = "threshold" if level >= threshold else "forecast" if forecast >= 1.0 else ""
        assessed.append(
            Candidate(
                item.id,
                item.lon,
                item.lat,
                item.commune or "",
                level,
                forecast,
                max(1, round(level * litres)),
                reason,
            )
        )
    return assessed


def fleet(trucks: int | None = None) -> list[Truck]:
    """The active trucks, the first ``trucks`` of them by name when given."""
    active = list(Truck.objects.using(DB).filter(active=True).select_related("depot"))
    if trucks is not None:
        if trucks < 1:
            raise ValidationError({"trucks": _("At least one truck is needed.")})
        if trucks > len(active):
            raise ValidationError(
                {
                    "trucks": _("Only %(count)d active trucks are available.")
                    % {"count": len(active)}
                }
            )
        active = active[:trucks]
    if not active:
        raise ValidationError(
            {"trucks": _("No active truck: declare the fleet first (alzette rounds fleet).")}
        )
    return active


@dataclass
class Plan:
    """A solved set of routes: per truck, its stops (Candidates) and figures."""

    stops: list[list[Candidate]]
    distances: list[int]
    loads: list[int]
    dropped: list[Candidate]
    status: str
    seconds: float
    source: str

    @property
    def distance(self) -> int:
        return sum(self.distances)


def route(
    candidates: Sequence[Candidate],
    trucks: Sequence[Truck],
    *,
    trips: int = 1,
    time_limit: float | None = None,
) -> Plan:
    """Solve the routes of ``trucks`` (each may make ``trips`` trips back to its
    depot to unload) through ``candidates``; a truck's trips are merged."""
    depots = list({truck.depot_id: truck.depot for truck in trucks}.values())
    depot_node = {depot.pk: index for index, depot in enumerate(depots)}
    points = [(d.lon, d.lat) for d in depots] + [(c.lon, c.lat) for c in candidates]
    matrix = distances.distance_matrix(points)
    vehicles = [truck for truck in trucks for _trip in range(trips)]
    problem = routing.Problem(
        metres=matrix.metres,
        demands=[0] * len(depots) + [c.load_l for c in candidates],
        starts=[depot_node[truck.depot_id] for truck in vehicles],
        capacities=[truck.capacity_litres for truck in vehicles],
    )
    limit = time_limit if time_limit is not None else _time_limit()
    solution = routing.solve(problem, time_limit=limit)
    offset = len(depots)
    stops: list[list[Candidate]] = [[] for _ in trucks]
    metres, loads = [0] * len(trucks), [0] * len(trucks)
    for vehicle, nodes in enumerate(solution.routes):
        which = vehicle // trips
        stops[which].extend(candidates[node - offset] for node in nodes)
        metres[which] += solution.distances[vehicle]
        loads[which] += solution.loads[vehicle]
    return Plan(
        stops=stops,
        distances=metres,
        loads=loads,
        dropped=[candidates[node - offset] for node in solution.dropped],
        status=solution.status,
        seconds=solution.seconds,
        source=matrix.source,
    )


def _time_limit() -> float:
    return float(getattr(settings, "ALZETTE_ROUTING_TIME_LIMIT", routing.DEFAULT_TIME_LIMIT))


def baseline_trips(candidates: Sequence[Candidate], trucks: Sequence[Truck]) -> int:
    """Trips per truck the fixed round needs to carry every bin (10 % packing margin)."""
    total = sum(c.load_l for c in candidates)
    capacity = sum(truck.capacity_litres for truck in trucks)
    return max(1, math.ceil(total * 1.1 / capacity))


def plan_round(
    *,
    trucks: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    day: date | None = None,
    actor: str = "system:rounds",
    horizon: int = DEFAULT_HORIZON_DAYS,
    time_limit: float | None = None,
) -> Round:
    """Select the bins to empty on ``day``, solve the routes, compare them with the
    fixed weekly round and store the round (draft) with its routes."""
    if not 0.0 < threshold <= 1.0:
        raise ValidationError(
            {"threshold": _("The threshold is a fill level above 0 and up to 1.")}
        )
    if not 1 <= horizon <= 60:
        raise ValidationError({"horizon": _("The next round is 1 to 60 days away.")})
    day = day or timezone.localdate()
    fleet_ = fleet(trucks)
    bins = _bins()
    rates = _fill_rates([b.id for b in bins])
    assessed = assess(bins, threshold=threshold, day=day, horizon=horizon, fill_rate=rates)
    selected = [c for c in assessed if c.reason]
    plan = route(selected, fleet_, time_limit=time_limit)
    baseline = route(
        assessed, fleet_, trips=baseline_trips(assessed, fleet_), time_limit=time_limit
    )
    parameters = {
        "threshold": threshold,
        "trucks": len(fleet_),
        "horizon": horizon,
        "time_limit": time_limit if time_limit is not None else _time_limit(),
        "selected_threshold": sum(1 for c in selected if c.reason == "threshold"),
        "selected_forecast": sum(1 for c in selected if c.reason == "forecast"),
        "bins": len(assessed),
        "baseline_trips": baseline_trips(assessed, fleet_),
        "baseline_solver_status": baseline.status,
    }
    with transaction.atomic(using=DB):
        found = Round(
            planned_for=day,
            computed_at=timezone.now(),
            parameters=parameters,
            distance_m=plan.distance,
            baseline_distance_m=baseline.distance,
            saved_m=baseline.distance - plan.distance,
            distance_source=plan.source,
            solver_status=plan.status,
            solver_seconds=round(plan.seconds + baseline.seconds, 3),
            container_count=sum(len(stops) for stops in plan.stops),
            baseline_container_count=sum(len(stops) for stops in baseline.stops),
            dropped=[{"id": c.id, "load_l": c.load_l} for c in plan.dropped],
            actor=actor,
        )
        found.save(using=DB)
        for position, (truck, stops) in enumerate(zip(fleet_, plan.stops, strict=True)):
            Route(
                round=found,
                truck=truck,
                position=position,
                sequence=[
                    {
                        "id": c.id,
                        "lon": c.lon,
                        "lat": c.lat,
                        "load_l": c.load_l,
                        "commune": c.commune,
                    }
                    for c in stops
                ],
                distance_m=plan.distances[position],
                load_l=plan.loads[position],
            ).save(using=DB)
        _record("waste_round.computed", actor, found, _computed_payload(found))
    return found


STATUS_ORDER = (Round.Status.DRAFT, Round.Status.VALIDATED, Round.Status.DONE)


def change_status(found: Round, status: str, *, actor: str = "system:rounds") -> Round:
    """Move a round forward: draft → validated → done (never back)."""
    if status not in STATUS_ORDER:
        raise ValidationError({"status": _("Unknown status.")})
    with transaction.atomic(using=DB):
        locked = Round.objects.using(DB).select_for_update().get(pk=found.pk)
        if STATUS_ORDER.index(status) != STATUS_ORDER.index(locked.status) + 1:
            raise ValidationError(
                {"status": _("A %(current)s round cannot become %(new)s.")
                 % {"current": locked.get_status_display(), "new": Round.Status(status).label}}
            )  # fmt: skip
        previous = locked.status
        locked.status = status
        locked.actor = actor
        locked.save(using=DB)
        _record(
            "waste_round.changed",
            actor,
            locked,
            {"round": str(locked.pk), "from": previous, "to": status},
        )
    return locked


def _computed_payload(found: Round) -> dict[str, Any]:
    return {
        "round": str(found.pk),
        "planned_for": found.planned_for.isoformat(),
        "parameters": found.parameters,
        "distance_m": found.distance_m,
        "baseline_distance_m": found.baseline_distance_m,
        "saved_m": found.saved_m,
        "routes": [
            {"truck": r.truck.name, "stops": [s["id"] for s in r.sequence]}
            for r in found.routes.select_related("truck").order_by("position")
        ],
        "dropped": [d["id"] for d in found.dropped],
    }


def _record(kind: str, actor: str, found: Round, payload: dict[str, Any]) -> None:
    from alzette.ledger import services as ledger

    ledger.record_opening(
        RoundRecord, kind, actor, f"waste_round:{found.pk}", payload, using=DB, round=found
    )


def latest_round() -> Round | None:
    """The round most recently computed, validated ones first (what trucks will drive)."""
    rounds = Round.objects.using(DB)
    return (
        rounds.filter(status=Round.Status.VALIDATED)
        .order_by("-planned_for", "-computed_at")
        .first()
        or rounds.order_by("-computed_at").first()
    )


# --- The fleet -----------------------------------------------------------------------------


def set_fleet(
    *,
    depot_name: str,
    lon: float,
    lat: float,
    commune: str = "",
    trucks: int,
    capacity_litres: int,
    prefix: str = "truck",
) -> tuple[Depot, list[Truck]]:
    """Create or update a depot and its ``trucks`` trucks named ``<prefix>-1``… (the
    same names as the trucks' oneM2M AEs); other trucks of that depot go inactive."""
    if trucks < 1:
        raise ValidationError({"trucks": _("At least one truck is needed.")})
    with transaction.atomic(using=DB):
        depot, _created = Depot.objects.using(DB).update_or_create(
            name=depot_name, defaults={"lon": lon, "lat": lat, "commune": commune}
        )
        fleet_ = []
        for number in range(1, trucks + 1):
            truck, _created = Truck.objects.using(DB).update_or_create(
                name=f"{prefix}-{number}",
                defaults={"capacity_litres": capacity_litres, "depot": depot, "active": True},
            )
            fleet_.append(truck)
        names = {truck.name for truck in fleet_}
        for other in Truck.objects.using(DB).filter(depot=depot, active=True):
            if other.name not in names:
                other.active = False
                other.save(using=DB)
    return depot, fleet_
