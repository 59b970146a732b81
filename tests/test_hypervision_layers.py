"""The live map's layers: the registry, NGSI-LD devices with their commune, events,
alerts, and the features.geojson endpoint (good input, bad input, wrong role)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from alzette.territory.hypervision import layers
from alzette.territory.hypervision.layers import EntityLayer, Layer
from tests.conftest import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

FEATURES = "/hypervision/features.geojson"
AUDUN, VILLERUPT = "57038", "54580"


def inside(code: str, shift: float = 0.0) -> tuple[float, float]:
    """A point inside the commune ``code`` (its representative point, nudged)."""
    from alzette.core import spatial
    from alzette.territory.geo.models import TerritorialUnit

    unit = TerritorialUnit.objects.using("territory").get(code=code)
    shape = spatial.parse_geometry(unit.geometry)
    point = shape.representative_point()
    x, y = point.x + shift, point.y
    if not shape.contains(spatial.parse_geometry({"type": "Point", "coordinates": [x, y]})):
        x, y = point.x, point.y
    return round(x, 6), round(y, 6)


def upsert(items: list[dict[str, Any]]) -> None:
    from alzette.territory.ngsild import batch, jsonld
    from alzette.territory.ngsild.entities import Op

    result = batch.write(Op(tenant="", ctx=jsonld.core()), items, "upsert")
    assert not result.errors, result.errors


def container(
    name: str, code: str, fill: float, kind: str = "WasteContainer", shift: float = 0.0
) -> dict[str, Any]:
    x, y = inside(code, shift)
    return {
        "id": f"urn:ngsi-ld:{kind}:{name}",
        "type": kind,
        "name": {"type": "Property", "value": name},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [x, y]}},
        "fillingLevel": {"type": "Property", "value": fill},
        "status": {"type": "Property", "value": "ok"},
    }


def set_fill(name: str, fill: float) -> None:
    from alzette.territory.ngsild import entities, jsonld
    from alzette.territory.ngsild.entities import Op

    entities.merge(
        Op(tenant="", ctx=jsonld.core()),
        f"urn:ngsi-ld:WasteContainer:{name}",
        {"fillingLevel": {"type": "Property", "value": fill}},
    )


@pytest.fixture
def bins(territory):
    upsert(
        [
            container("bin-57038-001", AUDUN, 0.2),
            container("bin-57038-002", AUDUN, 0.9, shift=0.0005),
            container("bin-54580-001", VILLERUPT, 0.5),
            container("lamp-1", AUDUN, 0.0, kind="Streetlight"),
        ]
    )


@pytest.fixture(autouse=True)
def _fresh_registry():
    layers.reload()
    yield
    layers.reload()


def by_id(found: list[dict]) -> dict[str, dict]:
    return {f["id"]: f for f in found}


# --- Layers -------------------------------------------------------------------------------


def test_waste_layer_gives_compact_point_features_with_their_commune(bins):
    found = by_id(layers.layers()["waste"].features())
    assert set(found) == {
        "urn:ngsi-ld:WasteContainer:bin-57038-001",
        "urn:ngsi-ld:WasteContainer:bin-57038-002",
        "urn:ngsi-ld:WasteContainer:bin-54580-001",
    }
    one = found["urn:ngsi-ld:WasteContainer:bin-57038-002"]
    assert one["geometry"]["type"] == "Point"
    props = one["properties"]
    assert set(props) == {
        "id",
        "layer",
        "name",
        "theme",
        "value",
        "status",
        "commune",
        "observedAt",
    }
    assert props["value"] == 0.9 and props["status"] == "ok" and props["commune"] == AUDUN
    assert props["name"] == "bin-57038-002" and props["theme"] == "waste"
    assert props["observedAt"].endswith("Z")


def test_commune_filter_keeps_the_commune_only(bins):
    waste = layers.layers()["waste"]
    assert {f["properties"]["commune"] for f in waste.features(AUDUN)} == {AUDUN}
    assert len(waste.features(AUDUN)) == 2 and waste.count(AUDUN) == 2
    assert waste.count() == 3
    assert waste.features("99999") == []


def test_streetlights_are_their_own_layer(bins):
    lamps = layers.layers()["streetlights"].features()
    assert [f["id"] for f in lamps] == ["urn:ngsi-ld:Streetlight:lamp-1"]
    assert lamps[0]["properties"]["theme"] == "lighting"


def test_changes_give_what_changed_since(bins):
    waste = layers.layers()["waste"]
    mark = datetime.now(UTC)
    assert waste.changes(mark + timedelta(seconds=1)) == []
    set_fill("bin-54580-001", 0.75)
    changed = waste.changes(mark)
    assert [f["id"] for f in changed] == ["urn:ngsi-ld:WasteContainer:bin-54580-001"]
    assert changed[0]["properties"]["value"] == 0.75


def test_entity_types_match_whatever_context_expanded_them(bins):
    # The demo's containers are typed with the Smart Data Models context.
    from alzette.territory.ngsild.demo import ensure_demo_context

    demo = ensure_demo_context()
    assert layers.layers()["waste"].count() == 3 + demo


def test_communes_layer(territory):
    found = layers.layers()["communes"].features()
    assert len(found) == 8
    assert {f["geometry"]["type"] for f in found} <= {"Polygon", "MultiPolygon"}
    assert [f["properties"]["commune"] for f in layers.layers()["communes"].features(AUDUN)] == [
        AUDUN
    ]


def _event(status: str = "open", code: str = AUDUN, ref: str = "a" * 64) -> Any:
    from alzette.territory.events.models import TerritoryEvent

    x, y = inside(code)
    event = TerritoryEvent(
        kind="illegal_dumping",
        commune_code=code,
        lon=x,
        lat=y,
        observed_on=timezone.localdate(),
        status=status,
        source_ref=ref,
    )
    event.save(using="territory")
    return event


def test_events_layer_shows_open_events_and_removes_closed_ones(territory):
    event = _event()
    events = layers.layers()["events"]
    assert [f["properties"]["status"] for f in events.features()] == ["open"]
    assert events.features(VILLERUPT) == []
    mark = datetime.now(UTC) - timedelta(seconds=1)
    event.status = "closed"
    event.closed_on = timezone.localdate()
    event.save(using="territory")
    assert events.features() == []
    (gone,) = events.changes(mark)
    assert gone["properties"]["gone"] is True


def test_alerts_layer_places_open_alerts_at_their_entity(bins):
    from alzette.territory.supervision.models import Alert, AlertRule

    rule = AlertRule.objects.using("territory").create(
        name="full",
        entity_type="WasteContainer",
        attribute="fillingLevel",
        kind="threshold",
        operator=">",
        value=0.8,
        created_by="ab" * 16,
        unit="P1",
    )
    mark = datetime.now(UTC) - timedelta(seconds=1)
    alert = Alert.objects.using("territory").create(
        rule=rule,
        entity_id="urn:ngsi-ld:WasteContainer:bin-57038-002",
        message="full",
        fired_at=datetime.now(UTC),
    )
    alerts = layers.layers()["alerts"]
    (one,) = alerts.features()
    assert one["properties"]["commune"] == AUDUN and one["properties"]["status"] == "firing"
    assert [f["id"] for f in alerts.changes(mark)] == [f"alert:{alert.pk}"]
    alert.state, alert.closed_at = "closed", datetime.now(UTC)
    alert.save(using="territory")
    assert alerts.features() == []
    assert alerts.changes(mark)[0]["properties"]["gone"] is True


# --- The registry -------------------------------------------------------------------------


class Broken(Layer):
    slug = "Not A Slug"
    title = "x"
    theme = "waste"


class OtherTheme(EntityLayer):
    slug = "other"
    title = "Other"
    theme = "weather"


@pytest.mark.parametrize(
    "paths",
    [
        ["alzette.territory.hypervision.no_such_module.Layer"],
        ["tests.test_hypervision_layers.inside"],
        ["tests.test_hypervision_layers.Broken"],
        ["tests.test_hypervision_layers.OtherTheme"],
        ["alzette.territory.hypervision.layers.WasteLayer"] * 2,
    ],
)
def test_a_bad_registry_fails_loudly(settings, paths):
    settings.ALZETTE_HYPERVISION_LAYERS = paths
    with pytest.raises(ImproperlyConfigured):
        layers.layers()


def test_the_system_check_reports_a_bad_registry(settings):
    from alzette.territory.hypervision.apps import check_registries

    assert check_registries() == []
    settings.ALZETTE_HYPERVISION_LAYERS = ["tests.test_hypervision_layers.Broken"]
    assert [e.id for e in check_registries()] == ["hypervision.E001"]


def test_the_setting_replaces_the_default_list(settings):
    settings.ALZETTE_HYPERVISION_LAYERS = ["alzette.territory.hypervision.layers.WasteLayer"]
    assert list(layers.layers()) == ["waste"]


# --- features.geojson ---------------------------------------------------------------------


def test_features_geojson_for_an_agent(bins, agent_audun):
    client = Client()
    client.force_login(agent_audun)
    response = client.get(FEATURES, {"layers": ["waste", "streetlights"], "commune": AUDUN})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection" and body["cursor"].endswith("Z")
    assert [layer["slug"] for layer in body["layers"]] == ["waste", "streetlights"]
    assert len(body["features"]) == 3
    assert {f["properties"]["commune"] for f in body["features"]} == {AUDUN}


def test_features_geojson_is_compressed_when_accepted(bins, agent_audun):
    import gzip

    client = Client()
    client.force_login(agent_audun)
    response = client.get(FEATURES, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.content))["type"] == "FeatureCollection"


def test_features_geojson_by_theme(bins, administrator):
    client = Client()
    client.force_login(administrator)
    body = json.loads(client.get(FEATURES, {"theme": "lighting"}).content)
    assert [layer["slug"] for layer in body["layers"]] == ["streetlights"]


@pytest.mark.parametrize(
    "params", [{"commune": "99999"}, {"theme": "weather"}, {"layers": "no-such-layer"}]
)
def test_features_geojson_refuses_bad_filters(bins, agent_audun, params):
    client = Client()
    client.force_login(agent_audun)
    assert client.get(FEATURES, params).status_code == 400


@pytest.mark.parametrize("persona", ["citizen", "partner", None])
def test_features_geojson_is_for_agents_only(bins, persona, request):
    client = Client()
    if persona:
        client.force_login(request.getfixturevalue(persona))
    assert client.get(FEATURES).status_code == 403
