"""NGSI-LD context API over HTTP: entities, attributes, batches, discovery, errors.

Every refusal is a ProblemDetails with the type CIM 009 gives it; a refused
request leaves nothing behind.
"""

from __future__ import annotations

import pytest

from alzette.ledger.models import LedgerEntry
from alzette.territory.ngsild.models import AttributeInstance, Entity
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import CORE, EXAMPLE, NgsiLd, link, problem

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"


@pytest.fixture
def ld():
    return NgsiLd()


@pytest.fixture
def example_url(ld):
    """A user context registered at /jsonldContexts; its URL."""
    response = ld.post("/jsonldContexts", {"@context": EXAMPLE})
    assert response.status_code == 201, response.content
    listed = ld.get("/jsonldContexts").json()
    assert len(listed) == 1
    return listed[0]


@pytest.fixture
def ex(example_url):
    return NgsiLd(context=example_url)


def bin_entity(n: int = 1, fill: float = 0.5, **extra):
    return {
        "id": f"urn:ngsi-ld:Bin:{n}",
        "type": "Bin",
        "fill": {
            "type": "Property",
            "value": fill,
            "unitCode": "P1",
            "observedAt": "2026-12-01T10:00:00Z",
        },
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [6.0, 49.47]},
        },
        **extra,
    }


# --- create and retrieve ---------------------------------------------------------------


def test_create_and_retrieve_with_the_core_context(ld):
    response = ld.post("/entities", bin_entity())
    assert response.status_code == 201
    assert response["Location"] == "/ngsi-ld/v1/entities/urn:ngsi-ld:Bin:1"
    row = Entity.objects.get(entity_id="urn:ngsi-ld:Bin:1")
    assert row.types == ["https://uri.etsi.org/ngsi-ld/default-context/Bin"]
    assert "https://uri.etsi.org/ngsi-ld/location" in row.body
    entity = ld.entity("urn:ngsi-ld:Bin:1")
    assert entity["type"] == "Bin"
    assert entity["fill"] == {
        "type": "Property",
        "value": 0.5,
        "unitCode": "P1",
        "observedAt": "2026-12-01T10:00:00Z",
    }
    assert entity["location"]["value"]["coordinates"] == [6.0, 49.47]
    answer = ld.get("/entities/urn:ngsi-ld:Bin:1")
    assert CORE in answer["Link"]
    assert answer["Content-Type"] == "application/json"


def test_user_context_expands_and_compacts(ex, example_url):
    ex.create(bin_entity())
    row = Entity.objects.get()
    assert row.types == ["https://example.org/ns/Bin"]
    assert "https://example.org/ns/fill" in row.body
    assert ex.entity("urn:ngsi-ld:Bin:1")["fill"]["value"] == 0.5
    # Read with the core context only, the same entity shows full IRIs.
    plain = NgsiLd().entity("urn:ngsi-ld:Bin:1")
    assert plain["type"] == "https://example.org/ns/Bin"
    assert "https://example.org/ns/fill" in plain


def test_ld_json_body_carries_its_context(ld):
    body = {**bin_entity(), "@context": [EXAMPLE, CORE]}
    response = ld.post("/entities", body, content_type="application/ld+json")
    assert response.status_code == 201, response.content
    assert Entity.objects.get().types == ["https://example.org/ns/Bin"]
    answer = ld.request(
        "GET", "/entities/urn:ngsi-ld:Bin:1", headers={"Accept": "application/ld+json"}
    )
    assert answer["Content-Type"] == "application/ld+json"
    assert answer.json()["@context"] == CORE


def test_concise_input_is_normalised(ex):
    ex.create(
        {
            "id": "urn:ngsi-ld:Bin:2",
            "type": "Bin",
            "fill": 0.3,
            "owner": {"object": "urn:ngsi-ld:Person:1"},
            "name": {"languageMap": {"fr": "Bac", "de": "Tonne"}},
            "location": {"type": "Point", "coordinates": [6.1, 49.5]},
        }
    )
    entity = ex.entity("urn:ngsi-ld:Bin:2")
    assert entity["fill"] == {"type": "Property", "value": 0.3}
    assert entity["owner"] == {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}
    assert entity["name"]["type"] == "LanguageProperty"
    assert entity["location"]["type"] == "GeoProperty"


def test_create_twice_is_already_exists(ld):
    ld.create(bin_entity())
    response = ld.post("/entities", bin_entity())
    assert response.status_code == 409
    assert problem(response) == "AlreadyExists"


def test_unknown_entity_is_resource_not_found(ld):
    response = ld.get("/entities/urn:ngsi-ld:Bin:404")
    assert response.status_code == 404
    assert problem(response) == "ResourceNotFound"
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"id": "not a uri", "type": "Bin"}, "BadRequestData"),
        ({"id": "urn:ngsi-ld:Bin:1"}, "BadRequestData"),
        ({"id": "urn:ngsi-ld:Bin:1", "type": 3}, "BadRequestData"),
        (
            {"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": {"type": "Thing", "value": 1}},
            "BadRequestData",
        ),
        (
            {"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": {"type": "Property"}},
            "BadRequestData",
        ),
        ({"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "fill": None}, "BadRequestData"),
        (
            {
                "id": "urn:ngsi-ld:Bin:1",
                "type": "Bin",
                "owner": {"type": "Relationship", "object": "nope"},
            },
            "BadRequestData",
        ),
        (
            {
                "id": "urn:ngsi-ld:Bin:1",
                "type": "Bin",
                "fill": {"type": "Property", "value": 1, "observedAt": "yesterday"},
            },
            "BadRequestData",
        ),
        (
            {
                "id": "urn:ngsi-ld:Bin:1",
                "type": "Bin",
                "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [6]}},
            },
            "BadRequestData",
        ),
        (
            {
                "id": "urn:ngsi-ld:Bin:1",
                "type": "Bin",
                "location": {
                    "type": "GeoProperty",
                    "value": {"type": "Point", "coordinates": [6, 95]},
                },
            },
            "BadRequestData",
        ),
        (
            {
                "id": "urn:ngsi-ld:Bin:1",
                "type": "Bin",
                "location": {
                    "type": "GeoProperty",
                    "value": {
                        "type": "Polygon",
                        "coordinates": [[[6, 49], [6.1, 49], [6.1, 49.1]]],
                    },
                },
            },
            "BadRequestData",
        ),
        ({"id": "urn:ngsi-ld:Bin:1", "type": "Bin", "bad name": 1}, "BadRequestData"),
        (
            {
                "id": "urn:ngsi-ld:Bin:1",
                "type": "Bin",
                "name": {"type": "LanguageProperty", "languageMap": {"fr": 3}},
            },
            "BadRequestData",
        ),
        ([1, 2], "BadRequestData"),
    ],
)
def test_bad_entities_are_refused_and_leave_nothing(ld, body, kind):
    response = ld.post("/entities", body)
    assert response.status_code == 400, response.content
    assert problem(response) == kind
    assert "detail" in response.json()
    assert not Entity.objects.exists()


def test_invalid_json_is_invalid_request(ld):
    response = ld.post("/entities", '{"id": ')
    assert response.status_code == 400
    assert problem(response) == "InvalidRequest"


def test_context_rules_of_the_binding(ld):
    body = {**bin_entity(), "@context": CORE}
    assert problem(ld.post("/entities", body)) == "BadRequestData"  # @context in plain JSON
    response = ld.post("/entities", bin_entity(), content_type="application/ld+json")
    assert problem(response) == "BadRequestData"  # ld+json without @context
    response = ld.post("/entities", bin_entity(), content_type="text/plain")
    assert response.status_code == 415
    response = ld.request("GET", "/entities/urn:ngsi-ld:Bin:1", headers={"Accept": "text/html"})
    assert response.status_code == 406


def test_remote_contexts_are_never_fetched(ld, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the broker tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    remote = NgsiLd(context="https://example.com/unknown-context.jsonld")
    response = remote.post("/entities", bin_entity())
    assert response.status_code == 503
    assert problem(response) == "LdContextNotAvailable"
    assert not Entity.objects.exists()


def test_invalid_inline_context_is_bad_request_data(ld):
    body = {**bin_entity(), "@context": [{"fill": {"@id": 5}}, CORE]}
    response = ld.post("/entities", body, content_type="application/ld+json")
    assert response.status_code == 400
    assert problem(response) == "BadRequestData"


# --- update operations ---------------------------------------------------------------------


def test_replace_entity(ex):
    ex.create(bin_entity())
    response = ex.put(
        "/entities/urn:ngsi-ld:Bin:1",
        {"type": "Bin", "temperature": {"type": "Property", "value": 4}},
    )
    assert response.status_code == 204
    entity = ex.entity("urn:ngsi-ld:Bin:1")
    assert "fill" not in entity
    assert entity["temperature"]["value"] == 4


def test_merge_entity_and_null_deletes(ex):
    ex.create(bin_entity(colour={"type": "Property", "value": "green"}))
    response = ex.patch(
        "/entities/urn:ngsi-ld:Bin:1",
        {"fill": {"type": "Property", "value": 0.9}, "colour": "urn:ngsi-ld:null"},
    )
    assert response.status_code == 204, response.content
    entity = ex.entity("urn:ngsi-ld:Bin:1")
    assert entity["fill"]["value"] == 0.9
    assert "colour" not in entity


def test_merge_with_a_different_id_is_refused(ex):
    ex.create(bin_entity())
    response = ex.patch("/entities/urn:ngsi-ld:Bin:1", {"id": "urn:ngsi-ld:Bin:2", "fill": 1})
    assert problem(response) == "BadRequestData"
    assert ex.entity("urn:ngsi-ld:Bin:1")["fill"]["value"] == 0.5


def test_delete_entity(ex):
    ex.create(bin_entity())
    assert ex.delete("/entities/urn:ngsi-ld:Bin:1").status_code == 204
    assert ex.get("/entities/urn:ngsi-ld:Bin:1").status_code == 404
    assert problem(ex.delete("/entities/urn:ngsi-ld:Bin:1")) == "ResourceNotFound"


def test_append_attributes_with_and_without_overwrite(ex):
    ex.create(bin_entity())
    response = ex.post(
        "/entities/urn:ngsi-ld:Bin:1/attrs",
        {"fill": 0.7, "colour": "blue"},
        params={"options": "noOverwrite"},
    )
    assert response.status_code == 207
    assert response.json()["notUpdated"] == [{"attributeName": "fill", "reason": "exists"}]
    assert response.json()["updated"] == ["colour"]
    assert ex.entity("urn:ngsi-ld:Bin:1")["fill"]["value"] == 0.5
    response = ex.post("/entities/urn:ngsi-ld:Bin:1/attrs", {"fill": 0.7})
    assert response.status_code == 204
    assert ex.entity("urn:ngsi-ld:Bin:1")["fill"]["value"] == 0.7


def test_update_attributes_reports_missing_ones(ex):
    ex.create(bin_entity())
    response = ex.patch("/entities/urn:ngsi-ld:Bin:1/attrs", {"fill": 0.2, "colour": "red"})
    assert response.status_code == 207
    body = response.json()
    assert body["updated"] == ["fill"]
    assert body["notUpdated"][0]["attributeName"] == "colour"
    assert "colour" not in ex.entity("urn:ngsi-ld:Bin:1")


def test_partial_attribute_update_keeps_the_rest(ex):
    ex.create(bin_entity())
    response = ex.patch("/entities/urn:ngsi-ld:Bin:1/attrs/fill", {"value": 0.95})
    assert response.status_code == 204, response.content
    fill = ex.entity("urn:ngsi-ld:Bin:1")["fill"]
    assert fill["value"] == 0.95
    assert fill["unitCode"] == "P1"
    missing = ex.patch("/entities/urn:ngsi-ld:Bin:1/attrs/colour", {"value": 1})
    assert problem(missing) == "ResourceNotFound"


def test_replace_attribute(ex):
    ex.create(bin_entity())
    response = ex.put("/entities/urn:ngsi-ld:Bin:1/attrs/fill", {"type": "Property", "value": 0.1})
    assert response.status_code == 204
    assert ex.entity("urn:ngsi-ld:Bin:1")["fill"] == {"type": "Property", "value": 0.1}


def test_multi_attributes_by_dataset_id(ex):
    ex.create(
        {
            "id": "urn:ngsi-ld:Bin:1",
            "type": "Bin",
            "temperature": [
                {"type": "Property", "value": 4},
                {"type": "Property", "value": 20, "datasetId": "urn:ngsi-ld:Dataset:outside"},
            ],
        }
    )
    temperature = ex.entity("urn:ngsi-ld:Bin:1")["temperature"]
    assert len(temperature) == 2
    response = ex.delete(
        "/entities/urn:ngsi-ld:Bin:1/attrs/temperature", datasetId="urn:ngsi-ld:Dataset:outside"
    )
    assert response.status_code == 204
    assert ex.entity("urn:ngsi-ld:Bin:1")["temperature"] == {"type": "Property", "value": 4}
    duplicate = ex.post(
        "/entities/urn:ngsi-ld:Bin:1/attrs",
        {"temperature": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}]},
    )
    assert problem(duplicate) == "BadRequestData"


def test_delete_attribute(ex):
    ex.create(bin_entity())
    assert ex.delete("/entities/urn:ngsi-ld:Bin:1/attrs/fill").status_code == 204
    assert "fill" not in ex.entity("urn:ngsi-ld:Bin:1")
    assert problem(ex.delete("/entities/urn:ngsi-ld:Bin:1/attrs/fill")) == "ResourceNotFound"


# --- representations ----------------------------------------------------------------------


def test_key_values_concise_and_sys_attrs(ex):
    ex.create(bin_entity(owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}))
    kv = ex.entity("urn:ngsi-ld:Bin:1", options="keyValues")
    assert kv["fill"] == 0.5
    assert kv["owner"] == "urn:ngsi-ld:Person:1"
    assert ex.entity("urn:ngsi-ld:Bin:1", format="simplified")["fill"] == 0.5
    concise = ex.entity("urn:ngsi-ld:Bin:1", format="concise")
    assert concise["fill"] == {"value": 0.5, "unitCode": "P1", "observedAt": "2026-12-01T10:00:00Z"}
    assert concise["owner"] == {"object": "urn:ngsi-ld:Person:1"}
    sys = ex.entity("urn:ngsi-ld:Bin:1", options="sysAttrs")
    assert sys["createdAt"].endswith("Z")
    assert "modifiedAt" in sys["fill"]
    assert problem(ex.get("/entities/urn:ngsi-ld:Bin:1", options="bogus")) == "BadRequestData"


def test_attrs_pick_and_omit(ex):
    ex.create(bin_entity(colour="red"))
    assert set(ex.entity("urn:ngsi-ld:Bin:1", attrs="fill")) == {"id", "type", "fill"}
    assert set(ex.entity("urn:ngsi-ld:Bin:1", pick="id,colour")) == {"id", "colour"}
    assert "colour" not in ex.entity("urn:ngsi-ld:Bin:1", omit="colour")
    both = ex.get("/entities/urn:ngsi-ld:Bin:1", pick="id", omit="type")
    assert problem(both) == "BadRequestData"


def test_language_property_with_lang(ex):
    ex.create(
        {
            "id": "urn:ngsi-ld:Bin:1",
            "type": "Bin",
            "name": {"type": "LanguageProperty", "languageMap": {"fr": "Bac", "de": "Tonne"}},
        }
    )
    german = ex.entity("urn:ngsi-ld:Bin:1", lang="de")["name"]
    assert german == {"type": "Property", "value": "Tonne", "lang": "de"}
    assert ex.entity("urn:ngsi-ld:Bin:1", lang="pt", options="keyValues")["name"] in (
        "Bac",
        "Tonne",
    )
    assert ex.entity("urn:ngsi-ld:Bin:1")["name"]["languageMap"]["fr"] == "Bac"


def test_geojson_representation(ex):
    ex.create(bin_entity())
    response = ex.request(
        "GET", "/entities/urn:ngsi-ld:Bin:1", headers={"Accept": "application/geo+json"}
    )
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["fill"]["value"] == 0.5


# --- batch operations ----------------------------------------------------------------------


def test_batch_create_with_partial_failure(ex):
    ex.create(bin_entity(1))
    response = ex.post(
        "/entityOperations/create", [bin_entity(1), bin_entity(2), {"id": "bad", "type": "Bin"}]
    )
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == ["urn:ngsi-ld:Bin:2"]
    assert {e["entityId"] for e in body["errors"]} == {"urn:ngsi-ld:Bin:1", "bad"}
    assert body["errors"][0]["error"]["type"].endswith("AlreadyExists")
    all_ok = ex.post("/entityOperations/create", [bin_entity(3), bin_entity(4)])
    assert all_ok.status_code == 201
    assert all_ok.json() == ["urn:ngsi-ld:Bin:3", "urn:ngsi-ld:Bin:4"]


def test_batch_upsert_update_and_replace(ex):
    ex.create(bin_entity(1, colour="red"))
    created = ex.post("/entityOperations/upsert", [bin_entity(1, fill=0.9), bin_entity(2)])
    assert created.status_code == 201
    assert created.json() == ["urn:ngsi-ld:Bin:2"]
    assert ex.entity("urn:ngsi-ld:Bin:1")["colour"]["value"] == "red"  # update keeps the rest
    assert ex.entity("urn:ngsi-ld:Bin:1")["fill"]["value"] == 0.9
    replaced = ex.post(
        "/entityOperations/upsert", [bin_entity(1, fill=0.1)], params={"options": "replace"}
    )
    assert replaced.status_code == 204
    assert "colour" not in ex.entity("urn:ngsi-ld:Bin:1")


def test_batch_update_merge_and_delete(ex):
    ex.post("/entityOperations/create", [bin_entity(1), bin_entity(2)])
    update = ex.post(
        "/entityOperations/update",
        [{"id": "urn:ngsi-ld:Bin:1", "fill": 0.6}, {"id": "urn:ngsi-ld:Bin:9", "fill": 0.6}],
    )
    assert update.status_code == 207
    assert update.json()["success"] == ["urn:ngsi-ld:Bin:1"]
    merge = ex.post("/entityOperations/merge", [{"id": "urn:ngsi-ld:Bin:2", "colour": "grey"}])
    assert merge.status_code == 204
    assert ex.entity("urn:ngsi-ld:Bin:2")["colour"]["value"] == "grey"
    delete = ex.post("/entityOperations/delete", ["urn:ngsi-ld:Bin:1", "urn:ngsi-ld:Bin:404"])
    assert delete.status_code == 207
    assert delete.json()["success"] == ["urn:ngsi-ld:Bin:1"]
    assert Entity.objects.count() == 1


def test_batch_query(ex):
    ex.post("/entityOperations/create", [bin_entity(1, fill=0.2), bin_entity(2, fill=0.9)])
    response = ex.post(
        "/entityOperations/query", {"type": "Query", "entities": [{"type": "Bin"}], "q": "fill>0.5"}
    )
    assert response.status_code == 200, response.content
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:Bin:2"]
    assert problem(ex.post("/entityOperations/query", {"type": "Nope"})) == "BadRequestData"


@pytest.mark.parametrize("payload", [{}, [], '"x"', [1] * 1001])
def test_bad_batches(ex, payload):
    response = ex.post("/entityOperations/upsert", payload)
    assert response.status_code == 400
    assert problem(response) == "BadRequestData"


# --- tenants, keys, ledger ---------------------------------------------------------------


def test_tenants_are_separate(ld):
    audun = NgsiLd(tenant="audun")
    audun.create(bin_entity())
    assert audun.get("/entities/urn:ngsi-ld:Bin:1").status_code == 200
    assert audun.get("/entities/urn:ngsi-ld:Bin:1")["NGSILD-Tenant"] == "audun"
    assert ld.get("/entities/urn:ngsi-ld:Bin:1").status_code == 404
    unknown = NgsiLd(tenant="nowhere").get("/entities", type="Bin")
    assert unknown.status_code == 404
    assert problem(unknown) == "NonexistentTenant"
    assert problem(NgsiLd(tenant="bad tenant!").get("/entities", type="Bin")) == "BadRequestData"


def test_writes_need_a_key_outside_development(ld, settings):
    from alzette.territory.ngsild import security

    settings.ALZETTE_NGSILD_OPEN = False
    assert ld.post("/entities", bin_entity()).status_code == 401
    _, key = security.issue("Syndicat des eaux", ["water"])
    wrong_tenant = NgsiLd(key=key)
    assert wrong_tenant.post("/entities", bin_entity()).status_code == 403
    writer = NgsiLd(key=key, tenant="water")
    assert writer.post("/entities", bin_entity()).status_code == 201
    _, reader_key = security.issue("Reuser", ["water"], can_write=False)
    reader = NgsiLd(key=reader_key, tenant="water")
    assert reader.post("/entities", bin_entity(2)).status_code == 403
    assert reader.get("/entities/urn:ngsi-ld:Bin:1").status_code == 200
    assert NgsiLd(key="ngsild_x_y").get("/entities", type="Bin").status_code == 401
    prefix = key.split("_")[1]
    security.revoke(prefix)
    assert writer.post("/entities", bin_entity(3)).status_code == 401


def test_reads_can_be_closed(ld, settings):
    settings.ALZETTE_NGSILD_OPEN = False
    settings.ALZETTE_NGSILD_PUBLIC_READ = False
    response = ld.get("/entities", type="Bin")
    assert response.status_code == 401


def test_creations_and_deletions_are_in_the_ledger(ld):
    ld.create(bin_entity())
    ld.delete("/entities/urn:ngsi-ld:Bin:1")
    kinds = list(LedgerEntry.objects.order_by("index").values_list("kind", flat=True))
    assert kinds[-2:] == ["entity.created", "entity.deleted"]


def test_history_is_written_for_each_change(ex):
    ex.create(bin_entity())
    ex.post("/entities/urn:ngsi-ld:Bin:1/attrs", {"fill": 0.8})
    values = list(
        AttributeInstance.objects.filter(attribute="https://example.org/ns/fill")
        .order_by("id")
        .values_list("number", flat=True)
    )
    assert values == [0.5, 0.8]


# --- discovery ---------------------------------------------------------------------------


def test_types_and_attributes(ex):
    ex.create(bin_entity(1, owner={"object": "urn:ngsi-ld:Person:1"}))
    ex.create(bin_entity(2))
    types = ex.get("/types").json()
    assert types["type"] == "EntityTypeList"
    assert types["typeList"] == ["Bin"]
    detailed = ex.get("/types", details="true").json()
    assert detailed[0]["typeName"] == "Bin"
    assert set(detailed[0]["attributeNames"]) == {"fill", "location", "owner"}
    info = ex.get("/types/Bin").json()
    assert info["entityCount"] == 2
    kinds = {a["attributeName"]: a["attributeTypes"] for a in info["attributeDetails"]}
    assert kinds["owner"] == ["Relationship"]
    assert kinds["location"] == ["GeoProperty"]
    attributes = ex.get("/attributes").json()
    assert set(attributes["attributeList"]) == {"fill", "location", "owner"}
    fill = ex.get("/attributes/fill").json()
    assert fill["attributeCount"] == 2
    assert fill["typeNames"] == ["Bin"]
    assert problem(ex.get("/types/Nothing")) == "ResourceNotFound"
    assert problem(ex.get("/attributes/nothing")) == "ResourceNotFound"


# --- contexts ---------------------------------------------------------------------------------


def test_jsonld_contexts_lifecycle(ld, example_url):
    context_id = example_url.rsplit("/", 1)[-1]
    assert ld.get(f"/jsonldContexts/{context_id}").json() == {"@context": EXAMPLE}
    details = ld.get(f"/jsonldContexts/{context_id}", details="true").json()
    assert details["kind"] == "Hosted"
    assert problem(ld.post("/jsonldContexts", {"no": "context"})) == "BadRequestData"
    assert ld.delete(f"/jsonldContexts/{context_id}").status_code == 204
    assert problem(ld.get(f"/jsonldContexts/{context_id}")) == "ResourceNotFound"
    gone = NgsiLd(context=example_url).post("/entities", bin_entity())
    assert problem(gone) == "LdContextNotAvailable"


def test_a_published_context_can_be_cached_under_its_url(ld):
    url = "https://example.org/contexts/bins.jsonld"
    response = ld.post("/jsonldContexts", {"@context": EXAMPLE}, params={"url": url})
    assert response.status_code == 201
    NgsiLd(context=url).create(bin_entity())
    assert Entity.objects.get().types == ["https://example.org/ns/Bin"]
    again = ld.post("/jsonldContexts", {"@context": EXAMPLE}, params={"url": url})
    assert problem(again) == "AlreadyExists"


def test_a_link_header_names_one_context(ld):
    response = ld.request(
        "GET", "/entities", headers={"Link": link(CORE) + ", " + link(CORE)}, params={"type": "Bin"}
    )
    assert problem(response) == "BadRequestData"
