"""Entity queries through the HTTP API checked against ground truth.

The broker narrows rows with index tables before checking each candidate; these
tests draw random entities and random queries and compare the API's answer with
an independent evaluation (plain Python for q, shapely and pyproj for geo), so
an index that dropped a match or kept a non-match would fail them.
"""

from __future__ import annotations

import json
import random

import pytest
from pyproj import Geod
from shapely.geometry import Point, box, shape

from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd, problem

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
GEOD = Geod(ellps="WGS84")
COLOURS = ["green", "grey", "yellow", "blue"]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"


@pytest.fixture(scope="module")
def population():
    """120 bins around Audun-le-Tiche, drawn once with a fixed seed."""
    rng = random.Random(20261204)
    bins = []
    for n in range(120):
        bins.append(
            {
                "id": f"urn:ngsi-ld:Bin:{n:03d}",
                "type": "Bin" if n % 5 else "Bank",
                "fill": round(rng.random(), 2),
                "colour": rng.choice(COLOURS),
                "tags": rng.sample(["glass", "paper", "metal", "bio"], k=rng.randint(0, 3)),
                "address": {"locality": rng.choice(["Audun", "Russange", "Villerupt"])},
                "location": {
                    "type": "Point",
                    "coordinates": [
                        round(rng.uniform(5.9, 6.1), 5),
                        round(rng.uniform(49.43, 49.52), 5),
                    ],
                },
            }
        )
    return bins


@pytest.fixture
def ld(population):
    client = NgsiLd()
    for start in range(0, len(population), 50):
        response = client.post("/entityOperations/create", population[start : start + 50])
        assert response.status_code == 201, response.content
    return client


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(e["id"] for e in response.json())


Q_CASES = [
    ("fill>0.5", lambda b: b["fill"] > 0.5),
    ("fill<=0.25", lambda b: b["fill"] <= 0.25),
    ("fill==0.3..0.6", lambda b: 0.3 <= b["fill"] <= 0.6),
    ("fill!=0.5", lambda b: b["fill"] != 0.5),
    ('colour=="green"', lambda b: b["colour"] == "green"),
    ('colour=="green","blue"', lambda b: b["colour"] in ("green", "blue")),
    ("colour~=gr.*", lambda b: b["colour"].startswith("gr")),
    ('colour!="grey";fill>0.7', lambda b: b["colour"] != "grey" and b["fill"] > 0.7),
    ('colour=="blue"|fill<0.1', lambda b: b["colour"] == "blue" or b["fill"] < 0.1),
    (
        '(colour=="blue"|colour=="green");fill>=0.5',
        lambda b: b["colour"] in ("blue", "green") and b["fill"] >= 0.5,
    ),
    ('tags=="glass"', lambda b: "glass" in b["tags"]),
    ('address[locality]=="Audun"', lambda b: b["address"]["locality"] == "Audun"),
    ("tags", lambda b: True),
]


@pytest.mark.parametrize(("q", "truth"), Q_CASES, ids=[c[0] for c in Q_CASES])
def test_q_against_ground_truth(ld, population, q, truth):
    expected = sorted(b["id"] for b in population if truth(b))
    assert ids(ld.get("/entities", q=q, limit=1000)) == expected


def test_type_id_and_id_pattern(ld, population):
    banks = sorted(b["id"] for b in population if b["type"] == "Bank")
    assert ids(ld.get("/entities", type="Bank", limit=1000)) == banks
    both = ids(ld.get("/entities", type="Bin,Bank", limit=1000))
    assert both == sorted(b["id"] for b in population)
    assert ids(ld.get("/entities", id="urn:ngsi-ld:Bin:001,urn:ngsi-ld:Bin:002")) == [
        "urn:ngsi-ld:Bin:001",
        "urn:ngsi-ld:Bin:002",
    ]
    pattern = ids(ld.get("/entities", idPattern="urn:ngsi-ld:Bin:01[0-4]"))
    assert pattern == [f"urn:ngsi-ld:Bin:01{i}" for i in range(5)]


def test_count_limit_offset_and_next_link(ld, population):
    first = ld.get("/entities", type="Bin", limit=10, count="true")
    assert first["NGSILD-Results-Count"] == str(sum(b["type"] == "Bin" for b in population))
    assert 'rel="next"' in first["Link"]
    second = ld.get("/entities", type="Bin", limit=10, offset=10)
    assert not set(ids(first)) & set(ids(second))
    filtered = ld.get("/entities", q="fill>0.5", limit=5, offset=5, count="true")
    total = sum(b["fill"] > 0.5 for b in population)
    assert filtered["NGSILD-Results-Count"] == str(total)
    everything = ids(ld.get("/entities", q="fill>0.5", limit=1000))
    assert ids(filtered) == everything[5:10]
    only_count = ld.get("/entities", type="Bin", limit=0, count="true")
    assert only_count.json() == []


@pytest.mark.parametrize(
    "params",
    [
        {"type": "Bin", "limit": "1001"},
        {"type": "Bin", "limit": "-1"},
        {"type": "Bin", "limit": "ten"},
        {"type": "Bin", "limit": "0"},
        {"q": "fill>>0.5"},
        {"q": "(fill>0.5"},
        {"q": "fill=0.5"},
        {"idPattern": "urn:(["},
        {"type": "Bin", "georel": "near;maxDistance==1000", "geometry": "Point"},
        {
            "type": "Bin",
            "georel": "within",
            "geometry": "Polygon",
            "coordinates": "[[[6,49],[6.1,49],[6,49.1]]]",
        },
        {"type": "Bin", "georel": "near", "geometry": "Point", "coordinates": "[6,49]"},
        {"type": "Bin", "georel": "touches", "geometry": "Point", "coordinates": "[6,49]"},
        {"type": "Bin", "georel": "within", "geometry": "Circle", "coordinates": "[6,49]"},
        {
            "type": "Bin",
            "georel": "near;maxDistance==10",
            "geometry": "Point",
            "coordinates": "[600,49]",
        },
        {"type": "Bin", "count": "maybe"},
        {},
    ],
)
def test_malformed_queries(ld, params):
    response = ld.get("/entities", **params)
    assert response.status_code == 400, response.content
    assert problem(response) == "BadRequestData"


def _near(population, centre, metres):
    out = []
    for b in population:
        lon, lat = b["location"]["coordinates"]
        distance = GEOD.inv(centre[0], centre[1], lon, lat)[2]
        if abs(distance - metres) < 0.5:
            continue  # too close to the edge to call
        if distance <= metres:
            out.append(b["id"])
    return out


@pytest.mark.parametrize("seed", range(6))
def test_near_against_geodesic_distance(ld, population, seed):
    rng = random.Random(seed)
    centre = [rng.uniform(5.9, 6.1), rng.uniform(49.43, 49.52)]
    metres = rng.choice([500, 1500, 3000])
    got = ids(
        ld.get(
            "/entities",
            type="Bin,Bank",
            georel=f"near;maxDistance=={metres}",
            geometry="Point",
            coordinates=json.dumps(centre),
            limit=1000,
        )
    )
    expected = _near(population, centre, metres)
    assert set(expected) <= set(got)
    # Anything extra may only be a bin sitting on the edge.
    for extra in set(got) - set(expected):
        lon, lat = next(b for b in population if b["id"] == extra)["location"]["coordinates"]
        assert abs(GEOD.inv(centre[0], centre[1], lon, lat)[2] - metres) < 0.5


@pytest.mark.parametrize("seed", range(6))
def test_polygon_relations_against_shapely(ld, population, seed):
    rng = random.Random(100 + seed)
    x0, y0 = rng.uniform(5.9, 6.05), rng.uniform(49.43, 49.49)
    area = box(x0, y0, x0 + rng.uniform(0.01, 0.05), y0 + rng.uniform(0.01, 0.03))
    coordinates = json.dumps([list(map(list, area.exterior.coords))])
    for georel, truth in (
        ("within", "within"),
        ("intersects", "intersects"),
        ("disjoint", "disjoint"),
    ):
        got = ids(
            ld.get(
                "/entities",
                type="Bin,Bank",
                georel=georel,
                geometry="Polygon",
                coordinates=coordinates,
                limit=1000,
            )
        )
        expected = sorted(b["id"] for b in population if getattr(shape(b["location"]), truth)(area))
        assert got == expected, georel


def test_geo_and_q_together(ld, population):
    centre = [6.0, 49.47]
    got = ids(
        ld.get(
            "/entities",
            type="Bin",
            q="fill>0.8",
            georel="near;maxDistance==2000",
            geometry="Point",
            coordinates=json.dumps(centre),
            limit=1000,
        )
    )
    near = set(_near(population, centre, 2000))
    expected = sorted(
        b["id"] for b in population if b["type"] == "Bin" and b["fill"] > 0.8 and b["id"] in near
    )
    assert got == expected


def test_contains_for_areas(ld):
    ld.create(
        {
            "id": "urn:ngsi-ld:Zone:1",
            "type": "Zone",
            "location": {
                "type": "Polygon",
                "coordinates": [[[5.9, 49.4], [6.1, 49.4], [6.1, 49.6], [5.9, 49.6], [5.9, 49.4]]],
            },
        }
    )
    point = Point(6.0, 49.5)
    got = ids(
        ld.get(
            "/entities",
            type="Zone",
            georel="contains",
            geometry="Point",
            coordinates=json.dumps([point.x, point.y]),
        )
    )
    assert got == ["urn:ngsi-ld:Zone:1"]
    outside = ids(
        ld.get(
            "/entities", type="Zone", georel="contains", geometry="Point", coordinates="[7, 49.5]"
        )
    )
    assert outside == []


def test_points_settled_by_the_index_and_other_shapes_checked_whole():
    """Points are decided from the index's coordinates, other geometries (and entities
    with several location instances) from their full geometry: both in one answer."""
    client = NgsiLd()
    centre = (6.0, 49.47)
    east = list(GEOD.fwd(*centre, 90, 1500)[:2])
    far = list(GEOD.fwd(*centre, 0, 5000)[:2])
    entities = [
        {"id": "urn:ngsi-ld:Spot:near", "type": "Spot",
         "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": east}}},
        {"id": "urn:ngsi-ld:Spot:far", "type": "Spot",
         "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": far}}},
        # A road passing 1 km south of the centre, its ends more than 2 km away.
        {"id": "urn:ngsi-ld:Spot:road", "type": "Spot", "location": {"type": "GeoProperty",
         "value": {"type": "LineString", "coordinates": [
             list(GEOD.fwd(*GEOD.fwd(*centre, 180, 1000)[:2], 270, 3000)[:2]),
             list(GEOD.fwd(*GEOD.fwd(*centre, 180, 1000)[:2], 90, 3000)[:2])]}}},
        # Two instances: one far, one near; the near one makes the match.
        {"id": "urn:ngsi-ld:Spot:twice", "type": "Spot", "location": [
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": far}},
            {"type": "GeoProperty", "datasetId": "urn:ngsi-ld:Dataset:gps",
             "value": {"type": "Point", "coordinates": east}}]},
    ]  # fmt: skip
    response = client.post("/entityOperations/create", entities)
    assert response.status_code == 201, response.content
    near = ids(client.get("/entities", type="Spot", georel="near;maxDistance==2000",
                          geometry="Point", coordinates=json.dumps(centre)))  # fmt: skip
    assert near == ["urn:ngsi-ld:Spot:near", "urn:ngsi-ld:Spot:road", "urn:ngsi-ld:Spot:twice"]
    away = ids(client.get("/entities", type="Spot", georel="near;minDistance==2000",
                          geometry="Point", coordinates=json.dumps(centre)))  # fmt: skip
    assert away == ["urn:ngsi-ld:Spot:far", "urn:ngsi-ld:Spot:twice"]
    square = box(centre[0] - 0.01, centre[1] - 0.02, centre[0] + 0.03, centre[1] + 0.02)
    ring = json.dumps([list(map(list, square.exterior.coords))])
    inside = ids(
        client.get("/entities", type="Spot", georel="within", geometry="Polygon", coordinates=ring)
    )
    assert (
        inside
        == ["urn:ngsi-ld:Spot:near", "urn:ngsi-ld:Spot:twice"]
        == sorted(
            e["id"]
            for e in entities
            if any(shape(i["value"]).within(square) for i in _instances(e["location"]))
        )
    )


def _instances(attribute: dict | list) -> list[dict]:
    return attribute if isinstance(attribute, list) else [attribute]
