"""Collection rounds: selection, the OR-Tools solver, distances (with a fake OSRM),
the stored round and its ledger entries, the map layer and the command."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from alzette.territory.waste.rounds import demo, distances, routing, services
from alzette.territory.waste.rounds.models import Depot, Round, RoundRecord, Route, Truck
from tests.conftest import ALL_DATABASES

DAY = date(2026, 12, 7)
DEPOT = (5.9478, 49.4705)


def _bin(n: int, lon: float, lat: float, level: float | None, litres: float = 240.0, **extra):
    return SimpleNamespace(
        id=f"urn:ngsi-ld:WasteContainer:bin-57038-{n:03d}",
        kind="bin",
        commune=extra.pop("commune", "57038"),
        lon=lon,
        lat=lat,
        filling_level=level,
        capacity_l=litres,
        waste_kind="inorganic",
        observed_at=extra.pop("observed_at", datetime(2026, 12, 7, 6, tzinfo=UTC)),
        name=f"bin {n}",
    )


@pytest.fixture
def fleet():
    return services.set_fleet(
        depot_name="Depot", lon=DEPOT[0], lat=DEPOT[1], commune="57038", trucks=2,
        capacity_litres=2_000,
    )  # fmt: skip


@pytest.fixture
def fast(settings):
    settings.ALZETTE_ROUTING_TIME_LIMIT = 1
    settings.ALZETTE_OSRM_URL = ""


def _serve(bins, rates=None, monkeypatch=None):
    monkeypatch.setattr(services, "_bins", lambda: list(bins))
    monkeypatch.setattr(services, "_fill_rates", lambda ids: (rates or {}).get)


# --- Selection ------------------------------------------------------------------------------


def test_bins_over_the_threshold_are_selected_and_the_others_are_not():
    bins = [_bin(1, 5.95, 49.47, 0.8), _bin(2, 5.95, 49.47, 0.3), _bin(3, 5.95, 49.47, 0.7)]
    assessed = services.assess(bins, threshold=0.7, day=DAY, horizon=7, fill_rate=lambda _: None)
    assert [c.reason for c in assessed] == ["threshold", "", "threshold"]
    assert assessed[0].load_l == round(0.8 * 240)


def test_a_bin_forecast_to_overflow_before_the_next_round_is_selected():
    rates = {"urn:ngsi-ld:WasteContainer:bin-57038-001": 0.1}
    bins = [_bin(1, 5.95, 49.47, 0.4), _bin(2, 5.95, 49.47, 0.4)]
    week = services.assess(bins, threshold=0.7, day=DAY, horizon=7, fill_rate=rates.get)
    assert [c.reason for c in week] == ["forecast", ""]  # 0.4 + 0.7 >= 1; no rate: no forecast
    three_days = services.assess(bins, threshold=0.7, day=DAY, horizon=3, fill_rate=rates.get)
    assert [c.reason for c in three_days] == ["", ""]  # 0.4 + 0.3 < 1


def test_the_level_is_projected_to_the_round_day_and_unknown_levels_are_not_selected():
    rates = {"urn:ngsi-ld:WasteContainer:bin-57038-001": 0.1}
    seen = datetime(2026, 12, 3, 8, tzinfo=UTC)  # four days before DAY
    bins = [_bin(1, 5.95, 49.47, 0.4, observed_at=seen), _bin(2, 5.95, 49.47, None)]
    first, unknown = services.assess(bins, threshold=0.75, day=DAY, horizon=1, fill_rate=rates.get)
    assert first.level == pytest.approx(0.8) and first.reason == "threshold"
    assert unknown.reason == "" and unknown.load_l == 240  # counted full in the fixed round


# --- Solver ---------------------------------------------------------------------------------


def _square(n: int) -> list[list[int]]:
    points = [(5.95 + 0.01 * (i % 4), 49.47 + 0.01 * (i // 4)) for i in range(n)]
    return distances.haversine_matrix(points, factor=1.3)


def test_the_solver_visits_every_stop_within_each_truck_capacity():
    metres = _square(11)  # node 0 is the depot, 10 stops
    demands = [0, 300, 400, 200, 500, 100, 300, 400, 200, 300, 100]
    problem = routing.Problem(
        metres=metres, demands=demands, starts=[0, 0], capacities=[1_500, 1_500]
    )
    solution = routing.solve(problem, time_limit=1)
    visited = [node for route in solution.routes for node in route]
    assert sorted(visited) == list(range(1, 11)) and not solution.dropped
    assert all(load <= 1_500 for load in solution.loads)
    assert solution.loads == [sum(demands[n] for n in route) for route in solution.routes]
    assert solution.distance == sum(solution.distances) > 0


def test_the_solver_drops_visits_only_when_the_trucks_cannot_carry_them():
    metres = _square(6)
    problem = routing.Problem(
        metres=metres, demands=[0, 600, 600, 600, 600, 600], starts=[0], capacities=[1_300]
    )
    solution = routing.solve(problem, time_limit=1)
    assert len(solution.dropped) == 3 and len(solution.routes[0]) == 2
    assert solution.loads[0] <= 1_300


def test_a_load_larger_than_any_truck_is_reported_dropped():
    problem = routing.Problem(
        metres=_square(3), demands=[0, 100, 5_000], starts=[0], capacities=[1_000]
    )
    solution = routing.solve(problem, time_limit=1)
    assert solution.dropped == [2] and solution.routes == [[1]]


def test_nothing_to_collect_gives_empty_routes():
    solution = routing.solve(
        routing.Problem(metres=[[0]], demands=[0], starts=[0], capacities=[10]), time_limit=1
    )
    assert solution.routes == [[]] and solution.distance == 0 and not solution.dropped


# --- Distances ------------------------------------------------------------------------------


def test_haversine_matrix_applies_the_detour_factor(settings):
    a, b = (5.95, 49.47), (5.95, 49.48)  # 0.01° of latitude, about 1,112 m
    straight = distances.haversine_m(a, b)
    assert 1_100 < straight < 1_125
    settings.ALZETTE_ROUTING_DETOUR_FACTOR = 1.3
    assert distances.haversine_matrix([a, b]) == [
        [0, round(straight * 1.3)],
        [round(straight * 1.3), 0],
    ]
    settings.ALZETTE_ROUTING_DETOUR_FACTOR = 1.0
    assert distances.haversine_matrix([a, b])[0][1] == round(straight)


class _FakeOSRM(BaseHTTPRequestHandler):
    mode = "ok"
    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.mode == "slow":
            time.sleep(1.5)
        if self.mode == "error":
            self._answer(400, {"code": "InvalidQuery", "message": "bad"})
            return
        path, _, query = self.path.partition("?")
        coords = [tuple(map(float, c.split(","))) for c in path.rsplit("/", 1)[1].split(";")]
        params = dict(p.split("=", 1) for p in query.split("&"))
        sources = [int(i) for i in params["sources"].split(";")]
        targets = [int(i) for i in params["destinations"].split(";")]
        # Road distance: a recognisable 2 x the latitude difference in metres + 7.
        table = [
            [abs(coords[s][1] - coords[t][1]) * 111_000 * 2 + (7 if s != t else 0) for t in targets]
            for s in sources
        ]
        if self.mode == "unroutable":
            table[0][-1] = None
        self._answer(200, {"code": "Ok", "distances": table})

    def _answer(self, status, body):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOSRM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeOSRM.mode, _FakeOSRM.requests = "ok", []
    settings.ALZETTE_OSRM_URL = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.ALZETTE_OSRM_TIMEOUT = 0.5
    settings.ALZETTE_ROUTING_DETOUR_FACTOR = 1.3
    yield _FakeOSRM
    server.shutdown()
    server.server_close()


POINTS = [(5.95, 49.47), (5.95, 49.48), (5.96, 49.50)]


def test_road_distances_come_from_the_osrm_table_service(osrm):
    matrix = distances.distance_matrix(POINTS)
    assert matrix.source == "osrm"
    assert matrix.metres[0][1] == round(0.01 * 111_000 * 2 + 7)
    assert matrix.metres[1][1] == 0
    assert len(osrm.requests) == 1
    assert "/table/v1/driving/5.950000,49.470000;" in osrm.requests[0]
    assert "annotations=distance" in osrm.requests[0]


def test_large_sets_are_cut_into_tables_the_service_accepts(osrm, settings):
    settings.ALZETTE_OSRM_TABLE_SIZE = 4
    points = [(5.95, 49.47 + 0.001 * i) for i in range(7)]
    matrix = distances.distance_matrix(points)
    assert matrix.source == "osrm" and len(osrm.requests) == 16  # blocks of 2: 4 x 4
    assert all(len(r.split("?")[0].rsplit("/", 1)[1].split(";")) <= 4 for r in osrm.requests)
    assert matrix.metres[0][6] == round(0.006 * 111_000 * 2 + 7)
    assert matrix.metres[6][0] == matrix.metres[0][6]


def test_a_pair_the_service_cannot_route_falls_back_to_the_estimate(osrm):
    osrm.mode = "unroutable"
    matrix = distances.distance_matrix(POINTS)
    expected = round(distances.haversine_m(POINTS[0], POINTS[2]) * 1.3)
    assert matrix.source == "osrm" and matrix.metres[0][2] == expected


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_a_failing_service_falls_back_to_estimates_with_a_warning(osrm, mode, caplog):
    osrm.mode = mode
    with caplog.at_level(logging.WARNING, logger="alzette.territory.waste.rounds.distances"):
        matrix = distances.distance_matrix(POINTS)
    assert matrix.source == "haversine"
    assert matrix.metres == distances.haversine_matrix(POINTS)
    assert any("Routing service" in r.getMessage() for r in caplog.records)


def test_an_unreachable_service_falls_back_too(settings, caplog):
    settings.ALZETTE_OSRM_URL = "http://127.0.0.1:9/"  # discard port: refused
    settings.ALZETTE_OSRM_TIMEOUT = 0.5
    with caplog.at_level(logging.WARNING):
        assert distances.distance_matrix(POINTS).source == "haversine"
    assert caplog.records


# --- Planning a round -----------------------------------------------------------------------


def _clustered() -> list[SimpleNamespace]:
    """Two villages 4 km apart: the near one's bins are full, the far one's nearly empty."""
    near = [_bin(i, 5.95 + 0.001 * (i % 5), 49.47 + 0.001 * (i // 5), 0.9) for i in range(10)]
    far = [_bin(100 + i, 5.99 + 0.001 * (i % 5), 49.50 + 0.001 * (i // 5), 0.1) for i in range(10)]
    return near + far


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_round_is_stored_with_its_routes_savings_and_ledger_entry(fleet, fast, monkeypatch):
    _serve(_clustered(), monkeypatch=monkeypatch)
    found = services.plan_round(threshold=0.7, day=DAY, actor="ab" * 16)
    found.refresh_from_db()
    assert found.status == Round.Status.DRAFT and found.planned_for == DAY
    assert found.container_count == 10 and found.baseline_container_count == 20
    assert found.parameters["threshold"] == 0.7 and found.parameters["trucks"] == 2
    assert found.parameters["horizon"] == 7
    routes = list(Route.objects.filter(round=found))
    stops = {s["id"] for r in routes for s in r.sequence}
    assert stops == {f"urn:ngsi-ld:WasteContainer:bin-57038-{i:03d}" for i in range(10)}
    assert all(r.load_l <= r.truck.capacity_litres for r in routes)
    assert sum(r.distance_m for r in routes) == found.distance_m
    assert found.baseline_distance_m > found.distance_m > 0
    assert found.saved_m == found.baseline_distance_m - found.distance_m > 4_000
    record = RoundRecord.objects.get(round=found)
    assert record.kind == "waste_round.computed" and record.payload["saved_m"] == found.saved_m
    from alzette.ledger.models import LedgerEntry

    entry = LedgerEntry.objects.get(index=record.leaf_index)
    assert entry.kind == "waste_round.computed" and entry.object == f"waste_round:{found.pk}"
    assert entry.actor == "ab" * 16


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_round_reports_what_the_trucks_could_not_carry(fleet, fast, monkeypatch):
    full = [_bin(i, 5.95 + 0.001 * i, 49.47, 1.0, litres=660) for i in range(8)]  # 5,280 l
    _serve(full, monkeypatch=monkeypatch)
    found = services.plan_round(threshold=0.7, day=DAY)
    assert found.container_count == 6 and len(found.dropped) == 2  # 3 x 660 per 2,000 l truck
    assert all(r.load_l <= 2_000 for r in found.routes.all())


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_bad_parameters_are_refused(fleet, fast, monkeypatch):
    _serve(_clustered(), monkeypatch=monkeypatch)
    for kwargs in ({"threshold": 0}, {"threshold": 1.5}, {"trucks": 3}, {"trucks": 0},
                   {"horizon": 0}):  # fmt: skip
        with pytest.raises(ValidationError):
            services.plan_round(day=DAY, **kwargs)
    assert not Round.objects.exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_no_fleet_no_round(fast, monkeypatch):
    _serve(_clustered(), monkeypatch=monkeypatch)
    with pytest.raises(ValidationError) as error:
        services.plan_round(day=DAY)
    assert "trucks" in error.value.message_dict


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_status_moves_forward_only_and_each_change_is_recorded(fleet, fast, monkeypatch):
    _serve(_clustered()[:3], monkeypatch=monkeypatch)
    found = services.plan_round(day=DAY, trucks=1)
    with pytest.raises(ValidationError):
        services.change_status(found, Round.Status.DONE)
    found = services.change_status(found, Round.Status.VALIDATED, actor="cd" * 16)
    found = services.change_status(found, Round.Status.DONE, actor="cd" * 16)
    with pytest.raises(ValidationError):
        services.change_status(found, Round.Status.VALIDATED)
    with pytest.raises(ValidationError):
        services.change_status(found, "cancelled")
    kinds = list(RoundRecord.objects.filter(round=found).values_list("kind", "payload__to"))
    assert kinds == [
        ("waste_round.computed", None),
        ("waste_round.changed", "validated"),
        ("waste_round.changed", "done"),
    ]
    assert Round.objects.get(pk=found.pk).actor == "cd" * 16


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_hypervision_layer_shows_the_latest_round(fleet, fast, monkeypatch):
    from alzette.territory.waste.rounds.layers import RoundsLayer

    layer = RoundsLayer()
    assert layer.features() == []
    _serve(_clustered(), monkeypatch=monkeypatch)
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = services.plan_round(day=DAY)
    features = layer.features()
    assert features and {f["properties"]["layer"] for f in features} == {"rounds"}
    assert all(f["geometry"]["type"] == "LineString" for f in features)
    assert features[0]["geometry"]["coordinates"][0] == [DEPOT[0], DEPOT[1]]
    assert layer.features(commune="57038") and layer.features(commune="54580") == []
    assert {f["id"] for f in layer.changes(before)} == {f["id"] for f in features}
    services.change_status(first, Round.Status.VALIDATED)
    later = datetime.now(UTC)
    assert layer.changes(later + timedelta(seconds=5)) == []
    second = services.plan_round(day=DAY + timedelta(days=7))  # a draft: the validated one stays
    assert {f["id"] for f in layer.features()} == {f["id"] for f in features}
    gone = [f for f in layer.changes(later) if f["properties"].get("gone")]
    assert {f["id"] for f in gone} == {f"route:{r.pk}" for r in second.routes.all() if r.sequence}


# --- Fleet, demo and command ---------------------------------------------------------------


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_demo_fleet_stands_in_audun_le_tiche_and_is_idempotent(territory):
    from shapely.geometry import Point, shape

    from alzette.territory.geo.models import TerritorialUnit

    assert demo.ensure_demo_fleet() == {"depots": 1, "trucks": 4}
    assert demo.ensure_demo_fleet() == {"depots": 1, "trucks": 4}
    depot = Depot.objects.get()
    audun = TerritorialUnit.objects.get(code="57038")
    assert shape(audun.geometry).contains(Point(depot.lon, depot.lat))
    assert set(Truck.objects.values_list("capacity_litres", flat=True)) == {16_000}


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_command_declares_the_fleet_and_plans_a_round(fast, monkeypatch, capsys):
    call_command("rounds", "fleet", "--depot", "Atelier", "--trucks", "3", "--capacity", "5000")
    assert Truck.objects.filter(active=True).count() == 3
    call_command("rounds", "fleet", "--depot", "Atelier", "--trucks", "2", "--capacity", "5000")
    assert Truck.objects.filter(active=True).count() == 2  # truck-3 retired
    _serve(_clustered(), monkeypatch=monkeypatch)
    call_command("rounds", "plan", "--trucks", "1", "--threshold", "0.8", "--day", "2026-12-07")
    out = capsys.readouterr().out
    found = Round.objects.get()
    assert str(found.pk) in out and "truck-1" in out and found.container_count == 10
    with pytest.raises(CommandError):
        call_command("rounds", "plan", "--threshold", "2")
    with pytest.raises(CommandError):
        call_command("rounds", "plan", "--day", "tomorrow")
    with pytest.raises(CommandError):
        call_command("rounds", "fleet", "--lat", "123")
    assert Round.objects.count() == 1


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_round_over_the_demo_bins_of_the_waste_app(territory, fast):
    from alzette.territory.waste import demo as waste_demo
    from alzette.territory.waste import services as waste

    waste_demo.ensure_demo_waste()
    demo.ensure_demo_fleet()
    bins = waste.containers(kind="bin")
    full = {b.id for b in bins if b.filling_level is not None and b.filling_level >= 0.5}
    assert bins and full
    found = services.plan_round(threshold=0.5, day=DAY)
    stops = {s["id"] for r in found.routes.all() for s in r.sequence}
    assert full <= stops | {d["id"] for d in found.dropped}
    assert found.baseline_container_count == len(bins)


def test_the_rounds_layer_registers_on_the_hypervision_map():
    from alzette.territory.hypervision import layers

    path = "alzette.territory.waste.rounds.layers.RoundsLayer"
    assert path in layers.HYPERVISION_LAYERS
    registered = layers._load(tuple(layers.HYPERVISION_LAYERS))
    assert registered["rounds"].theme == "waste"
