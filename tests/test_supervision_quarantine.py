"""Impossible device messages are quarantined with their reason, never applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alzette.territory.ngsild import mapping
from alzette.territory.ngsild.models import Entity
from alzette.territory.supervision.models import LedgerRecord, QuarantinedMessage
from alzette.territory.supervision.quarantine import quarantine
from tests.conftest import ALL_DATABASES
from tests.ngsild_helpers import NgsiLd

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
LOCATION = {"type": "Point", "coordinates": [5.98, 49.47]}


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ALZETTE_NGSILD_DELIVERY = "worker"
    settings.ALZETTE_ONEM2M_DELIVERY = "worker"


@pytest.fixture
def ld():
    return NgsiLd()


@pytest.fixture
def bins():
    return mapping.define(
        name="bins", container="alzette/bin-*/fill", entity_type="WasteContainer",
        entity_id="urn:ngsi-ld:WasteContainer:{ae}", attribute="fillingLevel",
        value_path="level", unit_code="P1",
    )  # fmt: skip


def _bin(ld, m2m, name: str, *, entity: bool = True) -> str:
    if entity:
        ld.create({"id": f"urn:ngsi-ld:WasteContainer:{name}", "type": "WasteContainer",
                   "location": LOCATION})  # fmt: skip
    ae = m2m.register(name)
    m2m.container(f"alzette/{name}", "fill", ae["aei"])
    return ae["aei"]


def _post(m2m, name: str, aei: str, content) -> None:
    response = m2m.instance(f"alzette/{name}/fill", content, aei)
    assert response.status_code == 201, response.content  # the device is never refused


def _level(ld, name: str) -> float | None:
    entity = ld.entity(f"urn:ngsi-ld:WasteContainer:{name}")
    return entity.get("fillingLevel", {}).get("value")


@pytest.mark.parametrize("level", [-0.2, 1.5])
def test_an_impossible_fill_level_is_quarantined(ld, m2m, bins, level):
    aei = _bin(ld, m2m, "bin-57038-001")
    _post(m2m, "bin-57038-001", aei, {"level": 0.4})
    _post(m2m, "bin-57038-001", aei, {"level": level})
    assert _level(ld, "bin-57038-001") == 0.4
    row = QuarantinedMessage.objects.get()
    assert row.device == "bin-57038-001"
    assert row.path == "alzette/bin-57038-001/fill"
    assert row.kind == "out_of_range"
    assert row.content == {"level": level}
    assert "fillingLevel" in row.reason and "[0, 1]" in row.reason
    # Nor does it appear in the history the temporal API reads from the container.
    history = ld.get("/temporal/entities/urn:ngsi-ld:WasteContainer:bin-57038-001").json()
    assert [i["value"] for i in history["fillingLevel"]] == [0.4]


def test_a_good_message_is_not_quarantined_and_t_is_its_observation_time(ld, m2m, bins):
    aei = _bin(ld, m2m, "bin-57038-002")
    observed = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    _post(m2m, "bin-57038-002", aei, {"level": 0.5, "t": observed.isoformat()})
    entity = ld.entity("urn:ngsi-ld:WasteContainer:bin-57038-002")
    assert entity["fillingLevel"]["value"] == 0.5
    assert entity["fillingLevel"]["observedAt"] == observed.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert not QuarantinedMessage.objects.exists()


def test_an_observation_time_in_the_future_is_quarantined(ld, m2m, bins):
    aei = _bin(ld, m2m, "bin-57038-003")
    soon = datetime.now(UTC) + timedelta(seconds=30)  # within the clock drift allowed
    _post(m2m, "bin-57038-003", aei, {"level": 0.3, "t": soon.isoformat()})
    later = datetime.now(UTC) + timedelta(minutes=10)
    _post(m2m, "bin-57038-003", aei, {"level": 0.6, "t": later.isoformat()})
    assert _level(ld, "bin-57038-003") == 0.3
    row = QuarantinedMessage.objects.get()
    assert row.kind == "future_time"
    assert "after the message arrived" in row.reason


def test_an_unreadable_time_or_content_is_quarantined(ld, m2m, bins):
    aei = _bin(ld, m2m, "bin-57038-004")
    _post(m2m, "bin-57038-004", aei, {"level": 0.3, "t": "yesterday"})
    _post(m2m, "bin-57038-004", aei, {"percent": 30})
    kinds = sorted(QuarantinedMessage.objects.values_list("kind", flat=True))
    assert kinds == ["invalid_time", "unreadable"]
    assert _level(ld, "bin-57038-004") is None


def test_an_unknown_device_is_quarantined_and_no_entity_is_created(ld, m2m, bins):
    aei = _bin(ld, m2m, "bin-57038-999", entity=False)
    _post(m2m, "bin-57038-999", aei, {"level": 0.5})
    assert not Entity.objects.filter(entity_id__endswith="bin-57038-999").exists()
    row = QuarantinedMessage.objects.get()
    assert row.kind == "unknown_device"
    assert "location" in row.reason


def test_the_ledger_hears_of_a_faulty_device_once_an_hour(ld, m2m, bins):
    aei = _bin(ld, m2m, "bin-57038-005")
    for level in (-1, -2, 3):
        _post(m2m, "bin-57038-005", aei, {"level": level})
    assert QuarantinedMessage.objects.count() == 3
    entries = LedgerRecord.objects.filter(kind="device.quarantined")
    assert [e.object_ref for e in entries] == ["device:bin-57038-005"]


def test_quarantine_keeps_any_content():
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    quarantine(device="truck-1", path="alzette/truck-1/lifts", content="not json",
               reason="unknown tag", received_at=at)  # fmt: skip
    quarantine(device="truck 2!", path="alzette/truck/lifts", content=b'{"tag": "x"}',
               reason="unknown tag", kind="no-such-kind")  # fmt: skip
    first, second = QuarantinedMessage.objects.order_by("id")
    assert (first.content, first.kind, first.received_at) == ("not json", "other", at)
    assert second.content == {"tag": "x"} and second.kind == "other"
    # A device name the ledger cannot spell is referenced by its hash.
    refs = list(LedgerRecord.objects.values_list("object_ref", flat=True))
    assert refs[0] == "device:truck-1" and refs[1].startswith("device:") and " " not in refs[1]
