"""Reading one attribute of a stored (expanded) NGSI-LD body: which attribute (the term
through a context, the default vocabulary, or by local name), which instance (the default
one, datasetId instances), and what its plain value is (Property, Relationship,
GeoProperty, JSON-LD value objects, fully expanded hasValue/hasObject)."""

from __future__ import annotations

from alzette.territory.ngsild import jsonld
from alzette.territory.ngsild import representation as rep
from alzette.territory.ngsild.representation import (
    attribute_value,
    default_instance,
    instance_value,
    local_name,
)

VOCAB = jsonld.DEFAULT_VOCAB
EX = "https://example.org/ns/"
CUSTOM = {"ex": EX, "fill": "ex:fill", "owner": "ex:owner", "label": "ex:label"}
POINT = {"type": "Point", "coordinates": [5.958, 49.474]}
NOW = "2026-12-04T10:00:00.000Z"


def custom() -> jsonld.Context:
    return jsonld.resolve(CUSTOM)


def stored(payload: dict, ctx: jsonld.Context | None = None) -> dict[str, list]:
    """A payload as the store keeps it (what the entity operations write)."""
    return rep.Expander(ctx or jsonld.resolve(None), now=NOW).attributes(payload)


# --- Which attribute -----------------------------------------------------------------------


def test_a_term_through_the_core_context_is_found_under_the_default_vocabulary():
    body = stored({"temperature": {"type": "Property", "value": 21.5}})
    assert set(body) == {VOCAB + "temperature"}
    assert attribute_value(body, "temperature") == 21.5
    assert default_instance(body, "temperature")["type"] == "Property"


def test_a_term_through_a_custom_context():
    body = stored({"fill": {"type": "Property", "value": 0.4}}, custom())
    assert set(body) == {EX + "fill"}
    assert attribute_value(body, "fill", ctx=custom()) == 0.4
    # Without the writer's context the term means another IRI: not found...
    assert attribute_value(body, "fill") is None
    # ...unless any context will do.
    assert attribute_value(body, "fill", by_local_name=True) == 0.4


def test_the_default_vocabulary_is_the_fallback_of_a_custom_context():
    # A client that wrote the entity without the domain's context.
    body = stored({"fill": {"type": "Property", "value": 0.7}})
    assert set(body) == {VOCAB + "fill"}
    assert attribute_value(body, "fill", ctx=custom()) == 0.7


def test_the_context_iri_wins_over_the_default_vocabulary():
    body = {VOCAB + "fill": [{"type": "Property", "value": 0.1}],
            EX + "fill": [{"type": "Property", "value": 0.9}]}  # fmt: skip
    assert attribute_value(body, "fill", ctx=custom()) == 0.9
    assert attribute_value(body, "fill") == 0.1


def test_a_core_term_keeps_its_core_iri_under_any_context():
    body = stored({"location": {"type": "GeoProperty", "value": POINT}}, custom())
    assert attribute_value(body, "location", ctx=custom()) == POINT
    assert attribute_value(body, "location") == POINT


def test_by_local_name_accepts_slash_and_hash_iris():
    body = {
        "https://other.example/vocab#level": [{"type": "Property", "value": 3}],
        "https://another.example/terms/program": [{"type": "Property", "value": "p"}],
    }
    assert attribute_value(body, "level") is None
    assert attribute_value(body, "level", by_local_name=True) == 3
    assert attribute_value(body, "program", by_local_name=True) == "p"
    # Only the whole last segment counts.
    assert attribute_value(body, "gram", by_local_name=True) is None


def test_local_name():
    assert local_name("https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel") == (
        "fillingLevel"
    )
    assert local_name("https://example.org/vocab#level") == "level"
    assert local_name("level") == "level"


def test_an_absent_attribute():
    body = stored({"temperature": {"type": "Property", "value": 21.5}})
    assert default_instance(body, "humidity") is None
    assert attribute_value(body, "humidity") is None
    assert attribute_value(body, "humidity", by_local_name=True, strict=True) is None
    assert attribute_value({}, "humidity", ctx=custom()) is None
    # An attribute stored with no instance at all is absent too.
    assert attribute_value({VOCAB + "humidity": []}, "humidity") is None


# --- Which instance ------------------------------------------------------------------------


def multi() -> dict[str, list]:
    return stored({"temperature": [
        {"type": "Property", "value": 19.0, "datasetId": "urn:ngsi-ld:Dataset:north"},
        {"type": "Property", "value": 21.5},
        {"type": "Property", "value": 23.0, "datasetId": "urn:ngsi-ld:Dataset:south"},
    ]})  # fmt: skip


def test_the_default_instance_is_the_one_without_dataset_id_wherever_it_stands():
    assert attribute_value(multi(), "temperature") == 21.5
    assert "datasetId" not in default_instance(multi(), "temperature")


def test_without_a_default_instance_the_first_one_or_none_when_strict():
    body = multi()
    body[VOCAB + "temperature"] = [i for i in body[VOCAB + "temperature"] if "datasetId" in i]
    assert attribute_value(body, "temperature") == 19.0
    assert default_instance(body, "temperature")["datasetId"] == "urn:ngsi-ld:Dataset:north"
    assert default_instance(body, "temperature", strict=True) is None
    assert attribute_value(body, "temperature", strict=True) is None


def test_the_instance_keeps_its_other_members():
    body = stored({"powerRating": {"type": "Property", "value": 0.15, "unitCode": "KWT",
                                   "observedAt": "2026-12-04T09:00:00Z"}})  # fmt: skip
    instance = default_instance(body, "powerRating")
    assert instance["unitCode"] == "KWT" and instance["observedAt"] == "2026-12-04T09:00:00Z"
    assert instance_value(instance) == 0.15


# --- What value ----------------------------------------------------------------------------


def test_a_relationship_gives_its_object():
    body = stored({"owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
                   "members": {"type": "Relationship",
                               "object": ["urn:ngsi-ld:Bin:1", "urn:ngsi-ld:Bin:2"]}},
                  custom())  # fmt: skip
    assert attribute_value(body, "owner", ctx=custom()) == "urn:ngsi-ld:Person:1"
    assert attribute_value(body, "members", ctx=custom()) == [
        "urn:ngsi-ld:Bin:1", "urn:ngsi-ld:Bin:2"
    ]  # fmt: skip


def test_concise_input_reads_the_same():
    body = stored({"owner": {"object": "urn:ngsi-ld:Person:1"}, "fill": 0.5,
                   "location": POINT}, custom())  # fmt: skip
    assert attribute_value(body, "owner", ctx=custom()) == "urn:ngsi-ld:Person:1"
    assert attribute_value(body, "fill", ctx=custom()) == 0.5
    assert attribute_value(body, "location", ctx=custom()) == POINT
    assert default_instance(body, "location", ctx=custom())["type"] == "GeoProperty"


def test_a_geoproperty_and_a_compound_value_are_given_as_stored():
    address = {"streetAddress": "1 Grand-Rue", "addressLocality": "Audun-le-Tiche"}
    body = stored({"location": {"type": "GeoProperty", "value": POINT},
                   "address": {"type": "Property", "value": address}})  # fmt: skip
    assert attribute_value(body, "location") == POINT
    assert attribute_value(body, "address") == address


def test_a_json_ld_value_object_is_unwrapped():
    typed = {"@type": "DateTime", "@value": "2026-12-04T06:00:00Z"}
    body = stored({"dateLastEmptying": {"type": "Property", "value": typed}})
    assert attribute_value(body, "dateLastEmptying") == "2026-12-04T06:00:00Z"
    # The stored instance is left as it was.
    assert default_instance(body, "dateLastEmptying")["value"] == typed


def test_falsy_values_are_values():
    body = stored({"level": {"type": "Property", "value": 0},
                   "alarm": {"type": "Property", "value": False},
                   "label": {"type": "Property", "value": ""}})  # fmt: skip
    assert attribute_value(body, "level") == 0
    assert attribute_value(body, "alarm") is False
    assert attribute_value(body, "label") == ""


def test_a_list_value_stays_a_list():
    body = stored({"storedWasteKind": {"type": "Property", "value": ["paper"]}})
    assert attribute_value(body, "storedWasteKind") == ["paper"]


def test_fully_expanded_has_value_and_has_object():
    lamps = [{"@id": "urn:ngsi-ld:Streetlight:1"}, {"@id": "urn:ngsi-ld:Streetlight:2"}]
    body = {
        VOCAB + "level": [
            {"@type": ["https://uri.etsi.org/ngsi-ld/Property"], rep.HAS_VALUE: [{"@value": 0.5}]}
        ],
        VOCAB + "group": [{rep.HAS_OBJECT: [{"@id": "urn:ngsi-ld:StreetlightGroup:a"}]}],
        VOCAB + "lamps": [{rep.HAS_OBJECT: lamps}],
    }
    assert attribute_value(body, "level") == 0.5
    assert attribute_value(body, "group") == "urn:ngsi-ld:StreetlightGroup:a"
    assert attribute_value(body, "lamps") == ["urn:ngsi-ld:Streetlight:1",
                                              "urn:ngsi-ld:Streetlight:2"]  # fmt: skip


def test_a_language_property_has_no_plain_value():
    body = stored({"name": {"type": "LanguageProperty",
                            "languageMap": {"fr": "Grand-Rue", "de": "Hauptstrasse"}}})  # fmt: skip
    assert attribute_value(body, "name") is None
    assert default_instance(body, "name")["languageMap"]["fr"] == "Grand-Rue"


def test_instance_value_of_nothing():
    assert instance_value(None) is None
    assert instance_value({"type": "Property"}) is None


def test_a_malformed_body_is_read_without_error():
    # Not what the store writes, but bodies come from other writers too.
    body = {VOCAB + "level": {"type": "Property", "value": 2},
            VOCAB + "junk": ["not an instance", None]}  # fmt: skip
    assert attribute_value(body, "level") == 2
    assert attribute_value(body, "junk") is None
