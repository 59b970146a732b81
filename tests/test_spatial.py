"""Spatial domain: parsing, bounding boxes, predicates and reprojection."""

from __future__ import annotations

import pytest

from alzette.core import spatial

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}


def test_parse_and_bbox():
    box = spatial.bbox_of(spatial.parse_geometry(SQUARE))
    assert box.as_list() == [0, 0, 2, 2]
    assert box.intersects(spatial.BBox(1, 1, 3, 3))
    assert not box.intersects(spatial.BBox(2.1, 0, 3, 1))


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({}, "'type' member is required"),
        ("POINT(1 2)", "'type' member is required"),
        ({"type": "Point"}, "Invalid GeoJSON"),
        ({"type": "Hexagon", "coordinates": [1, 2]}, "Invalid GeoJSON"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]},
            "not valid",
        ),
    ],
)
def test_bad_geometries_are_refused_with_a_reason(geometry, message):
    with pytest.raises(spatial.SpatialError, match=message):
        spatial.parse_geometry(geometry)


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [("intersects", True), ("contains", True), ("within", False), ("disjoint", False)],
)
def test_predicates(predicate, expected):
    point = spatial.parse_geometry({"type": "Point", "coordinates": [1, 1]})
    assert spatial.evaluate(predicate, spatial.parse_geometry(SQUARE), point) is expected


def test_unknown_predicate():
    with pytest.raises(spatial.SpatialError, match="Unknown predicate"):
        spatial.evaluate("near", spatial.parse_geometry(SQUARE), spatial.parse_geometry(SQUARE))


def test_reprojection_lambert93_round_trip():
    # Audun-le-Tiche, roughly; Lambert-93 puts it near (914 km, 6934 km).
    point = spatial.parse_geometry({"type": "Point", "coordinates": [5.9553, 49.4727]})
    lambert = spatial.reproject(point, "EPSG:4326", "EPSG:2154")
    assert 905_000 < lambert.x < 925_000 and 6_925_000 < lambert.y < 6_945_000
    back = spatial.reproject(lambert, "EPSG:2154", "OGC:CRS84")
    assert back.x == pytest.approx(5.9553, abs=1e-7)
    assert back.y == pytest.approx(49.4727, abs=1e-7)


def test_reprojection_luref_and_crs_uris():
    point = spatial.parse_geometry({"type": "Point", "coordinates": [6.13, 49.61]})  # Luxembourg
    luref = spatial.reproject(point, "http://www.opengis.net/def/crs/OGC/1.3/CRS84", "epsg:2169")
    assert 70_000 < luref.x < 85_000 and 70_000 < luref.y < 80_000


def test_unsupported_crs():
    with pytest.raises(spatial.SpatialError, match="Unsupported CRS"):
        spatial.normalise_crs("EPSG:3857")


def test_geojson_output_uses_lists():
    geometry = spatial.to_geojson(spatial.parse_geometry(SQUARE))
    assert geometry["type"] == "Polygon"
    assert isinstance(geometry["coordinates"][0][0], list)
