"""The @contexts shipped with the NGSI-LD broker: present, exact where checkable, and
resolved by the PyLD document loader without ever touching the network."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from alzette.territory.ngsild import contexts

EXAMPLES = Path(__file__).parent / "data" / "smart-data-models"
SCHEMAS = Path(contexts.__file__).parent.parent / "smartdatamodels" / "data"
NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
GEOJSON = "https://purl.org/geojson/vocab#"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
RAW = "https://raw.githubusercontent.com/smart-data-models"

#: The Smart Data Models subject (dataModel.<subject>) of each model the platform uses.
MODELS = {
    "ArrivalEstimation": "UrbanMobility",
    "Building": "Building",
    "BuildingOperation": "Building",
    "Device": "Device",
    "DeviceMeasurement": "Device",
    "GreenEnergyGenerator": "GreenEnergy",
    "GreenEnergyMeasurement": "GreenEnergy",
    "GtfsRoute": "UrbanMobility",
    "GtfsStop": "UrbanMobility",
    "GtfsTrip": "UrbanMobility",
    "PhotovoltaicMeasurement": "GreenEnergy",
    "PointOfInterest": "PointOfInterest",
    "Streetlight": "Streetlighting",
    "StreetlightControlCabinet": "Streetlighting",
    "StreetlightGroup": "Streetlighting",
    "ThreePhaseAcMeasurement": "Energy",
    "TrafficFlowObserved": "Transportation",
    "Vehicle": "Transportation",
    "WasteContainer": "WasteManagement",
    "WasteContainerIsle": "WasteManagement",
    "WasteObserved": "WasteManagement",
    "WaterConsumptionObserved": "WaterConsumption",
}

#: Attributes no Smart Data Models context defines (see contexts/NOTICE.txt): they fall
#: in the core context's default vocabulary, as CIM 009 prescribes for undefined terms.
UNDEFINED_UPSTREAM = {
    "Vehicle": {"leasingInfo"},
    "StreetlightGroup": {"refStreetlightCabinetController"},
}


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a @context was fetched from the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _no_lookup(url: str) -> None:
    return None


def _core() -> dict[str, Any]:
    document = contexts.load_bundled(contexts.CORE_CONTEXT_URL)
    assert document is not None
    return document["@context"]


def _examples() -> list[Path]:
    return sorted(EXAMPLES.glob("*.example-normalized.jsonld"))


def _context_urls(document: dict[str, Any]) -> list[str]:
    value = document.get("@context")
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


# -- the files -------------------------------------------------------------------------


def test_every_bundled_file_is_json_with_an_at_context():
    files = {path.resolve() for path in contexts.DIRECTORY.rglob("*.jsonld")}
    served = {path.resolve() for path in contexts.bundled_urls().values()}
    assert files == served, "every shipped file is served, every served file is shipped"
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(document, dict)
        assert isinstance(document.get("@context"), dict), path.name
        assert document["@context"], path.name


def test_bundled_files_stay_small():
    total = sum(path.stat().st_size for path in contexts.DIRECTORY.rglob("*.jsonld"))
    assert total < 3_000_000


def test_every_url_answers_its_file():
    for url, path in contexts.bundled_urls().items():
        assert url.startswith("https://")
        document = contexts.load_bundled(url)
        assert document == json.loads(path.read_text(encoding="utf-8"))
    assert contexts.load_bundled("https://example.org/context.jsonld") is None
    assert contexts.load_bundled(contexts.CORE_CONTEXT_URL + "#") is None


def test_notice_lists_every_file():
    notice = (contexts.DIRECTORY / "NOTICE.txt").read_text(encoding="utf-8")
    for path in contexts.DIRECTORY.rglob("*.jsonld"):
        assert path.name in notice
    assert "CC BY 4.0" in notice


def test_smart_data_models_aliases_share_one_file():
    urls = contexts.bundled_urls()
    for subject in contexts.SDM_SUBJECTS:
        repo = f"dataModel.{subject}"
        paths = {
            urls[f"{RAW}/{repo}/master/context.jsonld"],
            urls[f"{RAW}/{repo}/refs/heads/master/context.jsonld"],
            urls[f"https://smart-data-models.github.io/{repo}/context.jsonld"],
        }
        assert len(paths) == 1
        assert paths.pop().name == f"{repo}.jsonld"
    merged = {
        urls[f"{RAW}/data-models/master/context.jsonld"],
        urls["https://smart-data-models.github.io/data-models/context.jsonld"],
        urls["https://smartdatamodels.org/context.jsonld"],
    }
    assert len(merged) == 1


def test_every_context_url_of_the_examples_is_bundled():
    for path in _examples():
        for url in _context_urls(json.loads(path.read_text(encoding="utf-8"))):
            assert contexts.load_bundled(url) is not None, f"{path.name}: {url}"


# -- the core context ------------------------------------------------------------------


ANNEX_B = {
    # term: (@id, @type, @container); None where the term has none.
    "id": ("@id", None, None),
    "type": ("@type", None, None),
    "value": ("ngsi-ld:hasValue", None, None),
    "object": ("ngsi-ld:hasObject", "@id", None),
    "objects": ("ngsi-ld:hasObjects", None, "@list"),
    "objectList": ("ngsi-ld:hasObjectList", None, "@list"),
    "objectType": ("ngsi-ld:hasObjectType", "@vocab", None),
    "valueList": ("ngsi-ld:hasValueList", None, "@list"),
    "vocab": ("ngsi-ld:hasVocab", "@vocab", None),
    "json": ("ngsi-ld:hasJSON", "@json", None),
    "languageMap": ("ngsi-ld:hasLanguageMap", None, "@language"),
    "dataset": ("ngsi-ld:hasDataset", None, "@index"),
    "Property": ("ngsi-ld:Property", None, None),
    "Relationship": ("ngsi-ld:Relationship", None, None),
    "GeoProperty": ("ngsi-ld:GeoProperty", None, None),
    "LanguageProperty": ("ngsi-ld:LanguageProperty", None, None),
    "JsonProperty": ("ngsi-ld:JsonProperty", None, None),
    "VocabProperty": ("ngsi-ld:VocabProperty", None, None),
    "ListProperty": ("ngsi-ld:ListProperty", None, None),
    "ListRelationship": ("ngsi-ld:ListRelationship", None, None),
    "DateTime": ("ngsi-ld:DateTime", None, None),
    "observedAt": ("ngsi-ld:observedAt", "DateTime", None),
    "createdAt": ("ngsi-ld:createdAt", "DateTime", None),
    "modifiedAt": ("ngsi-ld:modifiedAt", "DateTime", None),
    "deletedAt": ("ngsi-ld:deletedAt", "DateTime", None),
    "unitCode": ("ngsi-ld:unitCode", None, None),
    "datasetId": ("ngsi-ld:datasetId", "@id", None),
    "instanceId": ("ngsi-ld:instanceId", "@id", None),
    "location": ("ngsi-ld:location", None, None),
    "observationSpace": ("ngsi-ld:observationSpace", None, None),
    "operationSpace": ("ngsi-ld:operationSpace", None, None),
    "scope": ("ngsi-ld:scope", None, None),
    "Point": ("geojson:Point", None, None),
    "MultiPoint": ("geojson:MultiPoint", None, None),
    "LineString": ("geojson:LineString", None, None),
    "MultiLineString": ("geojson:MultiLineString", None, None),
    "Polygon": ("geojson:Polygon", None, None),
    "MultiPolygon": ("geojson:MultiPolygon", None, None),
    "GeometryCollection": ("geojson:GeometryCollection", None, None),
    "Feature": ("geojson:Feature", None, None),
    "FeatureCollection": ("geojson:FeatureCollection", None, None),
    "coordinates": ("geojson:coordinates", None, "@list"),
    "bbox": ("geojson:bbox", None, "@list"),
    "features": ("geojson:features", None, "@set"),
    "geometry": ("geojson:geometry", None, None),
    "properties": ("geojson:properties", None, None),
    "description": ("http://purl.org/dc/terms/description", None, None),
    "title": ("http://purl.org/dc/terms/title", None, None),
    "entityMap": ("ngsi-ld:hasEntityMap", None, None),
    "containedBy": ("ngsi-ld:isContainedBy", None, None),
    "joinLevel": ("ngsi-ld:hasJoinLevel", None, None),
    "watchedAttributes": ("ngsi-ld:watchedAttributes", "@vocab", None),
    "notifiedAt": ("ngsi-ld:notifiedAt", "DateTime", None),
    "pick": ("ngsi-ld:pick", None, None),
    "omit": ("ngsi-ld:omit", None, None),
    "jsonKeys": ("ngsi-ld:jsonKeys", None, None),
    "expandValues": ("ngsi-ld:expandValues", None, None),
}


@pytest.mark.parametrize("term", sorted(ANNEX_B))
def test_core_context_defines_the_annex_b_terms(term):
    expected_id, expected_type, expected_container = ANNEX_B[term]
    definition = _core()[term]
    if isinstance(definition, str):
        definition = {"@id": definition}
    assert definition.get("@id") == expected_id
    assert definition.get("@type") == expected_type
    assert definition.get("@container") == expected_container


def test_core_context_header():
    core = _core()
    assert core["@version"] == 1.1
    assert core["@protected"] is True
    assert core["ngsi-ld"] == NGSI_LD
    assert core["geojson"] == GEOJSON
    assert core["@vocab"] == DEFAULT_VOCAB
    assert len([term for term in core if not term.startswith("@")]) == 181


def test_core_context_is_the_v1_8_one_not_v1_9():
    core = _core()
    # V1.8 spells the list of object lists "objectsLists"; V1.9 renamed it objectLists.
    assert core["objectsLists"] == {"@id": "ngsi-ld:hasObjectsLists", "@container": "@list"}
    assert "objectLists" not in core
    assert core["attributeCount"] == "attributeCount"
    for v1_9_term in ("ExecutionResultDetails", "Snapshot", "ngsildproof", "valueType"):
        assert v1_9_term not in core


def test_core_context_names_no_other_context():
    def walk(value: Any) -> None:
        if isinstance(value, dict):
            assert "@context" not in value and "@import" not in value
            for item in value.values():
                walk(item)

    walk(_core())


def test_unversioned_core_url_is_answered_with_its_own_content():
    unversioned = contexts.load_bundled(contexts.UNVERSIONED_CORE_CONTEXT_URL)
    assert unversioned is not None
    terms = unversioned["@context"]
    assert terms != _core()
    assert terms["value"] == NGSI_LD + "hasValue"
    assert terms["name"] == NGSI_LD + "name"
    assert "@protected" not in terms


# -- the document loader ---------------------------------------------------------------


def test_loader_answers_bundled_contexts_as_pyld_expects(monkeypatch):
    _no_network(monkeypatch)
    calls: list[str] = []

    def lookup(url: str) -> None:
        calls.append(url)

    loader = contexts.make_document_loader(lookup)
    answer = loader(contexts.CORE_CONTEXT_URL, {})
    assert answer["documentUrl"] == contexts.CORE_CONTEXT_URL
    assert answer["contextUrl"] is None
    assert answer["document"]["@context"]["value"] == "ngsi-ld:hasValue"
    assert calls == [], "bundled contexts come first"
    # The caller gets a copy: the shared, parsed document is left alone.
    answer["document"]["@context"]["value"] = "changed"
    assert _core()["value"] == "ngsi-ld:hasValue"


def test_loader_asks_lookup_for_other_urls(monkeypatch):
    _no_network(monkeypatch)
    url = "https://example.org/registered.jsonld"
    registered = {"@context": {"fill": "https://example.org/fill"}}
    loader = contexts.make_document_loader(lambda u: registered if u == url else None)
    assert loader(url, {})["document"] == registered
    document = {"@context": [url, contexts.CORE_CONTEXT_URL], "id": "urn:x", "fill": 3}
    expanded = jsonld.expand(document, {"documentLoader": loader})
    assert expanded[0]["https://example.org/fill"] == [{"@value": 3}]


def test_unknown_url_raises_the_loader_error(monkeypatch):
    _no_network(monkeypatch)
    loader = contexts.make_document_loader(_no_lookup)
    url = "https://example.com/unknown-context.jsonld"
    with pytest.raises(contexts.ContextError) as raised:
        loader(url, {})
    assert isinstance(raised.value, jsonld.JsonLdError)
    assert isinstance(raised.value, ValueError)
    assert raised.value.code == "loading remote context failed"
    assert raised.value.url == url

    document = {"@context": [url, contexts.CORE_CONTEXT_URL], "id": "urn:x", "type": "T"}
    with pytest.raises(jsonld.JsonLdError) as raised:
        jsonld.expand(document, {"documentLoader": loader})
    assert raised.value.code == "loading remote context failed"


# -- the Smart Data Models -------------------------------------------------------------


def _default_vocab_keys(expanded: dict[str, Any]) -> set[str]:
    return {key.removeprefix(DEFAULT_VOCAB) for key in expanded if key.startswith(DEFAULT_VOCAB)}


@pytest.mark.parametrize("path", _examples(), ids=lambda path: path.name.split(".")[0])
def test_examples_expand_offline_and_every_attribute_resolves(path, monkeypatch):
    _no_network(monkeypatch)
    model = path.name.split(".")[0]
    document = json.loads(path.read_text(encoding="utf-8"))
    urls = _context_urls(document)
    assert urls
    # As the broker does (CIM 009 §5.5.7): the example's contexts, the core context last.
    document["@context"] = [*urls, contexts.CORE_CONTEXT_URL]
    loader = contexts.make_document_loader(_no_lookup)
    expanded = jsonld.expand(document, {"documentLoader": loader})

    assert len(expanded) == 1
    entity = expanded[0]
    assert entity["@id"] == document["id"]
    assert entity["@type"] == [f"https://smartdatamodels.org/dataModel.{MODELS[model]}/{model}"]
    attributes = [key for key in document if key not in ("@context", "id", "type")]
    expanded_keys = [key for key in entity if key not in ("@id", "@type")]
    # No attribute dropped, none left as a bare term: each became an absolute IRI.
    assert len(expanded_keys) == len(attributes)
    assert all(key.startswith(("https://", "http://", "urn:")) for key in expanded_keys)
    # ... and each by a definition of the contexts, not by the default vocabulary.
    assert _default_vocab_keys(entity) == UNDEFINED_UPSTREAM.get(model, set()) & set(attributes)


def _schema_attributes(schema: dict[str, Any]) -> set[str]:
    documents = {path.name: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}

    def dereference(ref: str) -> Any:
        url, _, pointer = ref.partition("#")
        node = documents[url.rsplit("/", 1)[-1]]
        for part in pointer.strip("/").split("/"):
            node = node[part]
        return node

    found: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and "/properties/" not in ref:
            walk(dereference(ref))
        found.update(node.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for item in node.get(key, []):
                walk(item)

    walk(schema)
    return found


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_schema_attribute_resolves_with_its_subject_context(model, monkeypatch):
    _no_network(monkeypatch)
    schema = json.loads((SCHEMAS / f"{model}.schema.json").read_text(encoding="utf-8"))
    attributes = _schema_attributes(schema) - {"id", "type"}
    assert len(attributes) > 10
    subject = MODELS[model]
    url = f"{RAW}/dataModel.{subject}/master/context.jsonld"
    loader = contexts.make_document_loader(_no_lookup)
    options = {"documentLoader": loader, "base": ""}
    options["contextResolver"] = ContextResolver({}, loader)
    processor = jsonld.JsonLdProcessor()
    active = processor.process_context(
        processor._get_initial_context(options), [url, contexts.CORE_CONTEXT_URL], options
    )
    unresolved = set()
    for term in attributes | {model}:
        iri = processor._expand_iri(active, term, vocab=True)
        assert iri.startswith(("https://", "http://")), term
        if term not in active["mappings"] or iri.startswith(DEFAULT_VOCAB):
            unresolved.add(term)
    assert unresolved == UNDEFINED_UPSTREAM.get(model, set()) & attributes


def test_merged_smart_data_models_context_processes_offline(monkeypatch):
    _no_network(monkeypatch)
    loader = contexts.make_document_loader(_no_lookup)
    document = {
        "@context": ["https://smartdatamodels.org/context.jsonld", contexts.CORE_CONTEXT_URL],
        "id": "urn:ngsi-ld:WasteContainer:1",
        "type": "WasteContainer",
        "fillingLevel": {"type": "Property", "value": 0.5},
    }
    entity = jsonld.expand(document, {"documentLoader": loader})[0]
    assert "fillingLevel" not in entity
    assert any(key.endswith("fillingLevel") for key in entity)
