"""Smart Data Models validation: the published examples, and broken entities whose
error names the faulty attribute. No test touches the network: the schemas and
their shared definitions are the package's own copies."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from alzette.territory.smartdatamodels import validation
from alzette.territory.smartdatamodels.validation import ModelError

# The published normalized examples (CC BY 4.0, see the folder's NOTICE.txt).
EXAMPLES = sorted((Path(__file__).parent / "data" / "smart-data-models").glob("*.jsonld"))
# Two published examples break their own schema; the validator must say so.
BROKEN_EXAMPLES = {
    "PhotovoltaicMeasurement": "refPhotovoltaicDevice",  # "Object" instead of "object"
    "Vehicle": "deviceBatteryStatus",  # "Connected", the enum says "connected"
}


def _model(path: Path) -> str:
    return path.name.removesuffix(".example-normalized.jsonld")


def example(entity_type: str) -> dict:
    for path in EXAMPLES:
        if _model(path) == entity_type:
            return json.loads(path.read_text())
    raise LookupError(entity_type)


def test_every_model_of_the_platform_has_its_schema():
    assert len(EXAMPLES) == 22
    assert {_model(path) for path in EXAMPLES} == set(validation.known_types())


@pytest.mark.parametrize("path", EXAMPLES, ids=_model)
def test_published_examples(path):
    entity = json.loads(path.read_text())
    if entity["type"] in BROKEN_EXAMPLES:
        with pytest.raises(ModelError) as raised:
            validation.validate(entity)
        assert raised.value.attribute == BROKEN_EXAMPLES[entity["type"]]
    else:
        validation.validate(entity)


@pytest.mark.parametrize(
    ("entity_type", "attribute", "value"),
    [
        ("WasteContainer", "fillingLevel", 1.7),  # above the maximum 1
        ("WasteContainer", "fillingLevel", "full"),
        ("WasteContainer", "category", ["bin"]),  # not in the enum
        ("Streetlight", "powerState", "dimmed"),
        ("WaterConsumptionObserved", "location", {"type": "Point", "coordinates": [6.0]}),
        ("Device", "ipAddress", ["999.1.1.1"]),
    ],
)
def test_an_error_names_the_attribute(entity_type, attribute, value):
    entity = copy.deepcopy(example(entity_type))
    kind = "GeoProperty" if attribute == "location" else "Property"
    entity[attribute] = {"type": kind, "value": value}
    with pytest.raises(ModelError) as raised:
        validation.validate(entity)
    assert (raised.value.entity_type, raised.value.attribute) == (entity_type, attribute)
    assert attribute in str(raised.value)


def test_key_values_reduction():
    entity = {
        "id": "urn:ngsi-ld:WasteContainer:1",
        "type": "WasteContainer",
        "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
        "fillingLevel": [
            {"type": "Property", "value": 0.4, "datasetId": "urn:a"},
            {"type": "Property", "value": 0.5, "datasetId": "urn:b"},
        ],
        "refWasteContainerIsle": {"type": "Relationship", "object": "urn:ngsi-ld:Isle:1"},
        "name": {"type": "LanguageProperty", "languageMap": {"fr": "Bac", "de": "Tonne"}},
        "dateLastEmptying": {
            "type": "Property",
            "value": {"@type": "DateTime", "@value": "2026-12-01T08:00:00Z"},
        },
    }
    assert validation.key_values(entity) == {
        "id": "urn:ngsi-ld:WasteContainer:1",
        "type": "WasteContainer",
        "fillingLevel": 0.4,
        "refWasteContainerIsle": "urn:ngsi-ld:Isle:1",
        "name": "Bac",
        "dateLastEmptying": "2026-12-01T08:00:00Z",
    }


def test_types_without_a_schema_are_not_checked():
    validation.validate({"id": "urn:x", "type": "SomethingElse", "anything": 1})
    validation.validate({"id": "urn:x"})


def test_no_remote_reference_is_ever_fetched(monkeypatch, tmp_path):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the network was reached")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    validation._validator.cache_clear()
    validation.validate(example("WasteContainer"))
    schema = {"$id": "https://example.org/x.schema.json",
              "$ref": "https://example.org/elsewhere.json"}  # fmt: skip
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    checker = Draft202012Validator(schema, registry=validation._registry())
    with pytest.raises(Unresolvable):
        checker.validate({})


def _mutations(instance: dict):
    yield instance
    for key, value in instance.items():
        if key in ("id", "type"):
            continue
        for wrong in (-1e9, 1e9, "x", 12, None, [], {"type": "Point"}):
            if wrong != value:
                yield {**instance, key: wrong}


@pytest.mark.parametrize("path", EXAMPLES, ids=[_model(p) for p in EXAMPLES])
def test_the_fast_validator_agrees_with_jsonschema(path):
    model = _model(path)
    fast, slow = validation._fast(model), validation._validator(model)
    instance = validation.key_values(example(model))
    base_valid = fast.is_valid(instance)
    for variant in _mutations(instance):
        if fast.is_valid(variant):
            # Never accept what jsonschema refuses.
            assert next(slow.iter_errors(variant), None) is None, variant
            continue
        # A refusal names the attribute that was changed.
        changed = [k for k in variant if variant[k] != instance.get(k)]
        with pytest.raises(validation.ModelError) as refused:
            validation.validate({**variant, "type": model})
        scalar = all(isinstance(variant[k], int | float | str) for k in changed)
        if changed and base_valid and scalar:
            assert refused.value.attribute in changed, (variant, refused.value)


def test_date_times_and_uris_are_checked():
    entity = example("WasteContainer")
    entity["binLoggedTime"] = {"type": "Property", "value": "yesterday"}
    with pytest.raises(validation.ModelError) as refused:
        validation.validate(entity)
    assert refused.value.attribute == "binLoggedTime"
