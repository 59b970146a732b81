"""Waste services: containers read from the context, fill rates from their history,
the recycling centre's gate and occupancy, pick-up requests, and the demo equipment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alzette.territory.ngsild import entities, store
from alzette.territory.ngsild.entities import Op
from alzette.territory.ngsild.models import DeviceMapping, Entity
from alzette.territory.waste import demo, services
from alzette.territory.waste.models import Centre, CentrePassage, LedgerRecord, PickupRequest
from tests.conftest import ALL_DATABASES
from tests.test_waste_ingest import attribute, make_container

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
AGENT = "0123456789abcdef0123456789abcdef"
#: A point inside Villerupt (54580).
VILLERUPT = [5.9286, 49.4697]


@pytest.fixture
def centre():
    return Centre.objects.using("territory").create(
        slug="audun", name="Déchèterie d'Audun-le-Tiche", lon=5.95, lat=49.47, commune="57038",
        capacity=3, visits_per_year=12,
    )  # fmt: skip


@pytest.fixture
def skip(centre):
    return make_container("skip-audun-1", storedWasteKind="metal", fillingLevel=0.9,
                          storedWasteOrigin="municipal")  # fmt: skip


def append(entity_id: str, level: float, at: datetime) -> None:
    stamp = at.isoformat().replace("+00:00", "Z")
    level_attribute = {"type": "Property", "value": level, "observedAt": stamp}
    entities.append(
        Op(tenant="", ctx=services.context()), entity_id, {"fillingLevel": level_attribute}
    )


# --- Containers ----------------------------------------------------------------------------


def test_containers_are_read_from_the_context_with_their_kind_and_commune(territory, skip):
    make_container("bin-57038-001", storedWasteKind="organic", binCapacity=240, fillingLevel=0.4,
                   name="Audun, bac 1")  # fmt: skip
    make_container("pav-54580-01-glass", storedWasteKind="glass")
    make_container("57038-01", wasteType="paper")  # the first demo's, without a prefix
    entities.create(Op(tenant="", ctx=services.context()), {
        "id": services.entity_id("bin-nowhere-1"), "type": "WasteContainer",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": VILLERUPT}},
    })  # fmt: skip
    found = {c.short_id: c for c in services.containers()}
    assert [(k, c.kind, c.commune) for k, c in sorted(found.items())] == [
        ("57038-01", "droppoint", "57038"),
        ("bin-57038-001", "bin", "57038"),
        ("bin-nowhere-1", "bin", "54580"),  # located by its point
        ("pav-54580-01-glass", "droppoint", "54580"),
        ("skip-audun-1", "skip", "57038"),  # the commune of its centre
    ]
    household = found["bin-57038-001"]
    assert household.id == "urn:ngsi-ld:WasteContainer:bin-57038-001"
    assert (household.filling_level, household.capacity_l) == (0.4, 240.0)
    assert (household.waste_kind, household.name) == ("organic", "Audun, bac 1")
    assert (household.lon, household.lat) == (5.98, 49.47)
    assert [c.short_id for c in services.containers(kind="bin", commune="57038")] == [
        "bin-57038-001"
    ]
    assert [c.short_id for c in services.containers(kind="skip")] == ["skip-audun-1"]
    assert services.containers(commune="99999") == []
    assert services.container("bin-57038-001") == household
    assert services.container("bin-404") is None


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        services.containers(kind="bucket")


def test_fill_rate_sums_the_rises_between_emptyings():
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    eid = make_container("bin-57038-002", storedWasteKind="inorganic")
    for days_ago, level in [(20, 0.9), (3, 0.1), (2, 0.3), (1, 0.5), (0.9, 0.0), (0.4, 0.2)]:
        append(eid, level, now - timedelta(days=days_ago))
    # Rises 0.4 over 2 days, then 0.2 over half a day: 0.6 / 2.5 days (the 20-day-old
    # reading is outside the window).
    assert services.fill_rate_per_day("bin-57038-002", now=now) == pytest.approx(0.24)
    assert services.fill_rate_per_day(eid, now=now) == pytest.approx(0.24)


def test_fill_rate_needs_enough_data():
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    eid = make_container("bin-57038-003", storedWasteKind="inorganic")
    assert services.fill_rate_per_day(eid, now=now) is None
    append(eid, 0.1, now - timedelta(hours=3))
    append(eid, 0.2, now - timedelta(hours=2))
    append(eid, 0.3, now - timedelta(hours=1))
    assert services.fill_rate_per_day(eid, now=now) is None  # three hours say nothing
    assert services.fill_rate_per_day("bin-404", now=now) is None


# --- The recycling centre ------------------------------------------------------------------


def test_occupancy_counts_the_days_allowed_entries_less_the_exits(centre):
    # Local noon, so that "30 minutes ago" is today even when the suite runs past midnight.
    now = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    services.record_passage("audun", "in", True, now - timedelta(minutes=30))
    services.record_passage("audun", "in", True, now - timedelta(minutes=20))
    services.record_passage("audun", "in", False, now - timedelta(minutes=15))  # refused
    services.record_passage("audun", "out", True, now - timedelta(minutes=10))
    services.record_passage("audun", "in", True, now - timedelta(days=2))  # never left: forgotten
    state = services.centre_occupancy("audun")
    assert {k: state[k] for k in ("centre", "inside", "capacity")} == {
        "centre": "audun", "inside": 1, "capacity": 3,
    }  # fmt: skip
    assert state["updated_at"] == CentrePassage.objects.order_by("-at").first().at
    assert state["name"] == centre.name
    [listed] = services.centres()
    assert (listed["slug"], listed["inside"], listed["visits_per_year"]) == ("audun", 1, 12)


def test_exits_never_make_the_occupancy_negative(centre):
    services.record_passage("audun", "out", True, timezone.now())
    assert services.centre_occupancy("audun")["inside"] == 0


def test_bad_passages_are_refused(centre):
    with pytest.raises(ValueError, match="unknown"):
        services.record_passage("nowhere", "in", True, timezone.now())
    with pytest.raises(ValueError, match="direction"):
        services.record_passage("audun", "sideways", True, timezone.now())
    with pytest.raises(ValueError, match="aware"):
        services.record_passage("audun", "in", True, datetime(2026, 1, 1, 9))
    assert not CentrePassage.objects.exists()
    with pytest.raises(Centre.DoesNotExist):
        services.centre_occupancy("nowhere")


# --- Pick-up requests ----------------------------------------------------------------------


def test_a_pickup_is_requested_once_then_done_and_the_skip_emptied(skip):
    request = services.request_pickup("skip-audun-1", AGENT)
    assert (request.status, request.requested_by) == ("requested", AGENT)
    assert request.container_id == skip
    with pytest.raises(ValidationError) as raised:
        services.request_pickup(skip, AGENT)
    assert raised.value.code == "open"
    services.schedule_pickup(request, AGENT)
    done = services.complete_pickup(request, 4200.0, AGENT)
    assert (done.status, done.weight_kg) == ("done", 4200.0)
    assert done.done_at is not None
    assert attribute(skip, "fillingLevel") == 0.0
    assert attribute(skip, "dateLastEmptying") is not None
    kinds = list(LedgerRecord.objects.values_list("kind", "payload__status"))
    assert kinds == [("centre.pickup_requested", s) for s in ("requested", "scheduled", "done")]
    with pytest.raises(ValidationError):
        services.cancel_pickup(done, AGENT)  # closed
    assert services.request_pickup(skip, AGENT).status == "requested"  # a new one may follow


def test_bad_pickups_are_refused(skip):
    with pytest.raises(ValidationError):
        services.request_pickup("skip-audun-9", AGENT)  # no such skip
    with pytest.raises(ValidationError):
        services.request_pickup("bin-57038-001", AGENT)  # not a skip
    request = services.request_pickup(skip, AGENT)
    with pytest.raises(ValidationError):
        services.complete_pickup(request, -5, AGENT)
    request.refresh_from_db()
    assert request.status == "requested"
    assert PickupRequest.objects.count() == 1


# --- Demo ----------------------------------------------------------------------------------


def test_the_demo_equipment_is_created_once_and_fed_by_devices(territory, m2m):
    counts = demo.ensure_demo_waste()
    assert counts == {"bins": 200, "drop_points": 16, "columns": 48, "skips": 6, "centres": 1,
                      "mappings": 3}  # fmt: skip
    total = Entity.objects.count()
    assert demo.ensure_demo_waste() == counts
    assert Entity.objects.count() == total
    assert len(services.containers(kind="bin")) == 200
    assert len(services.containers(kind="droppoint", commune="57038")) == 6
    assert [s.short_id for s in services.skips(Centre.objects.get(slug="audun"))] == [
        f"skip-audun-{n}" for n in range(1, 7)
    ]
    tags = [services.attribute_value(store.get("", c.id).body, "RFID")
            for c in services.containers(kind="bin")]  # fmt: skip
    assert len(set(tags)) == 200
    isle = store.get("", "urn:ngsi-ld:WasteContainerIsle:pav-57038-01")
    assert len(services.attribute_value(isle.body, "refWasteContainer")) == 3
    assert DeviceMapping.objects.filter(name__startswith="waste-").count() == 3
    ae = m2m.register("bin-57038-001")
    m2m.container("alzette/bin-57038-001", "fill", ae["aei"])
    m2m.instance("alzette/bin-57038-001/fill", {"level": 0.66}, ae["aei"])
    assert services.container("bin-57038-001").filling_level == 0.66


def test_containers_written_without_the_waste_context_are_read_too():
    from alzette.territory.ngsild import jsonld

    entities.create(Op(tenant="", ctx=jsonld.core()), {
        "id": "urn:ngsi-ld:WasteContainer:bin-57038-050", "type": "WasteContainer",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": VILLERUPT}},
        "fillingLevel": {"type": "Property", "value": 0.7},
    })  # fmt: skip
    [found] = services.containers(kind="bin")
    assert (found.short_id, found.filling_level, found.commune) == ("bin-57038-050", 0.7, "57038")
