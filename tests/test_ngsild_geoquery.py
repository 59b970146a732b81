"""NGSI-LD geo-queries (CIM 009 §4.10): parsing, matching against independent ground
truth (shapely for topology, pyproj.Geod for distances), and the search box."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import box, shape

from alzette.territory.ngsild.geoquery import GEORELS, GeoQueryError, parse_geoquery

GEOD = Geod(ellps="WGS84")
TOPOLOGY = ("within", "contains", "intersects", "equals", "disjoint", "overlaps")


# --------------------------------------------------------------------------- parsing


def test_nothing_given_is_no_geoquery():
    assert parse_geoquery(None, None, None) is None
    assert parse_geoquery(None, None, None, "observationSpace") is None


def test_spec_examples_parse():
    near = parse_geoquery("near;maxDistance==2000", "Point", "[8,40]", "observationSpace")
    assert (near.georel, near.max_distance, near.min_distance) == ("near", 2000.0, None)
    assert near.geoproperty == "observationSpace"
    within = parse_geoquery(
        "within", "Polygon", "[[[100.0,0.0],[101.0,0.0],[101.0,1.0],[100.0,1.0],[100.0,0.0]]]"
    )
    assert within.geoproperty == "location"
    assert within.geometry.equals(box(100, 0, 101, 1))


def test_coordinates_may_come_decoded_from_a_subscription():
    query = parse_geoquery("near;minDistance==10", "Point", [6, 49.5])
    assert query.min_distance == 10.0 and query.max_distance is None


def test_both_distances_make_an_annulus():
    query = parse_geoquery("near;minDistance==1000;maxDistance==2000", "Point", "[0,0]")
    east = lambda metres: {"type": "Point", "coordinates": list(GEOD.fwd(0, 0, 90, metres)[:2])}  # noqa: E731
    assert [query.matches(east(m)) for m in (500, 1500, 2500)] == [False, True, False]


def test_every_geometry_type_parses():
    cases = {
        "Point": [6, 49],
        "MultiPoint": [[6, 49], [7, 50]],
        "LineString": [[6, 49], [7, 50]],
        "MultiLineString": [[[6, 49], [7, 50]], [[6, 50], [7, 49.5]]],
        "Polygon": [[[6, 49], [7, 49], [7, 50], [6, 49]]],
        "MultiPolygon": [[[[6, 49], [7, 49], [7, 50], [6, 49]]],
                         [[[0, 0], [1, 0], [0, 1], [0, 0]]]],
    }  # fmt: skip
    for kind, coordinates in cases.items():
        query = parse_geoquery("intersects", kind, json.dumps(coordinates))
        assert query.geometry.geom_type == kind


def test_an_altitude_is_accepted_and_dropped():
    query = parse_geoquery("equals", "Point", "[6, 49, 300]")
    assert query.matches({"type": "Point", "coordinates": [6, 49]})


MALFORMED = [
    (("near;maxDistance==2000", "Point", None), "coordinates is missing"),
    ((None, "Point", "[1,2]"), "georel is missing"),
    (("within", None, None), "geometry and coordinates are missing"),
    (("nearby", "Point", "[1,2]"), "Unknown georel"),
    (("Within", "Point", "[1,2]"), "Unknown georel"),
    (("", "Point", "[1,2]"), "Unknown georel"),
    (("near", "Point", "[1,2]"), "near needs"),
    (("near;", "Point", "[1,2]"), "Invalid near modifier"),
    (("near;maxDistance=2000", "Point", "[1,2]"), "Invalid near modifier"),
    (("near;maxDistance:2000", "Point", "[1,2]"), "Invalid near modifier"),
    (("near;maxDistance==-5", "Point", "[1,2]"), "Invalid near modifier"),
    (("near;maxDistance==0", "Point", "[1,2]"), "positive"),
    (("near;maxDistance==0.0", "Point", "[1,2]"), "positive"),
    (("near;maxDistance==1e999", "Point", "[1,2]"), "positive finite"),
    (("near;maxDistance==abc", "Point", "[1,2]"), "Invalid near modifier"),
    (("near;distance==5", "Point", "[1,2]"), "Invalid near modifier"),
    (("near;maxDistance==5;maxDistance==6", "Point", "[1,2]"), "same distance twice"),
    (("near;maxDistance==5;minDistance==6", "Point", "[1,2]"), "greater than minDistance"),
    (("within;maxDistance==5", "Point", "[1,2]"), "takes no modifier"),
    ((3, "Point", "[1,2]"), "must be a string"),
    (("within", "GeometryCollection", "[]"), "Unsupported geometry"),
    (("within", "point", "[1,2]"), "Unsupported geometry"),
    (("within", "Circle", "[1,2]"), "Unsupported geometry"),
    (("within", "Point", "[1,2"), "not a valid JSON"),
    (("within", "Point", "1,2"), "not a valid JSON"),
    (("within", "Point", "[NaN,2]"), "not a valid JSON"),
    (("within", "Point", "[Infinity,2]"), "not a valid JSON"),
    (("within", "Point", "[1e999,2]"), "must be \\[longitude, latitude\\]"),
    (("within", "Point", '["1",2]'), "must be \\[longitude, latitude\\]"),
    (("within", "Point", "[true,2]"), "must be \\[longitude, latitude\\]"),
    (("within", "Point", "[1]"), "must be \\[longitude, latitude\\]"),
    (("within", "Point", "[1,2,3,4]"), "must be \\[longitude, latitude\\]"),
    (("within", "Point", "[[1,2]]"), "must be nested as \\[lon, lat\\]"),
    (("within", "Point", "[180.5,2]"), "outside longitude"),
    (("within", "Point", "[1,-90.01]"), "outside longitude"),
    (("within", "Point", {"lon": 1}), "must be a JSON array"),
    (("within", "MultiPoint", "[]"), "must be nested"),
    (("within", "MultiPoint", "[1,2]"), "must be nested as \\[\\[lon, lat\\]\\]"),
    (("within", "LineString", "[[1,2]]"), "at least two positions"),
    (("within", "MultiLineString", "[[[1,2],[3,4]],[[1,2]]]"), "at least two positions"),
    (("within", "Polygon", "[[1,2],[3,4],[5,6],[1,2]]"), "must be nested"),
    (("within", "Polygon", "[[[0,0],[1,0],[0,0]]]"), "at least four positions"),
    (("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]"), "must be closed"),
    (("within", "Polygon", "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]"), "Self-intersection"),
    (("within", "Polygon", "[[[0,0],[1,0],[2,0],[0,0]]]"), "Invalid Polygon"),
    (("within", "MultiPolygon", "[[[0,0],[1,0],[1,1],[0,0]]]"), "must be nested"),
    (("within", "MultiPolygon", "[[[[0,0],[2,0],[2,2],[0,0]]],[[[1,0],[3,0],[3,2],[1,0]]]]"),
     "Invalid MultiPolygon"),
    (("within", "MultiPoint", "[" + ",".join(["[1,2]"] * 10_001) + "]"), "more than 10000"),
    (("within", "Point", "[1,2]", ""), "geoproperty"),
    (("within", "Point", "[1,2]", "has space"), "geoproperty"),
    (("within", "Point", "[1,2]", 7), "geoproperty"),
    (("within", "Point", "[" * 5000 + "]" * 5000), "not a valid JSON|must be"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), MALFORMED)
def test_malformed_geoqueries(args, message):
    with pytest.raises(GeoQueryError, match=message):
        parse_geoquery(*args)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "POINT (1 2)",
        {},
        {"type": "Point"},
        {"type": "Point", "coordinates": "1,2"},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        {"type": "Circle", "coordinates": [1, 2]},
    ],
)
@pytest.mark.parametrize(
    "georel", ["within", "disjoint", "near;maxDistance==1e7", "near;minDistance==1"]
)
def test_invalid_stored_geometry_never_matches(stored, georel):
    assert parse_geoquery(georel, "Point", "[0.5, 0.5]").matches(stored) is False


def test_subject_is_the_entity_geometry():
    area = "[[[6,49],[7,49],[7,50],[6,50],[6,49]]]"
    point = {"type": "Point", "coordinates": [6.5, 49.5]}
    assert parse_geoquery("within", "Polygon", area).matches(point)
    assert not parse_geoquery("contains", "Polygon", area).matches(point)
    commune = {"type": "Polygon", "coordinates": json.loads(area)}
    assert parse_geoquery("contains", "Point", "[6.5,49.5]").matches(commune)
    assert not parse_geoquery("within", "Point", "[6.5,49.5]").matches(commune)


def test_search_boxes():
    area = "[[[6,49],[7,49],[7,50],[6,50],[6,49]]]"
    for rel in ("within", "contains", "intersects", "equals", "overlaps"):
        assert parse_geoquery(rel, "Polygon", area).search_bbox() == (6, 49, 7, 50)
    assert parse_geoquery("disjoint", "Polygon", area).search_bbox() is None
    assert parse_geoquery("near;minDistance==5", "Point", "[6,49]").search_bbox() is None
    polar = parse_geoquery("near;maxDistance==50000", "Point", "[10,89.9]").search_bbox()
    assert polar == (-180.0, pytest.approx(89.45, abs=0.01), 180.0, 90.0)
    dateline = parse_geoquery("near;maxDistance==50000", "Point", "[179.9,0]").search_bbox()
    assert dateline[0] == -180.0 and dateline[2] == 180.0
    assert GEORELS == ("near", "within", "contains", "intersects", "equals", "disjoint",
                       "overlaps")  # fmt: skip


# --------------------------------------------------------------------------- topology

# A coarse grid, so that shared edges, touching and equal geometries are common.
GRID = st.integers(0, 8).map(lambda i: 6 + i / 4)
POINT = st.tuples(GRID, GRID.map(lambda v: v + 43)).map(list)


@st.composite
def geometries(draw) -> dict:
    kind = draw(st.sampled_from(["Point", "MultiPoint", "LineString", "Polygon", "Box"]))
    if kind == "Point":
        return {"type": "Point", "coordinates": draw(POINT)}
    if kind == "MultiPoint":
        points = draw(st.lists(POINT, min_size=1, max_size=3, unique_by=tuple))
        return {"type": "MultiPoint", "coordinates": points}
    if kind == "LineString":
        points = draw(st.lists(POINT, min_size=2, max_size=3, unique_by=tuple))
        return {"type": "LineString", "coordinates": points}
    if kind == "Polygon":
        ring = draw(st.lists(POINT, min_size=3, max_size=3, unique_by=tuple))
        assume(shape({"type": "Polygon", "coordinates": [[*ring, ring[0]]]}).area > 0)
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    x1, x2 = sorted(draw(st.lists(GRID, min_size=2, max_size=2, unique=True)))
    y1, y2 = sorted(draw(st.lists(GRID.map(lambda v: v + 43), min_size=2, max_size=2, unique=True)))
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


def _intersects(box_: tuple | None, geometry) -> bool:
    return box_ is None or box(*box_).intersects(box(*geometry.bounds))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TOPOLOGY), geometries(), geometries())
def test_topology_matches_shapely(georel, reference, target):
    query = parse_geoquery(georel, reference["type"], json.dumps(reference["coordinates"]))
    expected = getattr(shape(target), georel)(shape(reference))
    assert query.matches(target) is expected
    if expected:
        assert _intersects(query.search_bbox(), shape(target))


# --------------------------------------------------------------------------- near

LON = st.floats(-180, 180, allow_nan=False)
LAT = st.floats(-89.99, 89.99, allow_nan=False)
METRES = st.floats(1, 3_000_000, allow_nan=False)


def _clear_of(truth: float, metres: float) -> bool:
    """Outside the tolerance margin around the threshold, where rounding may decide."""
    return abs(truth - metres) > 1e-6 * metres + 1e-3


@settings(max_examples=200, deadline=None)
@given(LON, LAT, METRES, st.floats(0, 360), st.floats(0, 2), st.booleans())
def test_near_point_to_point_is_geodesic(lon, lat, metres, azimuth, factor, maximum):
    tlon, tlat, _ = GEOD.fwd(lon, lat, azimuth, metres * factor)
    truth = GEOD.inv(lon, lat, tlon, tlat)[2]
    assume(_clear_of(truth, metres))
    georel = f"near;{'max' if maximum else 'min'}Distance=={metres!r}"
    query = parse_geoquery(georel, "Point", [lon, lat])
    found = query.matches({"type": "Point", "coordinates": [tlon, tlat]})
    assert found is ((truth <= metres) if maximum else (truth > metres))
    if found:
        assert _intersects(
            query.search_bbox(), shape({"type": "Point", "coordinates": [tlon, tlat]})
        )


@settings(max_examples=200, deadline=None)
@given(LON, st.floats(-80, 80), st.floats(1, 200_000),
       st.lists(st.tuples(st.floats(0, 360), st.floats(0, 2)), min_size=1, max_size=4))  # fmt: skip
def test_near_point_to_multipoint_is_the_nearest_geodesic(lon, lat, metres, spots):
    points = [list(GEOD.fwd(lon, lat, az, metres * f)[:2]) for az, f in spots]
    truth = min(GEOD.inv(lon, lat, x, y)[2] for x, y in points)
    assume(abs(truth - metres) > 1e-4 * metres + 1e-3)  # the local plane: small error allowed
    query = parse_geoquery(f"near;maxDistance=={metres!r}", "Point", [lon, lat])
    target = {"type": "MultiPoint", "coordinates": points}
    assert query.matches(target) is (truth <= metres)


@st.composite
def references(draw) -> dict:
    """Small geometries anywhere, poles and antimeridian included."""
    lon, lat = draw(LON), draw(LAT)
    size = draw(st.floats(0.001, 0.5))
    corner = [min(lon + size, 180.0), min(lat + size, 90.0)]
    kind = draw(st.sampled_from(["Point", "LineString", "Polygon"]))
    if kind == "Point":
        return {"type": "Point", "coordinates": [lon, lat]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": [[lon, lat], corner]}
    ring = [[lon, lat], [corner[0], lat], corner, [lon, corner[1]], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@settings(max_examples=200, deadline=None)
@given(references(), METRES, st.lists(st.tuples(st.floats(0, 360), st.floats(0, 1.2)),
                                      min_size=1, max_size=5))  # fmt: skip
def test_near_search_box_never_excludes_a_match(reference, metres, spots):
    coordinates = shape(reference).exterior.coords if reference["type"] == "Polygon" else None
    vertices = list(coordinates or shape(reference).coords)
    assume(shape(reference).is_valid and not shape(reference).is_empty)
    query = parse_geoquery(f"near;maxDistance=={metres!r}", reference["type"],
                           reference["coordinates"])  # fmt: skip
    search = query.search_bbox()
    for index, (azimuth, factor) in enumerate(spots):
        x, y = vertices[index % len(vertices)]
        tlon, tlat, _ = GEOD.fwd(x, y, azimuth, metres * factor)
        target = {"type": "Point", "coordinates": [tlon, tlat]}
        if query.matches(target):
            assert _intersects(search, shape(target)), (reference, metres, target)


# --------------------------------------------------------------------------- points at once


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["within", "intersects", "near"]), geometries(),
       st.lists(POINT, min_size=1, max_size=6), st.floats(1, 300_000), st.booleans())  # fmt: skip
def test_points_match_agrees_with_matches(georel, reference, points, metres, maximum):
    """The index's shortcut for single positions gives ``matches``'s answer, point by point."""
    if georel == "near":
        reference = (
            {"type": "Point", "coordinates": reference["coordinates"]}
            if (reference["type"] == "Point")
            else {"type": "Point", "coordinates": points[0]}
        )
        georel = f"near;{'max' if maximum else 'min'}Distance=={metres!r}"
    query = parse_geoquery(georel, reference["type"], json.dumps(reference["coordinates"]))
    assert query.decides_points
    lons = np.array([p[0] for p in points], dtype=float)
    lats = np.array([p[1] for p in points], dtype=float)
    verdict = query.points_match(lons, lats)
    expected = [query.matches({"type": "Point", "coordinates": p}) for p in points]
    assert verdict.tolist() == expected


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates"),
    [
        ("near;maxDistance==10", "LineString", [[6, 49], [6.1, 49]]),
        ("contains", "Point", [6, 49]),
        ("equals", "Point", [6, 49]),
        ("overlaps", "Polygon", [[[6, 49], [6.1, 49], [6.1, 49.1], [6, 49]]]),
        ("disjoint", "Point", [6, 49]),
    ],
)
def test_other_georels_leave_points_to_matches(georel, geometry, coordinates):
    assert not parse_geoquery(georel, geometry, json.dumps(coordinates)).decides_points
