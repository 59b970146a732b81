"""/api/v1/territory: listing units, one unit, the GeoJSON layer and locate.

These endpoints publish public reference data: every role, and anonymous
callers, get the same answers; only methods and inputs can be wrong.
"""

from __future__ import annotations

import pytest

from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PROBLEM = "application/problem+json"
AUDUN = {"type": "Point", "coordinates": [5.9553, 49.4727]}


def test_list_units(api_client, territory):
    response = api_client.get("/api/v1/territory/units")
    assert response.status_code == 200
    units = response.json()
    assert len(units) == 9
    audun = next(unit for unit in units if unit["code"] == "57038")
    assert audun == {
        "code": "57038",
        "kind": "commune",
        "name": "Audun-le-Tiche",
        "department": "57",
        "parent": "CCPHVA",
        "bbox": audun["bbox"],
    }


def test_list_units_by_kind(api_client, territory):
    response = api_client.get("/api/v1/territory/units", {"kind": "epci"})
    assert [unit["code"] for unit in response.json()] == ["CCPHVA"]


def test_list_units_with_an_unknown_kind_is_422(api_client, territory):
    response = api_client.get("/api/v1/territory/units", {"kind": "region"})
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["location"] == ["query", "kind"]


def test_one_unit_as_feature(api_client, territory):
    response = api_client.get("/api/v1/territory/units/54580")
    assert response.status_code == 200
    feature = response.json()
    assert feature["type"] == "Feature" and feature["id"] == "54580"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["name"] == "Villerupt"


def test_unknown_unit_is_404_problem(api_client, territory):
    response = api_client.get("/api/v1/territory/units/99999")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert "99999" in response.json()["detail"]


def test_geojson_layer(api_client, territory):
    response = api_client.get("/api/v1/territory/geojson", {"kind": "commune"})
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 8


def test_locate_a_point(api_client, territory):
    response = api_client.post(
        "/api/v1/territory/locate",
        {"geometry": AUDUN, "kind": "commune"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert [unit["code"] for unit in response.json()] == ["57038"]


def test_locate_in_luxembourg_crs(api_client, territory):
    # Esch-sur-Alzette (LU) is just across the border: in no commune of ours.
    response = api_client.post(
        "/api/v1/territory/locate",
        {"geometry": {"type": "Point", "coordinates": [6.13, 49.61]}, "crs": "EPSG:4326"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({}, 422, "does not match"),
        ({"geometry": {"type": "Point"}}, 422, "does not match"),
        ({"geometry": {"type": "Point", "coordinates": [True, 49]}}, 422, "does not match"),
        ({"geometry": AUDUN, "crs": "EPSG:3857"}, 422, "does not match"),
        ({"geometry": AUDUN, "predicate": "near"}, 422, "does not match"),
        ({"geometry": "POINT(1 2)"}, 422, "does not match"),
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]],
                }
            },
            422,
            "not valid",
        ),
    ],
)
def test_locate_bad_input(api_client, territory, body, status, detail):
    response = api_client.post("/api/v1/territory/locate", body, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert detail in response.json()["detail"]


@pytest.mark.parametrize("persona", ["citizen", "agent_audun", "partner", "administrator"])
def test_every_role_sees_the_same_public_data(api_client, territory, persona, request):
    anonymous = api_client.get("/api/v1/territory/units").json()
    api_client.force_login(request.getfixturevalue(persona))
    assert api_client.get("/api/v1/territory/units").json() == anonymous


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_units_are_read_only(api_client, territory, method, administrator):
    api_client.force_login(administrator)
    response = getattr(api_client, method)("/api/v1/territory/units/57038")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert "GET" in response["Allow"]
