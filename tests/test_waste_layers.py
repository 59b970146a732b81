"""The waste service's map layers: bins, drop points and skips apart, with fill levels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alzette.territory.hypervision import layers as registry
from alzette.territory.waste.layers import BinsLayer, DropPointsLayer, SkipsLayer
from tests.conftest import ALL_DATABASES
from tests.test_waste_ingest import make_container

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def equipment(territory):
    make_container("bin-57038-001", storedWasteKind="organic", fillingLevel=0.9, name="Bac 1")
    make_container("bin-57038-002", storedWasteKind="organic", fillingLevel=0.2)
    make_container("pav-57038-01-glass", storedWasteKind="glass", fillingLevel=0.5)
    make_container("skip-audun-1", storedWasteKind="metal", fillingLevel=0.1)


def test_each_layer_draws_its_own_containers(equipment):
    bins = BinsLayer().features()
    assert [f["id"] for f in bins] == [
        "urn:ngsi-ld:WasteContainer:bin-57038-001", "urn:ngsi-ld:WasteContainer:bin-57038-002",
    ]  # fmt: skip
    full, half = (f["properties"] for f in bins)
    assert (full["value"], full["status"], full["name"], full["layer"]) == (
        0.9, "full", "Bac 1", "waste-bins",
    )  # fmt: skip
    assert half["status"] == ""
    assert [f["id"] for f in DropPointsLayer().features()] == [
        "urn:ngsi-ld:WasteContainer:pav-57038-01-glass"
    ]
    assert len(SkipsLayer().features()) == 1
    assert BinsLayer().count() == 2
    assert BinsLayer().features(commune="54580") == []


def test_changes_are_the_containers_modified_since(equipment):
    assert len(BinsLayer().changes(timezone.now() - timedelta(minutes=5))) == 2
    assert BinsLayer().changes(timezone.now() + timedelta(minutes=5)) == []


def test_the_layers_pass_the_registry_checks(settings):
    settings.ALZETTE_HYPERVISION_LAYERS = [
        "alzette.territory.waste.layers.BinsLayer",
        "alzette.territory.waste.layers.DropPointsLayer",
        "alzette.territory.waste.layers.SkipsLayer",
    ]
    registry.reload()
    try:
        assert list(registry.layers()) == ["waste-bins", "waste-droppoints", "waste-skips"]
    finally:
        registry.reload()
