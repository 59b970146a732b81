"""The platform's Smart Data Models through the NGSI-LD API, with their bundled @contexts."""

from __future__ import annotations

import json
import socket

import pytest

from alzette.territory.ngsild.models import Entity
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd, problem
from tests.test_smartdatamodels import BROKEN_EXAMPLES, EXAMPLES, _model

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
#: Examples the schema accepts but NGSI-LD does not: a Relationship with "value", not "object".
NOT_NGSI_LD = {"GreenEnergyMeasurement": "refGreenEnergyGenerator"}


@pytest.fixture(autouse=True)
def _offline(monkeypatch, settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"

    def refuse(*args, **kwargs):
        raise AssertionError("the broker tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("path", EXAMPLES, ids=[_model(p) for p in EXAMPLES])
def test_published_examples_go_through_the_api(path):
    example = json.loads(path.read_text())
    model = _model(path)
    response = NgsiLd().post("/entities", example, content_type="application/ld+json")
    broken = BROKEN_EXAMPLES.get(model) or NOT_NGSI_LD.get(model)
    if broken:
        assert response.status_code == 400, response.content
        assert response.json()["attribute"] == broken
        assert not Entity.objects.exists()
        return
    assert response.status_code == 201, response.content
    row = Entity.objects.get()
    assert row.types[0].startswith("https://smartdatamodels.org/")
    # Read back with the example's own context: the same names come back.
    context = example["@context"]
    urls = [context] if isinstance(context, str) else context
    url = next(u for u in reversed(urls) if "smart-data-models" in u or "smartdatamodels" in u)
    back = NgsiLd(context=url).entity(example["id"])
    assert back["type"] == model
    sent = {k for k in example if k not in ("@context", "id", "type")}
    assert set(back) - {"id", "type"} == sent


def test_smart_data_model_terms_expand_to_their_vocabulary():
    url = "https://raw.githubusercontent.com/smart-data-models/dataModel.WasteManagement/master/context.jsonld"
    sdm = NgsiLd(context=url)
    response = sdm.post(
        "/entities",
        {
            "id": "urn:ngsi-ld:WasteContainer:audun-1",
            "type": "WasteContainer",
            "fillingLevel": 0.4,
            "location": {"type": "Point", "coordinates": [5.98, 49.47]},
        },
    )
    assert response.status_code == 201, response.content
    row = Entity.objects.get()
    assert row.types == ["https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer"]
    assert "https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel" in row.body
    assert "https://uri.etsi.org/ngsi-ld/location" in row.body
    found = sdm.get("/entities", type="WasteContainer", q="fillingLevel<0.5").json()
    assert [e["id"] for e in found] == ["urn:ngsi-ld:WasteContainer:audun-1"]
    # The same term under the core context alone is another type (default vocabulary).
    assert NgsiLd().get("/entities", type="WasteContainer").json() == []
    bad = sdm.patch(
        "/entities/urn:ngsi-ld:WasteContainer:audun-1/attrs/fillingLevel", {"value": -1}
    )
    assert problem(bad) == "BadRequestData"
    assert bad.json()["attribute"] == "fillingLevel"
