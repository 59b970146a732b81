"""OGC API - Features over the catalogue (/ogc): Part 1 core and GeoJSON, OpenAPI 3.0,
Part 2 CRS by reference, Part 3 queryables, and the refusals."""

from __future__ import annotations

import random
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from pyproj import Transformer

from alzette.territory.catalogue import services
from alzette.territory.catalogue.models import Dataset, Organisation
from alzette.territory.events.models import TerritoryEvent
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

DB = "territory"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CONF = "http://www.opengis.net/spec/"
EVENTS = 30
FIRST_DAY = date(2025, 3, 1)


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def org():
    return Organisation.objects.using(DB).create(slug="ccphva", name="CC Pays Haut Val d'Alzette")


@pytest.fixture
def communes(org, territory) -> Dataset:
    dataset = services.publish(
        org, "communes", title={"fr": "Communes", "en": "Municipalities"}, licence="etalab-2.0",
        source="communes", source_options={}, frequency="ANNUAL",
    )  # fmt: skip
    assert services.refresh(dataset)
    return dataset


@pytest.fixture
def events(org) -> Dataset:
    """EVENTS illegal dumps, one a day from FIRST_DAY, spread over the territory."""
    rng = random.Random(3)
    for n in range(EVENTS):
        TerritoryEvent.objects.using(DB).create(
            kind="illegal_dump", commune_code="57041" if n % 3 else "54521",
            lon=round(rng.uniform(5.90, 6.05), 5), lat=round(rng.uniform(49.43, 49.52), 5),
            observed_on=FIRST_DAY + timedelta(days=n), source_ref=f"x{n}",
        )  # fmt: skip
    TerritoryEvent.objects.using(DB).create(
        kind="graffiti", commune_code="57041", lon=5.98, lat=49.47, observed_on=FIRST_DAY,
        source_ref="other-kind",
    )  # fmt: skip
    dataset = services.publish(
        org, "illegal-dumps", title={"fr": "Dépôts sauvages"}, licence="etalab-2.0",
        source="territory-events", source_options={"kind": "illegal_dump"}, frequency="DAILY",
        temporal_start=FIRST_DAY,
    )  # fmt: skip
    services.refresh(dataset)
    return dataset


def rows() -> list[TerritoryEvent]:
    return list(TerritoryEvent.objects.using(DB).filter(kind="illegal_dump"))


def items(client: Client, collection: str = "illegal-dumps", **params) -> dict:
    response = client.get(f"/ogc/collections/{collection}/items", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return response.json()


def rel(document: dict, name: str) -> dict:
    found = [link for link in document["links"] if link["rel"] == name]
    assert len(found) == 1, (name, document["links"])
    return found[0]


def follow(client: Client, href: str):
    parts = urlsplit(href)
    assert parts.netloc == "testserver"
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "description"} and body["description"]
    return body


# --- Landing page, conformance, API definition ----------------------------------------------


def test_landing_page_links_the_api_the_conformance_and_the_data(client):
    response = client.get("/ogc")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    landing = response.json()
    assert rel(landing, "self")["href"] == "http://testserver/ogc"
    desc = rel(landing, "service-desc")
    assert desc["href"].endswith("/ogc/api")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rel(landing, "service-doc")["type"] == "text/html"
    assert rel(landing, "conformance")["href"].endswith("/ogc/conformance")
    assert rel(landing, "data")["href"].endswith("/ogc/collections")
    assert client.get("/ogc/").json() == landing


def test_conformance_lists_what_qgis_like_clients_look_for(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for wanted in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                   "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs",
                   "ogcapi-features-3/1.0/conf/queryables"):  # fmt: skip
        assert CONF + wanted in classes


def test_the_api_definition_is_openapi_30_and_names_the_collections(client, communes, events):
    response = client.get("/ogc/api")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    api = response.json()
    assert api["openapi"].startswith("3.0.")
    assert api["servers"] == [{"url": "http://testserver/ogc"}]
    assert "/collections/{collectionId}/items/{featureId}" in api["paths"]
    items_op = api["paths"]["/collections/{collectionId}/items"]["get"]
    names = {p["$ref"].rsplit("/", 1)[1] for p in items_op["parameters"]}
    assert {"limit", "offset", "bbox", "bbox-crs", "datetime", "crs"} <= names
    parameters = api["components"]["parameters"]
    assert parameters["collectionId"]["schema"]["enum"] == ["communes", "illegal-dumps"]
    assert parameters["limit"]["schema"]["maximum"] == 10_000
    # Every reference resolves.
    for path in api["paths"].values():
        for parameter in path["get"]["parameters"]:
            assert parameter["$ref"].rsplit("/", 1)[1] in parameters
    page = client.get("/ogc/api.html")
    assert page.status_code == 200 and b"/ogc/api" in page.content


def test_accept_json_gets_plain_json_and_html_only_is_not_acceptable(client, communes):
    response = client.get("/ogc/api", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    response = client.get("/ogc/collections/communes/items", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    assert response.json()["type"] == "FeatureCollection"
    refused(client.get("/ogc/collections", HTTP_ACCEPT="text/html"), 406)
    assert client.get("/ogc", HTTP_ACCEPT="text/html,*/*;q=0.8").status_code == 200
    refused(client.get("/ogc/collections", {"f": "html"}))
    assert client.get("/ogc/collections", {"f": "json"}).status_code == 200


# --- Collections ---------------------------------------------------------------------------


def test_only_published_open_spatial_datasets_are_collections(client, org, communes, events):
    services.publish(org, "restricted-dumps", title={"fr": "Restreint"}, licence="other-closed",
                     source="territory-events", source_options={},
                     access=Dataset.Access.RESTRICTED)  # fmt: skip
    services.publish(org, "draft-dumps", title={"fr": "Brouillon"}, licence="etalab-2.0",
                     source="territory-events", source_options={}, published=False)  # fmt: skip
    services.publish(org, "procedures", title={"fr": "Démarches"}, licence="etalab-2.0",
                     source="procedure-statistics", source_options={})  # fmt: skip
    document = client.get("/ogc/collections").json()
    assert [c["id"] for c in document["collections"]] == ["communes", "illegal-dumps"]
    assert rel(document, "self")["href"] == "http://testserver/ogc/collections"
    for hidden in ("restricted-dumps", "draft-dumps", "procedures", "nowhere"):
        assert refused(client.get(f"/ogc/collections/{hidden}"), 404)["code"] == "NotFound"
        refused(client.get(f"/ogc/collections/{hidden}/items"), 404)
        refused(client.get(f"/ogc/collections/{hidden}/queryables"), 404)


def test_a_collection_describes_its_extent_crs_and_links(client, communes):
    response = client.get("/ogc/collections/communes", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"] == "application/json"
    found = response.json()
    assert found["id"] == "communes"
    assert found["title"] == "Municipalities"
    assert found["itemType"] == "feature"
    assert found["storageCrs"] == CRS84
    assert found["crs"] == [CRS84, EPSG + "4326", EPSG + "2154", EPSG + "2169"]
    bbox = found["extent"]["spatial"]["bbox"][0]
    assert bbox == communes.extent and found["extent"]["spatial"]["crs"] == CRS84
    west, south, east, north = bbox
    assert 5.8 < west < east < 6.2 and 49.3 < south < north < 49.6
    assert rel(found, "self")["href"] == "http://testserver/ogc/collections/communes"
    link = rel(found, "items")
    assert link["href"].endswith("/ogc/collections/communes/items")
    assert link["type"] == "application/geo+json"
    assert rel(found, "license")["href"].startswith("https://www.etalab.gouv.fr/")
    french = client.get("/ogc/collections/communes").json()
    assert french["title"] == "Communes"


def test_temporal_extent_comes_from_the_dataset_period(client, events):
    found = client.get("/ogc/collections/illegal-dumps").json()
    assert found["extent"]["temporal"]["interval"] == [["2025-03-01T00:00:00Z", None]]


def test_queryables_are_a_json_schema_of_the_fields(client, events):
    response = client.get("/ogc/collections/illegal-dumps/queryables")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = response.json()
    assert schema["type"] == "object"
    assert schema["$id"] == "http://testserver/ogc/collections/illegal-dumps/queryables"
    assert schema["properties"]["observed_on"] == {"title": "observed_on", "type": "string",
                                                   "format": "date"}  # fmt: skip
    assert schema["properties"]["commune"]["type"] == "string"
    assert "geometry" in schema["properties"]


# --- Items ---------------------------------------------------------------------------------


def test_items_default_to_ten_with_counts_stamp_and_links(client, events):
    response = client.get("/ogc/collections/illegal-dumps/items")
    assert response["Content-Crs"] == f"<{CRS84}>"
    page = response.json()
    assert page["type"] == "FeatureCollection"
    assert page["numberReturned"] == 10 and len(page["features"]) == 10
    assert page["timeStamp"].endswith("Z")
    assert "prev" not in {link["rel"] for link in page["links"]}
    assert rel(page, "collection")["href"].endswith("/ogc/collections/illegal-dumps")
    assert rel(page, "self")["type"] == "application/geo+json"
    first = page["features"][0]
    event = min(rows(), key=lambda e: (e.observed_on, e.id))
    assert first["id"] == str(event.id)
    assert first["geometry"] == {"type": "Point", "coordinates": [event.lon, event.lat]}
    assert first["properties"]["observed_on"] == "2025-03-01"
    assert first["properties"]["kind"] == "illegal_dump"


def test_next_and_prev_links_walk_every_feature_once(client, events):
    page = items(client, limit=7, crs=EPSG + "2154")
    seen = [f["id"] for f in page["features"]]
    pages = 1
    while any(link["rel"] == "next" for link in page["links"]):
        href = rel(page, "next")["href"]
        query = parse_qs(urlsplit(href).query)
        assert query["limit"] == ["7"] and query["crs"] == [EPSG + "2154"]
        response = follow(client, href)
        assert response["Content-Crs"] == f"<{EPSG}2154>"
        page = response.json()
        seen += [f["id"] for f in page["features"]]
        pages += 1
    assert pages == 5 and page["numberReturned"] == 2
    assert page["numberMatched"] == EVENTS  # the walk reached the end: the count is known
    assert sorted(seen) == sorted(str(e.id) for e in rows())
    back = follow(client, rel(page, "prev")["href"]).json()
    assert parse_qs(urlsplit(rel(page, "prev")["href"]).query)["offset"] == ["21"]
    assert [f["id"] for f in back["features"]] == seen[21:28]
    earlier = follow(client, rel(back, "prev")["href"]).json()
    assert [f["id"] for f in earlier["features"]] == seen[14:21]
    second = items(client, limit=7, offset=7)
    assert "offset" not in parse_qs(urlsplit(rel(second, "prev")["href"]).query)


def test_an_offset_past_the_end_is_an_empty_page(client, events):
    page = items(client, offset=100)
    assert page["features"] == [] and page["numberReturned"] == 0
    assert page["numberMatched"] == EVENTS
    assert "next" not in {link["rel"] for link in page["links"]}
    assert parse_qs(urlsplit(rel(page, "prev")["href"]).query)["offset"] == ["90"]


def test_the_limit_can_reach_ten_thousand(client, events):
    page = items(client, limit=10_000)
    assert page["numberReturned"] == EVENTS == page["numberMatched"]


def test_communes_are_polygons_with_their_boundaries(client, communes):
    page = items(client, "communes", limit=100)
    assert page["numberMatched"] == page["numberReturned"] == 8
    assert {f["geometry"]["type"] for f in page["features"]} <= {"Polygon", "MultiPolygon"}
    assert {f["id"] for f in page["features"]} >= {"57041", "54521"}


def inside(event: TerritoryEvent, west: float, south: float, east: float, north: float) -> bool:
    return west <= event.lon <= east and south <= event.lat <= north


def test_bbox_keeps_the_features_inside(client, events):
    box = (5.95, 49.45, 6.02, 49.50)
    page = items(client, bbox=",".join(map(str, box)), limit=100)
    expected = {str(e.id) for e in rows() if inside(e, *box)}
    assert 0 < len(expected) < EVENTS
    assert {f["id"] for f in page["features"]} == expected
    assert page["numberMatched"] == len(expected)


def test_bbox_in_epsg_4326_is_latitude_first(client, events):
    box = (5.95, 49.45, 6.02, 49.50)
    lat_first = f"{box[1]},{box[0]},{box[3]},{box[2]}"
    page = items(client, bbox=lat_first, limit=100, **{"bbox-crs": EPSG + "4326"})
    assert {f["id"] for f in page["features"]} == {str(e.id) for e in rows() if inside(e, *box)}


def test_bbox_in_lambert_93_selects_as_its_crs84_envelope(client, events):
    to_l93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    west, south = to_l93.transform(5.95, 49.45)
    east, north = to_l93.transform(6.02, 49.50)
    box = f"{west},{south},{east},{north}"
    page = items(client, bbox=box, limit=100, **{"bbox-crs": EPSG + "2154"})
    back = Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    envelope = back.transform_bounds(west, south, east, north, densify_pts=21)
    assert {f["id"] for f in page["features"]} == {
        str(e.id) for e in rows() if inside(e, *envelope)
    }


def test_bbox_in_luref_is_northing_first(client, events):
    to_luref = Transformer.from_crs("OGC:CRS84", "EPSG:2169")  # EPSG axis order: N, E
    south, west = to_luref.transform(5.95, 49.45)
    north, east = to_luref.transform(6.02, 49.50)
    page = items(client, bbox=f"{south},{west},{north},{east}", limit=100,
                 **{"bbox-crs": EPSG + "2169"})  # fmt: skip
    back = Transformer.from_crs("EPSG:2169", "OGC:CRS84", always_xy=True)
    envelope = back.transform_bounds(west, south, east, north, densify_pts=21)
    expected = {str(e.id) for e in rows() if inside(e, *envelope)}
    assert expected and {f["id"] for f in page["features"]} == expected


def test_bbox_on_polygons_keeps_those_it_touches(client, communes):
    page = items(client, "communes", bbox="5.97,49.46,5.98,49.47")
    assert 1 <= page["numberReturned"] < 8


def test_datetime_instant_interval_and_open_ends(client, events):
    def ids(value: str) -> list[str]:
        return [f["properties"]["observed_on"] for f in items(client, datetime=value,
                                                              limit=100)["features"]]  # fmt: skip

    assert ids("2025-03-05") == ["2025-03-05"]
    assert ids("2025-03-05T10:30:00Z") == ["2025-03-05"]
    assert ids("2025-03-05/2025-03-07") == ["2025-03-05", "2025-03-06", "2025-03-07"]
    assert len(ids("2025-03-28/..")) == 3
    assert len(ids("../2025-03-02")) == 2
    assert len(ids("/2025-03-02T00:00:00Z")) == 2
    assert len(ids("2025-03-02T12:00:00+01:00/2025-03-03T00:00:00Z")) == 2
    assert ids("2024-01-01") == []
    assert ids("9999-12-31") == []


def test_property_filters_on_queryables(client, events):
    page = items(client, commune="54521", limit=100)
    expected = {str(e.id) for e in rows() if e.commune_code == "54521"}
    assert {f["id"] for f in page["features"]} == expected
    query = parse_qs(urlsplit(rel(page, "self")["href"]).query)
    assert query["commune"] == ["54521"]
    both = items(client, commune="54521", datetime="2025-03-01/2025-03-10", limit=100)
    assert {f["properties"]["observed_on"] for f in both["features"]} == {
        "2025-03-01", "2025-03-04", "2025-03-07", "2025-03-10"
    }  # fmt: skip


# --- CRS (Part 2) --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["2154", "2169"])
def test_projected_crs_follow_pyproj_in_the_crs_axis_order(client, events, code):
    page = items(client, crs=EPSG + code, limit=100)
    # Without always_xy pyproj uses each CRS's own axis order: CRS84 lon/lat in, and for
    # EPSG:2169 (LUREF) northing first out, as Part 2 requires.
    transformer = Transformer.from_crs("OGC:CRS84", f"EPSG:{code}")
    by_id = {str(e.id): e for e in rows()}
    for found in page["features"]:
        event = by_id[found["id"]]
        expected = transformer.transform(event.lon, event.lat)
        assert found["geometry"]["coordinates"] == pytest.approx(expected, abs=1e-6)
    x, y = page["features"][0]["geometry"]["coordinates"]
    if code == "2154":
        assert 900_000 < x < 950_000 and 6_900_000 < y < 6_950_000  # easting first
    else:
        assert 60_000 < x < 80_000 and 50_000 < y < 90_000  # northing first


def test_epsg_4326_is_latitude_first(client, events):
    response = client.get("/ogc/collections/illegal-dumps/items", {"crs": EPSG + "4326"})
    assert response["Content-Crs"] == f"<{EPSG}4326>"
    by_id = {str(e.id): e for e in rows()}
    for found in response.json()["features"]:
        event = by_id[found["id"]]
        assert found["geometry"]["coordinates"] == [event.lat, event.lon]


def test_polygons_are_transformed_vertex_by_vertex(client, communes):
    crs84 = items(client, "communes", limit=100)["features"]
    l93 = items(client, "communes", limit=100, crs=EPSG + "2154")["features"]
    transformer = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    for plain, projected in zip(crs84, l93, strict=True):
        assert plain["id"] == projected["id"]
        assert plain["geometry"]["type"] == projected["geometry"]["type"]
        ring = plain["geometry"]["coordinates"][0]
        moved = projected["geometry"]["coordinates"][0]
        if plain["geometry"]["type"] == "MultiPolygon":
            ring, moved = ring[0], moved[0]
        assert len(ring) == len(moved)
        for (lon, lat), (x, y) in zip(ring, moved, strict=True):
            assert (x, y) == pytest.approx(transformer.transform(lon, lat), abs=1e-6)


# --- One item ------------------------------------------------------------------------------


def test_one_feature_by_id_in_any_crs(client, events):
    event = rows()[4]
    response = client.get(f"/ogc/collections/illegal-dumps/items/{event.id}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Crs"] == f"<{CRS84}>"
    found = response.json()
    assert found["type"] == "Feature" and found["id"] == str(event.id)
    assert found["geometry"]["coordinates"] == [event.lon, event.lat]
    assert rel(found, "self")["href"].endswith(f"/items/{event.id}")
    assert rel(found, "collection")["href"].endswith("/collections/illegal-dumps")
    swapped = client.get(f"/ogc/collections/illegal-dumps/items/{event.id}",
                         {"crs": EPSG + "4326"})  # fmt: skip
    assert swapped.json()["geometry"]["coordinates"] == [event.lat, event.lon]
    assert client.get("/ogc/collections/communes/items/57041").status_code == 404  # unpublished


def test_an_unknown_feature_is_404(client, events, communes):
    assert refused(client.get("/ogc/collections/illegal-dumps/items/nope"), 404)["code"] == (
        "NotFound"
    )
    other_kind = TerritoryEvent.objects.using(DB).get(source_ref="other-kind")
    refused(client.get(f"/ogc/collections/illegal-dumps/items/{other_kind.id}"), 404)
    assert client.get("/ogc/collections/communes/items/57041").status_code == 200
    refused(client.get("/ogc/collections/communes/items/57041", {"crs": "EPSG:9999"}))
    refused(client.get("/ogc/collections/communes/items/57041", {"limit": "3"}))


# --- Refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"}, {"limit": "-3"}, {"limit": "ten"}, {"limit": "10001"}, {"limit": ""},
        {"offset": "-1"}, {"offset": "x"},
        {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "1,2,3,4,5"}, {"bbox": "6,49,5,48"},
        {"bbox": "5,95,6,96"}, {"bbox": "nan,1,2,3"}, {"bbox": "1e999,1,2,3"}, {"bbox": ""},
        {"bbox": "5,49,6,50", "bbox-crs": "EPSG:4326"},
        {"bbox": "5,49,6,50", "bbox-crs": EPSG + "3857"},
        {"bbox": "950000,6950000,900000,6900000", "bbox-crs": EPSG + "2154"},
        {"bbox-crs": "nope"},
        {"crs": EPSG + "3857"}, {"crs": "EPSG:2154"}, {"crs": ""},
        {"datetime": "yesterday"}, {"datetime": "2025-13-01"}, {"datetime": "20250301"},
        {"datetime": "2025-03-10/2025-03-01"}, {"datetime": "2025-03-01/soon"}, {"datetime": ""},
        {"colour": "red"}, {"f": "html"},
    ],
)  # fmt: skip
def test_bad_parameters_are_400_exceptions(client, events, params):
    body = refused(client.get("/ogc/collections/illegal-dumps/items", params))
    assert body["code"] == "InvalidParameterValue"


def test_unknown_addresses_and_methods_answer_ogc_exceptions(client, events):
    assert refused(client.get("/ogc/nowhere"), 404)["code"] == "NotFound"
    refused(client.get("/ogc/collections/illegal-dumps/items/a/b"), 404)
    response = client.post("/ogc/collections/illegal-dumps/items", {})
    assert refused(response, 405)["code"] == "MethodNotAllowed"
    assert response["Allow"] == "GET, HEAD"


# --- NGSI-LD entities: counted by the source ---------------------------------------------


@pytest.fixture
def containers(org) -> Dataset:
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    payload = [
        {"id": f"urn:ngsi-ld:WasteContainer:t{n:03d}", "type": "WasteContainer",
         "location": {"type": "GeoProperty",
                      "value": {"type": "Point", "coordinates": [5.9 + n / 1000, 49.45]}},
         "fillingLevel": {"type": "Property", "value": round(n / 25, 2)},
         "status": {"type": "Property", "value": "ok" if n % 2 else "lidOpen"}}
        for n in range(25)
    ]  # fmt: skip
    result = batch.write(Op(tenant="", ctx=jsonld.core()), payload, "upsert")
    assert not result.errors, result.errors
    return services.publish(
        org, "containers", title={"fr": "Conteneurs"}, licence="odbl-1.0",
        source="ngsild-entities", source_options={"type": "WasteContainer"},
    )  # fmt: skip


def test_ngsild_entities_page_with_the_count_of_the_source(client, containers):
    page = items(client, "containers", limit=10, offset=10)
    assert page["numberMatched"] == 25 and page["numberReturned"] == 10
    assert [f["id"] for f in page["features"]] == [
        f"urn:ngsi-ld:WasteContainer:t{n:03d}" for n in range(10, 20)
    ]
    assert {"next", "prev"} <= {link["rel"] for link in page["links"]}
    last = items(client, "containers", limit=10, offset=20)
    assert last["numberReturned"] == 5 and "next" not in {link["rel"] for link in last["links"]}
    feature = page["features"][0]
    assert feature["properties"]["fillingLevel"] == 0.4
    assert feature["geometry"] == {"type": "Point", "coordinates": [5.91, 49.45]}
    open_lids = items(client, "containers", status="lidOpen", fillingLevel="0.4", limit=100)
    assert [f["id"] for f in open_lids["features"]] == ["urn:ngsi-ld:WasteContainer:t010"]
    one = client.get(f"/ogc/collections/containers/items/{feature['id']}")
    assert one.status_code == 200 and one.json()["id"] == feature["id"]


def test_head_and_the_trailing_slash_answer_like_get(client, events):
    assert client.head("/ogc/collections/illegal-dumps/items").status_code == 200
    assert client.get("/ogc/").json() == client.get("/ogc").json()


def test_the_routes_pass_the_url_checks():
    from django.core import checks

    warned = " ".join(
        w.msg for w in checks.run_checks(tags=[checks.Tags.urls]) if w.id == "urls.W002"
    )
    assert "ogc-" not in warned and "collections" not in warned and "^.*$" not in warned
