"""Loading the territory and locating geometries in it."""

from __future__ import annotations

import json

import pytest

from alzette.core.spatial import SpatialError
from alzette.territory.geo import services
from alzette.territory.geo.models import TerritorialUnit, UnitKind
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

AUDUN = {"type": "Point", "coordinates": [5.9553, 49.4727]}


def test_reference_units_load_idempotently():
    assert services.load_reference_units() == 9
    assert services.load_reference_units() == 9
    assert TerritorialUnit.objects.filter(kind=UnitKind.COMMUNE).count() == 8
    epci = TerritorialUnit.objects.get(kind=UnitKind.EPCI)
    assert epci.children.count() == 8
    assert set(TerritorialUnit.objects.values_list("code", flat=True)) >= {
        "54521",
        "54580",
        "57038",
        "57041",
        "57096",
        "57529",
        "57565",
        "57603",
    }


def test_bbox_columns_follow_the_geometry(territory):
    audun = TerritorialUnit.objects.get(code="57038")
    assert audun.bbox.min_x < 5.9553 < audun.bbox.max_x
    assert audun.bbox.min_y < 49.4727 < audun.bbox.max_y


def test_a_bad_feature_leaves_the_repository_unchanged(tmp_path, territory):
    data = json.loads(services.REFERENCE_COMMUNES.read_text())
    data["features"][0]["properties"]["name"] = "Renamed"
    data["features"][-1]["geometry"] = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(data))
    with pytest.raises((SpatialError, ValueError)):
        services.load_reference_units(bad)
    assert not TerritorialUnit.objects.filter(name="Renamed").exists()


def test_locate_a_point(territory):
    units = services.locate(AUDUN)
    assert [(unit.kind, unit.code) for unit in units] == [("commune", "57038"), ("epci", "CCPHVA")]


def test_locate_in_lambert93_finds_the_same_commune(territory):
    from alzette.core import spatial

    lambert = spatial.reproject(spatial.parse_geometry(AUDUN), "OGC:CRS84", "EPSG:2154")
    units = services.locate(spatial.to_geojson(lambert), crs="EPSG:2154", kind="commune")
    assert [unit.code for unit in units] == ["57038"]


def test_locate_outside_the_territory(territory):
    metz = {"type": "Point", "coordinates": [6.1757, 49.1193]}
    assert services.locate(metz) == []
    assert len(services.locate(metz, predicate="disjoint")) == 9
